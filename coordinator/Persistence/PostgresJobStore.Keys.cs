using Npgsql;
using NpgsqlTypes;
using VideoGen.Coordinator.Access;

namespace VideoGen.Coordinator.Persistence;

// API keys, in the same database as the jobs, created with the job tables (under the same advisory lock).
public sealed partial class PostgresJobStore
{
    private static readonly string[] ApiKeysSchema =
    [
        """
        CREATE TABLE IF NOT EXISTS api_keys (
          key_id text COLLATE "C" PRIMARY KEY,
          key_hash text COLLATE "C" NOT NULL UNIQUE,
          tenant text COLLATE "C" NOT NULL,
          role text NOT NULL,
          created_at bigint NOT NULL,
          revoked_at bigint)
        """,
    ];

    private const string KeyColumns = "key_id, key_hash, tenant, role, created_at, revoked_at";

    public void AddKey(ApiKeyRecord key)
    {
        using var command = _dataSource.CreateCommand($"INSERT INTO api_keys ({KeyColumns}) VALUES ($1, $2, $3, $4, $5, NULL)");
        command.Parameters.Add(Text(key.KeyId));
        command.Parameters.Add(Text(key.Hash));
        command.Parameters.Add(Text(key.Tenant));
        command.Parameters.Add(Text(key.Role));
        command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = key.CreatedAt.ToUnixTimeMilliseconds() });
        command.ExecuteNonQuery();
    }

    public ApiKeyRecord? FindKeyByHash(string hash) =>
        QueryKeys($"SELECT {KeyColumns} FROM api_keys WHERE key_hash = $1", Text(hash)).FirstOrDefault();

    public IReadOnlyList<ApiKeyRecord> ListKeys(bool includeRevoked) =>
        QueryKeys($"SELECT {KeyColumns} FROM api_keys {(includeRevoked ? "" : "WHERE revoked_at IS NULL")} ORDER BY created_at DESC, key_id");

    public ApiKeyRecord? RevokeKey(string keyId, DateTimeOffset at)
    {
        // COALESCE keeps the first revocation time: revoking twice changes nothing.
        return QueryKeys(
            $"UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE key_id = $1 RETURNING {KeyColumns}",
            Text(keyId), new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = at.ToUnixTimeMilliseconds() }).FirstOrDefault();
    }

    private List<ApiKeyRecord> QueryKeys(string sql, params NpgsqlParameter[] args)
    {
        using var command = _dataSource.CreateCommand(sql);
        command.Parameters.AddRange(args);
        using var reader = command.ExecuteReader();
        var keys = new List<ApiKeyRecord>();
        while (reader.Read())
        {
            keys.Add(new ApiKeyRecord(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }

        return keys;
    }
}
