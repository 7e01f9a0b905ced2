using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Commands;

/// <summary><c>keys create | list | revoke</c>: API keys, with an admin key.</summary>
public static class KeyCommands
{
    public static async Task<int> CreateAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var parsed = context.Parsed;
        var tenant = parsed.Get("tenant") ?? throw new UsageException("--tenant is required", parsed.Command);
        var role = parsed.Get("role") switch
        {
            null or "client" => KeyRole.Client,
            "admin" => KeyRole.Admin,
            var other => throw new UsageException($"--role must be client or admin, got '{other}'", parsed.Command),
        };
        var response = await context.Coordinator.Keys.CreateKeyAsync(new CreateKeyRequest { Tenant = tenant, Role = role }, cancellationToken: cancellationToken);
        if (context.Json)
        {
            JsonLines.Write(context.Output, response);
        }
        else
        {
            // The key alone on stdout (KEY=$(videogen keys create ...)); what it is on stderr.
            context.Output.WriteLine(response.Key);
            context.Errors.WriteLine($"{response.Info.KeyId}: {Names.Of(response.Info.Role)} key of tenant {response.Info.Tenant}; shown once, store it now");
        }

        return ExitCodes.Ok;
    }

    public static async Task<int> ListAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Keys.ListKeysAsync(new ListKeysRequest { IncludeRevoked = context.Parsed.Has("all") }, cancellationToken: cancellationToken);
        if (context.Json)
        {
            JsonLines.Write(context.Output, response);
        }
        else
        {
            context.Output.Write(response.Keys.Count == 0 ? "no keys\n" : Tables.Keys(response.Keys));
        }

        return ExitCodes.Ok;
    }

    public static async Task<int> RevokeAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Keys.RevokeKeyAsync(new RevokeKeyRequest { KeyId = context.Parsed.Positional(0) }, cancellationToken: cancellationToken);
        if (context.Json)
        {
            JsonLines.Write(context.Output, response);
        }
        else
        {
            context.Output.WriteLine($"{response.Info.KeyId} revoked");
        }

        return ExitCodes.Ok;
    }
}
