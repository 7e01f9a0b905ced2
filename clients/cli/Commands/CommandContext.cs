using VideoGen.Cli.Client;

namespace VideoGen.Cli.Commands;

/// <summary>What a command runs with: its parsed line, the output streams and the coordinator.</summary>
public sealed class CommandContext(ParsedCommand parsed, TextWriter output, TextWriter errors, bool interactive, TimeProvider time)
    : IDisposable
{
    private CoordinatorConnection? _connection;

    public ParsedCommand Parsed { get; } = parsed;
    public TextWriter Output { get; } = output;
    public TextWriter Errors { get; } = errors;
    public TimeProvider Time { get; } = time;
    public bool Json => Parsed.Json;

    /// <summary>True when stdout is a terminal and JSON was not asked for: live progress bars.</summary>
    public bool Live => interactive && !Json;

    public string CoordinatorAddress { get; } = CoordinatorConnection.Normalize(CoordinatorConnection.ResolveAddress(
        parsed.Get(CommandCatalog.Coordinator.Name), Environment.GetEnvironmentVariable(CoordinatorConnection.AddressVariable)));

    /// <summary>--api-key, $VIDEOGEN_API_KEY, or the key a local farm stored for this coordinator; null when none.</summary>
    public string? ApiKey => Credentials.Resolve(
        Parsed.Get(CommandCatalog.ApiKey.Name), Environment.GetEnvironmentVariable(Credentials.KeyVariable), CoordinatorAddress, Credentials.ConfigDirectory());

    public CoordinatorConnection Coordinator => _connection ??= new CoordinatorConnection(CoordinatorAddress, ApiKey);

    public void Dispose() => _connection?.Dispose();
}
