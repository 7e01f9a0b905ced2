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

    public SqliteJobStore(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS jobs (
              job_id TEXT PRIMARY KEY,
              request_id TEXT UNIQUE,
              tenant TEXT NOT NULL,
              state INTEGER NOT NULL,
              created_at INTEGER NOT NULL,
              body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at DESC, job_id);
            CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state);
            CREATE TABLE IF NOT EXISTS events (
              job_id TEXT NOT NULL,
              seq INTEGER NOT NULL,
              body BLOB NOT NULL,
              PRIMARY KEY (job_id, seq)) WITHOUT ROWID;
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
        _statements = new SqliteCommitStatements(_writer.Handle!);
    }

    public void Commit(IReadOnlyCollection<Job> jobs, IReadOnlyCollection<JobEvent> events)
    {
        if (jobs.Count == 0 && events.Count == 0)
        {
            return;
        }

        using var tx = _writer.BeginTransaction();
        var unchanging = jobs is JobCopies;
        foreach (var job in jobs)
        {
            _statements.Upsert(job, unchanging);
        }

        foreach (var e in events)
        {
            _statements.Insert(e);
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

    public IReadOnlyList<JobEvent> Events(string jobId, long afterSequence)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM events WHERE job_id = $id AND seq > $after ORDER BY seq";
        command.Parameters.AddWithValue("$id", jobId);
        command.Parameters.AddWithValue("$after", afterSequence);
        using var reader = command.ExecuteReader();
        var events = new List<JobEvent>();
        while (reader.Read())
        {
            events.Add(JobEvent.Parser.ParseFrom((byte[])reader[0]));
        }

        return events;
    }

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

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
