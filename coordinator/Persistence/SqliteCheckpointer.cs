using Microsoft.Data.Sqlite;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// Moves the SQLite write-ahead log into the database file on a thread of its own, so that the loop's commits rarely
/// wait for it. With SQLite's automatic checkpoint (every ~1,000 WAL pages) the commit that crosses the mark copies
/// the log into the database and syncs both files before it returns: in the gRPC throughput bench that wait was ~15 %
/// of the run (11,700 against 13,500 tasks/s with it off). The writer connection runs with
/// <c>wal_autocheckpoint=0</c> and reports the bytes each commit wrote (<see cref="Written"/>); after
/// <see cref="DefaultAfterBytes"/> this thread runs a PASSIVE checkpoint on its own connection, which the writer's
/// transactions do not wait for (WAL lets them append while it copies).
/// <para>
/// The log file starts over only when a write transaction begins with every frame already copied, which a checkpoint
/// running beside a busy writer seldom leaves (measured: a run that wrote 30 MB left a 35 MB log). So the writer keeps
/// the log bounded by <see cref="DefaultLogBytes"/>: once this thread reports the log that long, or falls that far
/// behind (a stalled disk, a starved thread), the writer's next commit runs a RESTART checkpoint itself (it waits for
/// this thread's checkpoint in progress, then copies only what is left), after which its next transaction starts the
/// log over. One commit in 64 MiB of log waits, instead of one in 4 MiB.
/// </para>
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>About SQLite's own mark (1,000 pages of 4 KiB).</summary>
    public const long DefaultAfterBytes = 4L * 1024 * 1024;

    /// <summary>The log's length past which the writer checkpoints itself.</summary>
    public const long DefaultLogBytes = 64L * 1024 * 1024;

    private readonly string _connectionString;
    private readonly long _afterBytes;
    private readonly long _logBytes;
    private readonly AutoResetEvent _due = new(false);
    private readonly Lock _gate = new(); // one checkpoint at a time: this thread's or the writer's
    private readonly Thread _thread;
    private long _unCheckpointed;
    private int _checkpoints;
    private int _writerCheckpoints;
    private volatile bool _logTooLong;
    private volatile bool _stopping;

    public SqliteCheckpointer(string connectionString, long afterBytes = DefaultAfterBytes, long logBytes = DefaultLogBytes)
    {
        _connectionString = connectionString;
        _afterBytes = afterBytes;
        _logBytes = logBytes;
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite checkpointer" };
        _thread.Start();
    }

    /// <summary>Checkpoints this thread has run (tests and diagnostics).</summary>
    public int Checkpoints => Volatile.Read(ref _checkpoints);

    /// <summary>Checkpoints the writer ran itself, the log having grown past <see cref="DefaultLogBytes"/>.</summary>
    public int WriterCheckpoints => Volatile.Read(ref _writerCheckpoints);

    /// <summary>Raised on this thread after each of its checkpoints: (WAL frames, frames now in the database file).</summary>
    public event Action<long, long>? Checkpointed;

    /// <summary>Called by the writer, between transactions, after a commit that wrote <paramref name="bytes"/> of rows.</summary>
    public void Written(SqliteConnection writer, long bytes)
    {
        var pending = Interlocked.Add(ref _unCheckpointed, bytes);
        if (pending >= _logBytes || _logTooLong)
        {
            // A second checkpoint while one runs is refused at once (SQLITE_BUSY, no busy handler), so the writer waits
            // for this thread's to end; RESTART then waits (busy_timeout) for readers of the old log, so that the
            // writer's next transaction starts the log over.
            // The commit is already durable: a checkpoint that fails here (I/O) is tried again after the next one.
            try
            {
                bool busy;
                lock (_gate)
                {
                    (busy, _, _) = Checkpoint(writer, "RESTART", pending);
                }

                Interlocked.Increment(ref _writerCheckpoints);
                if (!busy)
                {
                    _logTooLong = false;
                }
            }
            catch (SqliteException)
            {
            }
        }
        else if (pending >= _afterBytes)
        {
            _due.Set();
        }
    }

    /// <summary>Stops the thread (a second call does nothing). The event is left to the finalizer: a thread that outlives the bounded join may still wait on it.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _due.Set();
        // A checkpoint in progress finishes (it is bounded by the log's size); SQLite checkpoints what is left when the
        // last connection closes.
        _thread.Join(TimeSpan.FromSeconds(30));
    }

    private void Run()
    {
        using var connection = new SqliteConnection(_connectionString);
        long pageSize;
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA page_size";
            pageSize = (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return; // The writer falls back to checkpointing itself.
        }

        while (true)
        {
            _due.WaitOne();
            if (_stopping)
            {
                return;
            }

            try
            {
                long frames, copied;
                lock (_gate)
                {
                    (_, frames, copied) = Checkpoint(connection, "PASSIVE", Volatile.Read(ref _unCheckpointed));
                }

                if (frames * pageSize >= _logBytes)
                {
                    _logTooLong = true;
                }

                Interlocked.Increment(ref _checkpoints);
                Checkpointed?.Invoke(frames, copied);
            }
            catch (SqliteException)
            {
                // I/O error or the like: the next trigger tries again, and past the log's bound the writer does.
            }
        }
    }

    /// <summary>
    /// A checkpoint in <paramref name="mode"/> (PASSIVE: never waits on the writer, readers or another checkpoint;
    /// RESTART: waits for them, up to the busy timeout), then <paramref name="covered"/> bytes are off the count.
    /// Busy: it could not do all of it (PASSIVE: another connection was checkpointing; nothing is taken off the count).
    /// </summary>
    private (bool Busy, long Frames, long Copied) Checkpoint(SqliteConnection connection, string mode, long covered)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var reader = command.ExecuteReader();
        reader.Read();
        var result = (Busy: reader.GetInt64(0) != 0, Frames: reader.GetInt64(1), Copied: reader.GetInt64(2));
        if (!result.Busy || result.Copied > 0)
        {
            Interlocked.Add(ref _unCheckpointed, -covered);
        }

        return result;
    }
}
