using Npgsql;
using NpgsqlTypes;
using VideoGen.Coordinator.Leadership;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// The leader lease of standby coordinators: one row (<c>coordinator_lease</c>) with the holder, its address, an epoch
/// that grows by one at every change of holder, and an expiry on the database's clock. A commit of a fenced store
/// (<see cref="Fence"/>) checks and share-locks that row in its transaction.
/// </summary>
public sealed partial class PostgresJobStore : ILeaderLease
{
    private const string FencedSqlState = "VG001";

    private static readonly string[] LeaseSchema =
    [
        """
        CREATE TABLE IF NOT EXISTS coordinator_lease (
          id integer PRIMARY KEY CHECK (id = 1),
          holder text NOT NULL,
          address text NOT NULL,
          epoch bigint NOT NULL,
          expires_at timestamptz NOT NULL)
        """,
        // Raises VG001 unless epoch e holds the lease; FOR SHARE keeps the row locked until the caller's transaction ends.
        """
        CREATE OR REPLACE FUNCTION videogen_fence(e bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM 1 FROM coordinator_lease WHERE id = 1 AND epoch = e FOR SHARE;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'coordinator epoch % no longer holds the lease', e USING ERRCODE = 'VG001';
          END IF;
        END $$
        """,
    ];

    // Take the lease when it is free or expired (a new epoch), or renew it when this holder has it and it has not
    // expired (the same epoch). A holder whose own lease expired takes a new epoch like anyone else.
    private const string AcquireSql = """
        INSERT INTO coordinator_lease (id, holder, address, epoch, expires_at)
        VALUES (1, $1, $2, 1, now() + make_interval(secs => $3))
        ON CONFLICT (id) DO UPDATE SET
          epoch = CASE WHEN coordinator_lease.holder = excluded.holder AND coordinator_lease.expires_at >= now()
                       THEN coordinator_lease.epoch ELSE coordinator_lease.epoch + 1 END,
          holder = excluded.holder, address = excluded.address, expires_at = excluded.expires_at
        WHERE coordinator_lease.holder = excluded.holder OR coordinator_lease.expires_at < now()
        RETURNING epoch, expires_at
        """;

    private long _fencedAt;

    /// <inheritdoc />
    public void Fence(long epoch) => Interlocked.Exchange(ref _fencedAt, epoch);

    /// <inheritdoc />
    public LeaseView Acquire(string holder, string address, TimeSpan ttl)
    {
        using var connection = _dataSource.OpenConnection();
        using (var acquire = new NpgsqlCommand(AcquireSql, connection))
        {
            acquire.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = holder });
            acquire.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = address });
            acquire.Parameters.Add(new NpgsqlParameter<double> { NpgsqlDbType = NpgsqlDbType.Double, TypedValue = ttl.TotalSeconds });
            using var reader = acquire.ExecuteReader();
            if (reader.Read())
            {
                return new LeaseView(true, reader.GetInt64(0), holder, address, reader.GetFieldValue<DateTimeOffset>(1));
            }
        }

        using var read = new NpgsqlCommand("SELECT holder, address, epoch, expires_at FROM coordinator_lease WHERE id = 1", connection);
        using var current = read.ExecuteReader();
        return current.Read()
            ? new LeaseView(false, current.GetInt64(2), current.GetString(0), current.GetString(1), current.GetFieldValue<DateTimeOffset>(3))
            : new LeaseView(false, 0, "", "", DateTimeOffset.MinValue);
    }

    /// <inheritdoc />
    public void Release(string holder)
    {
        // Expire it now, keeping the epoch: a standby takes over at once instead of waiting out the lease.
        using var command = _dataSource.CreateCommand("UPDATE coordinator_lease SET expires_at = now() - interval '1 second' WHERE id = 1 AND holder = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = holder });
        command.ExecuteNonQuery();
    }

    private static NpgsqlBatchCommand FenceStatement(long epoch) => new("SELECT videogen_fence($1)")
    {
        Parameters = { new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = epoch } },
    };
}
