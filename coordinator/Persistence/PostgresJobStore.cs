using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// The production job store: PostgreSQL through a pooled <see cref="NpgsqlDataSource"/>. The same
/// layout as <see cref="SqliteJobStore"/>: jobs as protobuf bytes (bytea) with a few indexed
/// columns, events as protobuf bytes keyed by (job, sequence). A group commit is one
/// <see cref="NpgsqlBatch"/>: every statement goes out in one round trip and PostgreSQL runs the
/// whole batch in one (implicit) transaction; a very large commit is split into several batches
/// inside one explicit transaction. The tables are created at start if missing.
/// </summary>
public sealed class PostgresJobStore : IJobStore
{
    /// <summary>Statements per batch; a commit with more runs several batches in one explicit transaction.</summary>
    public const int DefaultMaxBatchStatements = 1000;

    private static readonly string TerminalStates = $"{(int)JobState.Succeeded}, {(int)JobState.Failed}, {(int)JobState.Cancelled}";

    // One statement each (a batch command holds one statement). Text columns use the "C"
    // collation: byte order, as in SQLite, whatever the database's locale.
    private static readonly string[] Schema =
    [
        """
        CREATE TABLE IF NOT EXISTS jobs (
          job_id text COLLATE "C" PRIMARY KEY,
          request_id text COLLATE "C" UNIQUE,
          tenant text COLLATE "C" NOT NULL,
          state integer NOT NULL,
          created_at bigint NOT NULL,
          body bytea NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created_at DESC, job_id)",
        "CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created_at DESC, job_id)",
        "CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, created_at DESC, job_id)",
        $"CREATE INDEX IF NOT EXISTS jobs_active ON jobs (created_at, job_id) WHERE state NOT IN ({TerminalStates})",
        """
        CREATE TABLE IF NOT EXISTS events (
          job_id text COLLATE "C" NOT NULL,
          seq bigint NOT NULL,
          body bytea NOT NULL,
          PRIMARY KEY (job_id, seq))
        """,
    ];

    private const string UpsertJob = """
        INSERT INTO jobs (job_id, request_id, tenant, state, created_at, body) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, body = excluded.body
        """;

    private const string InsertEvent = "INSERT INTO events (job_id, seq, body) VALUES ($1, $2, $3) ON CONFLICT (job_id, seq) DO NOTHING";

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly int _maxBatchStatements;

    /// <summary>Opens a pooled data source on <paramref name="connectionString"/> and creates the tables if missing.</summary>
    public PostgresJobStore(string connectionString)
        : this(NpgsqlDataSource.Create(connectionString), ownsDataSource: true)
    {
    }

    /// <summary>Uses <paramref name="dataSource"/> (disposed with the store when <paramref name="ownsDataSource"/>) and creates the tables if missing.</summary>
    public PostgresJobStore(NpgsqlDataSource dataSource, bool ownsDataSource = false, int maxBatchStatements = DefaultMaxBatchStatements)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchStatements, 1);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _maxBatchStatements = maxBatchStatements;
        try
        {
            CreateSchema();
        }
        catch
        {
            if (ownsDataSource)
            {
                dataSource.Dispose();
            }

            throw;
        }
    }

    public void Commit(IReadOnlyCollection<Job> jobs, IReadOnlyCollection<JobEvent> events)
    {
        if (jobs.Count == 0 && events.Count == 0)
        {
            return;
        }

        var statements = new List<NpgsqlBatchCommand>(jobs.Count + events.Count);
        foreach (var job in jobs)
        {
            statements.Add(new NpgsqlBatchCommand(UpsertJob)
            {
                Parameters =
                {
                    new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = job.JobId },
                    new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = string.IsNullOrEmpty(job.RequestId) ? DBNull.Value : job.RequestId },
                    new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = job.Request?.Tenant ?? "" },
                    new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = (int)job.State },
                    new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = job.CreatedAt?.ToDateTimeOffset().ToUnixTimeMilliseconds() ?? 0 },
                    new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = job.ToByteArray() },
                },
            });
        }

        foreach (var e in events)
        {
            statements.Add(new NpgsqlBatchCommand(InsertEvent)
            {
                Parameters =
                {
                    new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = e.JobId },
                    new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = e.Sequence },
                    new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = e.ToByteArray() },
                },
            });
        }

        using var connection = _dataSource.OpenConnection();
        if (statements.Count <= _maxBatchStatements)
        {
            // One batch, one Sync: one round trip, and PostgreSQL runs it as one implicit transaction
            // (any failing statement rolls back the whole batch).
            using var batch = new NpgsqlBatch(connection);
            statements.ForEach(batch.BatchCommands.Add);
            batch.ExecuteNonQuery();
            return;
        }

        using var tx = connection.BeginTransaction();
        foreach (var chunk in statements.Chunk(_maxBatchStatements))
        {
            using var batch = new NpgsqlBatch(connection, tx);
            foreach (var statement in chunk)
            {
                batch.BatchCommands.Add(statement);
            }

            batch.ExecuteNonQuery();
        }

        tx.Commit();
    }

    public IReadOnlyList<Job> LoadActive() =>
        QueryJobs($"SELECT body FROM jobs WHERE state NOT IN ({TerminalStates}) ORDER BY created_at, job_id");

    public Job? Get(string jobId) => QueryJobs("SELECT body FROM jobs WHERE job_id = $1", Text(jobId)).FirstOrDefault();

    public Job? FindByRequestId(string requestId) =>
        QueryJobs("SELECT body FROM jobs WHERE request_id = $1", Text(requestId)).FirstOrDefault();

    public IReadOnlyList<JobEvent> Events(string jobId, long afterSequence)
    {
        using var command = _dataSource.CreateCommand("SELECT body FROM events WHERE job_id = $1 AND seq > $2 ORDER BY seq");
        command.Parameters.Add(Text(jobId));
        command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = afterSequence });
        using var reader = command.ExecuteReader();
        var events = new List<JobEvent>();
        while (reader.Read())
        {
            events.Add(JobEvent.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0)));
        }

        return events;
    }

    public IReadOnlyList<Job> List(JobState state, string tenant, int offset, int limit)
    {
        var where = new List<string>();
        var args = new List<NpgsqlParameter>
        {
            new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = limit },
            new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = offset },
        };
        if (state != JobState.Unspecified)
        {
            args.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = (int)state });
            where.Add($"state = ${args.Count}");
        }

        if (!string.IsNullOrEmpty(tenant))
        {
            args.Add(Text(tenant));
            where.Add($"tenant = ${args.Count}");
        }

        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        return QueryJobs($"SELECT body FROM jobs {filter} ORDER BY created_at DESC, job_id LIMIT $1 OFFSET $2", [.. args]);
    }

    public void Dispose()
    {
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }
    }

    private void CreateSchema()
    {
        // A transaction-scoped advisory lock serialises coordinators creating the schema at the
        // same moment (concurrent CREATE ... IF NOT EXISTS can otherwise collide in the catalog).
        using var connection = _dataSource.OpenConnection();
        using var tx = connection.BeginTransaction();
        using (var batch = new NpgsqlBatch(connection, tx))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtext('videogen.jobstore.schema'))"));
            foreach (var statement in Schema)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
            }

            batch.ExecuteNonQuery();
        }

        tx.Commit();
    }

    private static NpgsqlParameter<string> Text(string value) => new() { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value };

    private List<Job> QueryJobs(string sql, params NpgsqlParameter[] args)
    {
        // A data-source command takes a pooled connection and returns it when the reader closes.
        using var command = _dataSource.CreateCommand(sql);
        command.Parameters.AddRange(args);
        using var reader = command.ExecuteReader();
        var jobs = new List<Job>();
        while (reader.Read())
        {
            jobs.Add(Job.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0)));
        }

        return jobs;
    }
}
