using Grpc.Core;
using Microsoft.Extensions.Options;

namespace VideoGen.Coordinator.Access;

/// <summary>
/// Turns a call's <c>authorization: Bearer KEY</c> into a <see cref="Caller"/>: the bootstrap admin key
/// from configuration, or a stored key found by its SHA-256 hash. Messages never quote the key.
/// </summary>
public sealed partial class ApiKeyAuthenticator
{
    private const string BootstrapKeyId = "bootstrap";

    private readonly IApiKeyStore _store;
    private readonly AuthOptions _options;
    private readonly string? _bootstrapHash;
    private readonly ILogger<ApiKeyAuthenticator> _log;

    public ApiKeyAuthenticator(IApiKeyStore store, IOptions<AuthOptions> options, ILogger<ApiKeyAuthenticator> log)
    {
        _store = store;
        _options = options.Value;
        _log = log;
        var bootstrap = _options.LoadBootstrapKey();
        _bootstrapHash = bootstrap is null ? null : ApiKeyMaterial.Hash(bootstrap);
        if (_options.IsDisabled)
        {
            LogDisabled(log);
        }
        else if (_bootstrapHash is null)
        {
            LogNoBootstrapKey(log);
        }
    }

    public bool Disabled => _options.IsDisabled;

    /// <summary>The caller of a call with these headers; UNAUTHENTICATED without a valid key.</summary>
    public Caller Authenticate(Metadata headers, string method)
    {
        if (_options.IsDisabled)
        {
            return Caller.Unauthenticated;
        }

        var key = BearerToken(headers);
        if (key is null)
        {
            LogRefused(_log, method, "no API key");
            throw new RpcException(new Status(StatusCode.Unauthenticated, "an API key is required: send the metadata 'authorization: Bearer KEY' (videogen --api-key or $VIDEOGEN_API_KEY)"));
        }

        var hash = ApiKeyMaterial.Hash(key);
        if (_bootstrapHash is not null && ApiKeyMaterial.HashesEqual(hash, _bootstrapHash))
        {
            return new Caller(BootstrapKeyId, _options.BootstrapAdminTenant, IsAdmin: true);
        }

        // Looked up by its hash (an index); compared again in constant time, so no timing tells how much of it matched.
        var stored = _store.FindKeyByHash(hash);
        if (stored is null || stored.RevokedAt is not null || !ApiKeyMaterial.HashesEqual(stored.Hash, hash))
        {
            LogRefused(_log, method, stored is null ? "unknown API key" : "revoked API key " + stored.KeyId);
            throw new RpcException(new Status(StatusCode.Unauthenticated, "the API key is not valid (unknown or revoked)"));
        }

        return new Caller(stored.KeyId, stored.Tenant, stored.Role == KeyRoles.Admin);
    }

    /// <summary>The token of "Bearer TOKEN" (scheme case-insensitive); null when absent or another scheme.</summary>
    public static string? BearerToken(Metadata headers)
    {
        foreach (var entry in headers)
        {
            if (!entry.IsBinary && string.Equals(entry.Key, "authorization", StringComparison.OrdinalIgnoreCase))
            {
                var value = entry.Value.Trim();
                const string scheme = "Bearer ";
                if (value.Length > scheme.Length && value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
                {
                    var token = value[scheme.Length..].Trim();
                    return token.Length is > 0 and <= 512 ? token : null;
                }

                return null;
            }
        }

        return null;
    }

    [LoggerMessage(1, LogLevel.Warning, "Coordinator:Auth:Mode=disabled: every caller of the job API is an admin; use only on a closed network")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(2, LogLevel.Information, "no bootstrap admin key configured (Coordinator:Auth:BootstrapAdminKey or BootstrapAdminKeyFile): only stored keys are accepted")]
    private static partial void LogNoBootstrapKey(ILogger logger);

    [LoggerMessage(3, LogLevel.Information, "refused {Method}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string reason);
}
