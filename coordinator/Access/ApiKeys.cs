using System.Security.Cryptography;
using System.Text;

namespace VideoGen.Coordinator.Access;

/// <summary>The two roles of an API key.</summary>
public static class KeyRoles
{
    public const string Client = "client";
    public const string Admin = "admin";
}

/// <summary>A stored API key: its hash, never the key.</summary>
/// <param name="KeyId">Public id ("key-" and 12 hex digits).</param>
/// <param name="Hash">Lower-case hex SHA-256 of the key's UTF-8 bytes.</param>
/// <param name="Tenant">The tenant of the key's jobs.</param>
/// <param name="Role"><see cref="KeyRoles.Client"/> or <see cref="KeyRoles.Admin"/>.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="RevokedAt">When it was revoked; null while valid.</param>
public sealed record ApiKeyRecord(string KeyId, string Hash, string Tenant, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// API keys in the coordinator's database (the job store's SQLite file or PostgreSQL database). Any thread.
/// </summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key; its id and hash are unique.</summary>
    void AddKey(ApiKeyRecord key);

    /// <summary>The key with this hash, revoked or not; null when none.</summary>
    ApiKeyRecord? FindKeyByHash(string hash);

    /// <summary>Every key, newest first; revoked ones only when asked.</summary>
    IReadOnlyList<ApiKeyRecord> ListKeys(bool includeRevoked);

    /// <summary>Marks the key revoked at <paramref name="at"/> (a revoked key keeps its first time); null when unknown.</summary>
    ApiKeyRecord? RevokeKey(string keyId, DateTimeOffset at);
}

/// <summary>Making and hashing keys.</summary>
public static class ApiKeyMaterial
{
    /// <summary>Prefix of every key: makes a leaked key easy to recognise in a scan.</summary>
    public const string Prefix = "vg_";

    /// <summary>A new key: "vg_" and 32 random bytes as base64url (256 bits; a plain hash is enough to store it).</summary>
    public static string NewKey() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A new public key id: "key-" and 12 random hex digits.</summary>
    public static string NewKeyId() => "key-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>Lower-case hex SHA-256 of the key's UTF-8 bytes.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Compares two hashes in time independent of where they differ.</summary>
    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
