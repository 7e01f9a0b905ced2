using Grpc.Core;

namespace VideoGen.Coordinator.Access;

/// <summary>Who is calling, as the API key says: set by <see cref="ApiKeyInterceptor"/> on every authenticated call.</summary>
/// <param name="KeyId">The key's public id ("bootstrap" for the configured admin key, "" with auth disabled); safe to log.</param>
/// <param name="Tenant">The key's tenant.</param>
/// <param name="IsAdmin">Whether the key's role is admin.</param>
public sealed record Caller(string KeyId, string Tenant, bool IsAdmin)
{
    private const string UserStateKey = "videogen.caller";

    /// <summary>The caller with authentication disabled: an admin of the default tenant.</summary>
    public static readonly Caller Unauthenticated = new("", "default", IsAdmin: true);

    /// <summary>Whether this caller may see <paramref name="tenant"/>'s jobs.</summary>
    public bool Sees(string tenant) => IsAdmin || string.Equals(Tenant, tenant, StringComparison.Ordinal);

    public void AttachTo(ServerCallContext context) => context.UserState[UserStateKey] = this;

    /// <summary>The call's caller; a call that no interceptor authenticated is refused (fail closed).</summary>
    public static Caller Of(ServerCallContext context) =>
        context.UserState.TryGetValue(UserStateKey, out var caller) && caller is Caller c
            ? c
            : throw new RpcException(new Status(StatusCode.Unauthenticated, "the call was not authenticated"));
}
