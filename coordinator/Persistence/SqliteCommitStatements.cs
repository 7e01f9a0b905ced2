using System.Buffers;
using Google.Protobuf;
using SQLitePCL;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// The two statements every commit runs once per row (the job upsert, the insert of a job's run of events, see
/// <see cref="EventRuns"/>), prepared once on the writer
/// connection and bound by position. Through <c>SqliteCommand</c> each row paid a prepare per commit, a parameter
/// lookup by name per value (a UTF-8 conversion and a scan each) and a data reader; in the in-process throughput bench
/// that was about half of the commit's time. Used only by the loop's thread, inside the commit's transaction.
/// </summary>
internal sealed class SqliteCommitStatements : IDisposable
{
    private const string UpsertJob = """
        INSERT INTO jobs(job_id, request_id, tenant, state, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        ON CONFLICT(job_id) DO UPDATE SET state = excluded.state, body = excluded.body
        """;

    private const string InsertEventRun = "INSERT INTO event_runs(job_id, first_seq, last_seq, body) VALUES (?1, ?2, ?3, ?4)";

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _upsertJob;
    private readonly sqlite3_stmt _insertRun;
    // SQLite copies a bound blob (SQLITE_TRANSIENT), so one buffer serves every run.
    private readonly ArrayBufferWriter<byte> _buffer = new(4 * 1024);
    private readonly JobBodies _bodies = new();

    /// <summary>Bytes of job and event bodies bound so far (what the write-ahead log grows by, near enough).</summary>
    public long BytesWritten { get; private set; }

    public SqliteCommitStatements(sqlite3 db)
    {
        _db = db;
        _upsertJob = Prepare(UpsertJob);
        _insertRun = Prepare(InsertEventRun);
    }

    /// <param name="job">Upserted with its body.</param>
    /// <param name="unchanging">The job came in <see cref="JobCopies"/>: its parts' bytes may be reused (<see cref="JobBodies"/>).</param>
    public void Upsert(Job job, bool unchanging)
    {
        var s = _upsertJob;
        Check(raw.sqlite3_bind_text(s, 1, job.JobId));
        Check(string.IsNullOrEmpty(job.RequestId) ? raw.sqlite3_bind_null(s, 2) : raw.sqlite3_bind_text(s, 2, job.RequestId));
        Check(raw.sqlite3_bind_text(s, 3, job.Request?.Tenant ?? ""));
        Check(raw.sqlite3_bind_int64(s, 4, (long)job.State));
        Check(raw.sqlite3_bind_int64(s, 5, job.CreatedAt?.ToDateTimeOffset().ToUnixTimeMilliseconds() ?? 0));
        var body = _bodies.Write(job, unchanging);
        Check(raw.sqlite3_bind_blob(s, 6, body));
        BytesWritten += body.Length;
        Step(s);
    }

    /// <summary>Inserts one job's events of this commit as one row.</summary>
    /// <param name="jobId">The job of every event in <paramref name="run"/>.</param>
    /// <param name="run">In sequence order, no sequence twice (<see cref="EventRuns.Group"/>).</param>
    public void InsertRun(string jobId, List<JobEvent> run)
    {
        var s = _insertRun;
        Check(raw.sqlite3_bind_text(s, 1, jobId));
        Check(raw.sqlite3_bind_int64(s, 2, run[0].Sequence));
        Check(raw.sqlite3_bind_int64(s, 3, run[^1].Sequence));
        _buffer.ResetWrittenCount();
        EventRuns.Write(run, _buffer);
        Check(raw.sqlite3_bind_blob(s, 4, _buffer.WrittenSpan));
        BytesWritten += _buffer.WrittenCount;
        Step(s);
    }

    public void Dispose()
    {
        _upsertJob.Dispose();
        _insertRun.Dispose();
    }

    private void Step(sqlite3_stmt s)
    {
        var rc = raw.sqlite3_step(s);
        // Reset even on failure: the statement must be reusable by the next commit (after the store's caller crashed
        // the loop, or the transaction rolled back).
        raw.sqlite3_reset(s);
        raw.sqlite3_clear_bindings(s);
        if (rc != raw.SQLITE_DONE)
        {
            throw Error(rc);
        }
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var statement));
        return statement;
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw Error(rc);
        }
    }

    private Microsoft.Data.Sqlite.SqliteException Error(int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_db));
}
