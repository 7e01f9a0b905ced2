using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Persistence;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>
/// What only the SQLite store does (the contract is in <see cref="JobStoreContractTests"/>): events kept as one run per
/// job and commit (<see cref="EventRuns"/>), a database of one row per event moved into runs, and the write-ahead log
/// checkpointed off the writer's thread (<see cref="SqliteCheckpointer"/>).
/// </summary>
public sealed class SqliteJobStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-29T00:00:00Z");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));

    private string DatabasePath => Path.Combine(_directory, "videogen.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void EventRuns_GroupByJob_InSequenceOrder_TheFirstOfARepeatedSequenceKept()
    {
        var events = new[] { Event("a", 3), Event("b", 1), Event("a", 1), Event("a", 3, "second"), Event("a", 2) };

        var runs = EventRuns.Group(events).ToList();

        Assert.Equal(["a", "b"], runs.Select(r => r.JobId));
        Assert.Equal([1L, 2, 3], runs[0].Run.Select(e => e.Sequence));
        Assert.Equal(events[0], runs[0].Run[2]); // not the later "second"
        Assert.Equal([events[1]], runs[1].Run);
    }

    [Fact]
    public void EventRuns_WriteThenRead_RoundTrips_AcrossRuns_FirstWrittenWins_AfterASequence()
    {
        // A long detail makes an event over 127 bytes: its length takes two varint bytes.
        var first = new List<JobEvent> { Event("a", 1), Event("a", 2, new string('x', 300)), Event("a", 3) };
        var second = new List<JobEvent> { Event("a", 3, "again"), Event("a", 4) };

        var bodies = new[] { Body(first), Body(second) };

        Assert.Equal([first[0], first[1], first[2], second[1]], EventRuns.Read(bodies, 0));
        Assert.Equal([first[2], second[1]], EventRuns.Read(bodies, 2));
        Assert.Empty(EventRuns.Read(bodies, 4));
        Assert.Empty(EventRuns.Read([], 0));
    }

    [Fact]
    public void Commit_WritesOneRowPerJobAndCommit()
    {
        using (var store = new SqliteJobStore(DatabasePath))
        {
            store.Commit([Job("a"), Job("b")], [Event("a", 1), Event("b", 1), Event("a", 2), Event("a", 3)]);
            store.Commit([], [Event("a", 4)]);
            Assert.Equal([1L, 2, 3, 4], store.Events("a", 0).Select(e => e.Sequence));
        }

        Assert.Equal(3L, Scalar("SELECT count(*) FROM event_runs"));
        Assert.Equal(2L, Scalar("SELECT count(*) FROM event_runs WHERE job_id = 'a'"));
    }

    [Fact]
    public void Open_ADatabaseWithOneRowPerEvent_MovesItsEventsIntoRuns_Once()
    {
        // The schema before event runs, with events of two jobs written out of order.
        Directory.CreateDirectory(_directory);
        using (var legacy = new SqliteConnection($"Data Source={DatabasePath}"))
        {
            legacy.Open();
            using var create = legacy.CreateCommand();
            create.CommandText = "CREATE TABLE events (job_id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID";
            create.ExecuteNonQuery();
            foreach (var e in new[] { Event("a", 2), Event("b", 1), Event("a", 1), Event("a", 3, new string('y', 200)) })
            {
                using var insert = legacy.CreateCommand();
                insert.CommandText = "INSERT INTO events(job_id, seq, body) VALUES ($j, $s, $b)";
                insert.Parameters.AddWithValue("$j", e.JobId);
                insert.Parameters.AddWithValue("$s", e.Sequence);
                insert.Parameters.AddWithValue("$b", e.ToByteArray());
                insert.ExecuteNonQuery();
            }
        }

        SqliteConnection.ClearAllPools();
        using (var store = new SqliteJobStore(DatabasePath))
        {
            Assert.Equal([Event("a", 1), Event("a", 2), Event("a", 3, new string('y', 200))], store.Events("a", 0));
            Assert.Equal([Event("b", 1)], store.Events("b", 0));
            store.Commit([], [Event("a", 4)]);
        }

        Assert.Equal(0L, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'events'"));
        using var reopened = new SqliteJobStore(DatabasePath);
        Assert.Equal([1L, 2, 3, 4], reopened.Events("a", 0).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Checkpointer_MovesTheLogIntoTheDatabase_OnItsOwnThread_PastItsMark()
    {
        using var store = new SqliteJobStore(DatabasePath, checkpointAfterBytes: 64 * 1024, logBytes: long.MaxValue);
        var checkpointed = new TaskCompletionSource<(long Frames, long Copied, int Thread)>(TaskCreationOptions.RunContinuationsAsynchronously);
        store.Checkpointer.Checkpointed += (frames, copied) => checkpointed.TrySetResult((frames, copied, Environment.CurrentManagedThreadId));
        var before = new FileInfo(DatabasePath).Length;

        for (var i = 0; i < 8; i++)
        {
            store.Commit([Job($"big-{i}", promptBytes: 16 * 1024)], [Event($"big-{i}", 1)]);
        }

        var (frames, copied, thread) = await checkpointed.Task.WaitAsync(Bound);
        Assert.True(copied > 0 && copied <= frames, $"{copied} of {frames} frames");
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.Equal(0, store.Checkpointer.WriterCheckpoints);
        Assert.True(new FileInfo(DatabasePath).Length > before, "the database file took the log's pages");
    }

    [Fact]
    public void Commit_NeverCheckpoints_BelowTheWritersMark_EvenPastSQLitesOwn()
    {
        // SQLite's automatic checkpoint would run in the commit that takes the log past 1,000 pages (~4 MiB).
        using var store = new SqliteJobStore(DatabasePath, checkpointAfterBytes: long.MaxValue, logBytes: long.MaxValue);
        var before = new FileInfo(DatabasePath).Length;

        for (var i = 0; i < 40; i++)
        {
            store.Commit([Job($"big-{i}", promptBytes: 128 * 1024)], []);
        }

        Assert.True(new FileInfo(DatabasePath + "-wal").Length > 5L * 1024 * 1024, "the log holds every commit");
        Assert.Equal(before, new FileInfo(DatabasePath).Length);
        Assert.Equal(0, store.Checkpointer.Checkpoints + store.Checkpointer.WriterCheckpoints);
    }

    [Fact]
    public void Commit_PastTheLogsBound_CheckpointsItself_WhenTheCheckpointerFellBehind()
    {
        // The checkpointer's mark is never reached: it stands for a thread that does not run.
        using var store = new SqliteJobStore(DatabasePath, checkpointAfterBytes: long.MaxValue, logBytes: 64 * 1024);
        var before = new FileInfo(DatabasePath).Length;

        for (var i = 0; i < 8; i++)
        {
            store.Commit([Job($"big-{i}", promptBytes: 16 * 1024)], []);
        }

        Assert.True(store.Checkpointer.WriterCheckpoints >= 1);
        Assert.Equal(0, store.Checkpointer.Checkpoints);
        Assert.True(new FileInfo(DatabasePath).Length > before, "the database file took the log's pages");
        Assert.Equal(8, store.LoadActive().Count);
    }

    [Fact]
    public void Commit_UnderASteadyWriter_TheLogStartsOver_ItsFileStaysNearItsBound()
    {
        // A checkpoint beside a busy writer seldom leaves every frame copied when the writer's next transaction begins,
        // and only then does the log start over: past the bound the writer runs a RESTART checkpoint itself.
        const long bound = 256 * 1024;
        using var store = new SqliteJobStore(DatabasePath, checkpointAfterBytes: 32 * 1024, logBytes: bound);

        for (var i = 0; i < 500; i++)
        {
            store.Commit([Job($"steady-{i % 20}", promptBytes: 8 * 1024)], [Event($"steady-{i % 20}", i + 1)]);
        }

        // The log's frames here are ~4x the rows' bytes (an 8 KiB job is 3 pages, its index and event pages the rest):
        // the bound is met either through the checkpointer's report (then ~bound + one commit) or, were that thread
        // starved, when the rows' bytes reach it (then ~4 x bound). Without the writer's RESTART: ~16 MiB.
        var log = new FileInfo(DatabasePath + "-wal").Length;
        Assert.True(log < 6 * bound, $"the log is {log} bytes, writer checkpoints {store.Checkpointer.WriterCheckpoints}, checkpointer {store.Checkpointer.Checkpoints}");
        Assert.True(store.Checkpointer.WriterCheckpoints >= 1);
        Assert.Equal(20, store.LoadActive().Count);
    }

    private static Job Job(string id, int promptBytes = 0) => new()
    {
        JobId = id,
        Request = new JobRequest { Prompt = promptBytes > 0 ? new string('p', promptBytes) : $"a showcase for {id}", Tenant = "acme", DurationSeconds = 10 },
        State = JobState.Rendering,
        CreatedAt = Timestamp.FromDateTimeOffset(T0),
    };

    private static JobEvent Event(string jobId, long sequence, string detail = "") => new()
    {
        JobId = jobId,
        Sequence = sequence,
        Time = Timestamp.FromDateTimeOffset(T0.AddSeconds(sequence)),
        ProviderPaused = new ProviderPaused { Model = "m", Detail = detail },
    };

    private static byte[] Body(List<JobEvent> run)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EventRuns.Write(run, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
