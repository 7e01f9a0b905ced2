using Microsoft.Data.Sqlite;
using VideoGen.Coordinator.Access;

namespace VideoGen.Coordinator.Persistence;

// API keys, in the same file as the jobs: one database to back up. Written outside the orchestrator's loop
// (keys are not job state), on their own pooled connection; SQLite serialises the writers.
public sealed partial class SqliteJobStore
{
    private const string ApiKeysSchema = """
        CREATE TABLE IF NOT EXISTS api_keys (
          key_id TEXT PRIMARY KEY,
          key_hash TEXT NOT NULL UNIQUE,
          tenant TEXT NOT NULL,
          role TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER);
        """;

    private const string KeyColumns = "key_id, key_hash, tenant, role, created_at, revoked_at";

    public void AddKey(ApiKeyRecord key)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO api_keys({KeyColumns}) VALUES ($id, $hash, $tenant, $role, $created, NULL)";
        command.Parameters.AddWithValue("$id", key.KeyId);
        command.Parameters.AddWithValue("$hash", key.Hash);
        command.Parameters.AddWithValue("$tenant", key.Tenant);
        command.Parameters.AddWithValue("$role", key.Role);
        command.Parameters.AddWithValue("$created", key.CreatedAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public ApiKeyRecord? FindKeyByHash(string hash) =>
        QueryKeys($"SELECT {KeyColumns} FROM api_keys WHERE key_hash = $p", ("$p", hash)).FirstOrDefault();

    public IReadOnlyList<ApiKeyRecord> ListKeys(bool includeRevoked) =>
        QueryKeys($"SELECT {KeyColumns} FROM api_keys {(includeRevoked ? "" : "WHERE revoked_at IS NULL")} ORDER BY created_at DESC, key_id");

    public ApiKeyRecord? RevokeKey(string keyId, DateTimeOffset at)
    {
        using (var connection = Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE api_keys SET revoked_at = $at WHERE key_id = $id AND revoked_at IS NULL";
            command.Parameters.AddWithValue("$id", keyId);
            command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        return QueryKeys($"SELECT {KeyColumns} FROM api_keys WHERE key_id = $p", ("$p", keyId)).FirstOrDefault();
    }

    private List<ApiKeyRecord> QueryKeys(string sql, params (string Name, object Value)[] args) =>
        Query(sql, reader => new ApiKeyRecord(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))), args);
}
