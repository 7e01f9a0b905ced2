using System.Security.Cryptography;
using System.Text;

namespace VideoGen.Security;

/// <summary>
/// The farm's worker token: a shared secret that admits a worker to the coordinator (join, heartbeat, leave) and
/// the coordinator to a worker (RunTask, CancelTask, drain, status). Sent as <c>authorization: Bearer TOKEN</c>
/// metadata; compared in constant time (SHA-256 of both sides, so neither length nor prefix leaks). Configured as
/// <c>Coordinator:WorkerToken</c> / <c>Worker:Token</c> or, for both, the environment variable
/// <see cref="EnvironmentVariable"/> (how <c>videogen farm up</c> hands a fresh token to the processes it starts:
/// never on a command line, where <c>ps</c> shows it).
/// </summary>
public static class WorkerToken
{
    /// <summary>The metadata key (gRPC metadata keys are lower case).</summary>
    public const string Header = "authorization";

    /// <summary>Where a process finds the token when its configuration names none.</summary>
    public const string EnvironmentVariable = "VIDEOGEN_WORKER_TOKEN";

    /// <summary>The shortest token accepted: 16 characters (a generated one has 43).</summary>
    public const int MinimumLength = 16;

    /// <summary>The configured token, else the environment's, else "" (no token: admission is open).</summary>
    public static string Resolve(string? configured) =>
        !string.IsNullOrWhiteSpace(configured) ? configured.Trim() : Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim() ?? "";

    /// <summary>A new random token: 32 bytes, base64url (43 characters).</summary>
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The header value for <paramref name="token"/>.</summary>
    public static string HeaderValue(string token) => "Bearer " + token;

    /// <summary>True when <paramref name="headerValue"/> is <c>Bearer</c> followed by <paramref name="expected"/>; false for a missing or malformed header.</summary>
    public static bool Matches(string? headerValue, string expected)
    {
        const string scheme = "Bearer ";
        if (headerValue is null || !headerValue.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || expected.Length == 0)
        {
            return false;
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(headerValue[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }
}
