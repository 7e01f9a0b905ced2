using Google.Protobuf;
using Microsoft.Data.Sqlite;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Webhooks;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// The embedded job store: one SQLite file in WAL mode. Jobs are stored as their protobuf bytes with
/// a few indexed columns; events as protobuf bytes keyed by (job, sequence). The orchestrator commits
/// a whole batch of changes in one transaction (group commit).
/// </summary>
public sealed partial class SqliteJobStore : IJobStore, Access.IApiKeyStore
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteCommitStatements _statements;
    private readonly SqliteCheckpointer _checkpointer;

    public SqliteJobStore(string path)
        : this(path, SqliteCheckpointer.DefaultAfterBytes, SqliteCheckpointer.DefaultLogBytes)
    {
    }

    /// <param name="path">The database file; created with its directory when missing.</param>
    /// <param name="checkpointAfterBytes">Bytes of rows committed after which the checkpointer's thread runs (<see cref="SqliteCheckpointer"/>).</param>
    /// <param name="logBytes">The log's length (or bytes the checkpointer is behind) past which the writer checkpoints itself.</param>
    internal SqliteJobStore(string path, long checkpointAfterBytes, long logBytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA busy_timeout=5000;
            PRAGMA wal_autocheckpoint=0;
            CREATE TABLE IF NOT EXISTS jobs (
              job_id TEXT PRIMARY KEY,
              request_id TEXT UNIQUE,
              tenant TEXT NOT NULL,
              state INTEGER NOT NULL,
              created_at INTEGER NOT NULL,
              body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at DESC, job_id);
            CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state);
            CREATE TABLE IF NOT EXISTS event_runs (
              job_id TEXT NOT NULL,
              first_seq INTEGER NOT NULL,
              last_seq INTEGER NOT NULL,
              body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS event_runs_by_job ON event_runs(job_id, last_seq);
            CREATE TABLE IF NOT EXISTS webhook_outbox (
              id TEXT PRIMARY KEY,
              job_id TEXT NOT NULL,
              tenant TEXT NOT NULL,
              url TEXT NOT NULL,
              type TEXT NOT NULL,
              body TEXT NOT NULL,
              attempts INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL,
              next_attempt_at INTEGER,
              last_outcome TEXT NOT NULL DEFAULT '');
            CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
            """);
        Execute(_writer, ApiKeysSchema);
        MoveEventsIntoRuns(_writer);
        _statements = new SqliteCommitStatements(_writer.Handle!);
        _checkpointer = new SqliteCheckpointer(_connectionString, checkpointAfterBytes, logBytes);
    }

    /// <summary>The thread that moves the write-ahead log into the database file (tests).</summary>
    internal SqliteCheckpointer Checkpointer => _checkpointer;

    public void Commit(IReadOnlyCollection<Job> jobs, IReadOnlyCollection<JobEvent> events)
    {
        if (jobs.Count == 0 && events.Count == 0)
        {
            return;
        }

        var written = _statements.BytesWritten;
        using var tx = _writer.BeginTransaction();
        var unchanging = jobs is JobCopies;
        foreach (var job in jobs)
        {
            _statements.Upsert(job, unchanging);
        }

        foreach (var (jobId, run) in EventRuns.Group(events))
        {
            _statements.InsertRun(jobId, run);
        }

        var deliveries = WebhookOutbox.Deliveries(jobs, events, Get);
        if (deliveries.Count > 0)
        {
            using var outbox = _writer.CreateCommand();
            outbox.Transaction = tx;
            outbox.CommandText = """
                INSERT OR IGNORE INTO webhook_outbox(id, job_id, tenant, url, type, body, attempts, created_at, next_attempt_at)
                VALUES ($id, $job, $tenant, $url, $type, $body, 0, $created, $next)
                """;
            var id = outbox.Parameters.Add("$id", SqliteType.Text);
            var job = outbox.Parameters.Add("$job", SqliteType.Text);
            var tenant = outbox.Parameters.Add("$tenant", SqliteType.Text);
            var url = outbox.Parameters.Add("$url", SqliteType.Text);
            var type = outbox.Parameters.Add("$type", SqliteType.Text);
            var body = outbox.Parameters.Add("$body", SqliteType.Text);
            var created = outbox.Parameters.Add("$created", SqliteType.Integer);
            var next = outbox.Parameters.Add("$next", SqliteType.Integer);
            foreach (var d in deliveries)
            {
                (id.Value, job.Value, tenant.Value, url.Value, type.Value, body.Value, created.Value, next.Value) =
                    (d.Id, d.JobId, d.Tenant, d.Url, d.Type, d.Body, d.CreatedAtMs, d.NextAttemptAtMs);
                outbox.ExecuteNonQuery();
            }
        }

        tx.Commit();
        _checkpointer.Written(_writer, _statements.BytesWritten - written);
    }

    public IReadOnlyList<WebhookDelivery> DueWebhooks(long nowMs, int limit)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, job_id, tenant, url, type, body, attempts, created_at, next_attempt_at FROM webhook_outbox
            WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $now ORDER BY next_attempt_at, id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$now", nowMs);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var due = new List<WebhookDelivery>();
        while (reader.Read())
        {
            due.Add(new WebhookDelivery(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetInt64(7), reader.GetInt64(8)));
        }

        return due;
    }

    public void RecordWebhookAttempt(string id, int attempts, long? nextAttemptAtMs, string outcome)
    {
        // Any connection: the dispatcher writes outside the orchestrator's loop (WAL and busy_timeout serialise writers).
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE webhook_outbox SET attempts = $attempts, next_attempt_at = $next, last_outcome = $outcome WHERE id = $id";
        command.Parameters.AddWithValue("$attempts", attempts);
        command.Parameters.AddWithValue("$next", nextAttemptAtMs is { } next ? next : DBNull.Value);
        command.Parameters.AddWithValue("$outcome", outcome);
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
    }

    public IReadOnlyList<Job> LoadActive() =>
        QueryJobs($"SELECT body FROM jobs WHERE state NOT IN ({(int)JobState.Succeeded}, {(int)JobState.Failed}, {(int)JobState.Cancelled}) ORDER BY created_at, job_id");

    public Job? Get(string jobId) => QueryJobs("SELECT body FROM jobs WHERE job_id = $p", ("$p", jobId)).FirstOrDefault();

    public Job? FindByRequestId(string requestId) =>
        QueryJobs("SELECT body FROM jobs WHERE request_id = $p", ("$p", requestId)).FirstOrDefault();

    public IReadOnlyList<JobEvent> Events(string jobId, long afterSequence) =>
        EventRuns.Read(Query(
            "SELECT body FROM event_runs WHERE job_id = $id AND last_seq > $after ORDER BY rowid",
            reader => (byte[])reader[0], ("$id", jobId), ("$after", afterSequence)), afterSequence);

    public JobPage List(JobState state, string tenant, JobCursor? after, int limit)
    {
        // rowid is the insertion order (max + 1, kept by the upsert): the tie-breaker.
        var where = new List<string>();
        var args = new List<(string, object)> { ("$limit", limit + 1) };
        if (state != JobState.Unspecified)
        {
            where.Add("state = $state");
            args.Add(("$state", (int)state));
        }

        if (!string.IsNullOrEmpty(tenant))
        {
            where.Add("tenant = $tenant");
            args.Add(("$tenant", tenant));
        }

        if (after is { } cursor)
        {
            where.Add("(created_at < $created OR (created_at = $created AND rowid < $seq))");
            args.Add(("$created", cursor.CreatedAtMs));
            args.Add(("$seq", cursor.Sequence));
        }

        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT body, created_at, rowid FROM jobs {filter} ORDER BY created_at DESC, rowid DESC LIMIT $limit";
        foreach (var (name, value) in args)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<(Job Job, JobCursor At)>();
        while (reader.Read())
        {
            rows.Add((Job.Parser.ParseFrom((byte[])reader[0]), new JobCursor(reader.GetInt64(1), reader.GetInt64(2))));
        }

        return rows.Count > limit
            ? new JobPage(rows.Take(limit).Select(r => r.Job).ToList(), rows[limit - 1].At)
            : new JobPage(rows.Select(r => r.Job).ToList(), null);
    }

    public void Dispose()
    {
        _checkpointer.Dispose();
        _statements.Dispose();
        _writer.Dispose();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private List<Job> QueryJobs(string sql, params (string Name, object Value)[] args) =>
        Query(sql, reader => Job.Parser.ParseFrom((byte[])reader[0]), args);

    /// <summary>Runs a query on a connection of its own and reads every row with <paramref name="read"/>.</summary>
    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object Value)[] args)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in args)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>
    /// A database written before event runs has one row per event in <c>events</c>: moved into runs (one per job, in
    /// sequence order) and the table dropped, in one transaction, once.
    /// </summary>
    private static void MoveEventsIntoRuns(SqliteConnection connection)
    {
        using (var exists = connection.CreateCommand())
        {
            exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'";
            if ((long)exists.ExecuteScalar()! == 0)
            {
                return;
            }
        }

        using var tx = connection.BeginTransaction();
        using var read = connection.CreateCommand();
        read.Transaction = tx;
        read.CommandText = "SELECT body FROM events ORDER BY job_id, seq";
        using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO event_runs(job_id, first_seq, last_seq, body) VALUES ($job, $first, $last, $body)";
        var (job, first, last, body) = (insert.Parameters.Add("$job", SqliteType.Text), insert.Parameters.Add("$first", SqliteType.Integer),
            insert.Parameters.Add("$last", SqliteType.Integer), insert.Parameters.Add("$body", SqliteType.Blob));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var run = new List<JobEvent>();
        void Flush()
        {
            if (run.Count == 0)
            {
                return;
            }

            buffer.ResetWrittenCount();
            EventRuns.Write(run, buffer);
            (job.Value, first.Value, last.Value, body.Value) = (run[0].JobId, run[0].Sequence, run[^1].Sequence, buffer.WrittenSpan.ToArray());
            insert.ExecuteNonQuery();
            run.Clear();
        }

        using (var reader = read.ExecuteReader())
        {
            while (reader.Read())
            {
                var e = JobEvent.Parser.ParseFrom((byte[])reader[0]);
                if (run.Count > 0 && (run[0].JobId != e.JobId || run.Count == 1000))
                {
                    Flush();
                }

                run.Add(e);
            }
        }

        Flush();
        using var drop = connection.CreateCommand();
        drop.Transaction = tx;
        drop.CommandText = "DROP TABLE events";
        drop.ExecuteNonQuery();
        tx.Commit();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
