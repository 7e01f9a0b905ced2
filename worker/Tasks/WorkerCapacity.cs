using Microsoft.Extensions.Options;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Observability;

namespace VideoGen.Worker.Tasks;

/// <summary>Why a slot was not reserved.</summary>
public enum SlotReservation
{
    Reserved,
    Draining,
    Full,
}

/// <summary>
/// The worker's slots, running tasks and draining flag: the one owner of that state. Reservation never
/// blocks: a busy worker answers at once and the coordinator places the task elsewhere.
/// </summary>
public sealed class WorkerCapacity
{
    private readonly object _gate = new();
    private readonly Dictionary<long, string> _running = [];
    private long _nextLease;
    private TaskCompletionSource _idle = NewIdle(completed: true);

    public WorkerCapacity(IOptions<WorkerOptions> options)
    {
        Slots = options.Value.Slots;
        WorkerMetrics.Slots.Set(Slots);
    }

    /// <summary>Tasks run at once.</summary>
    public int Slots { get; }

    /// <summary>True once a drain began: no new task is accepted.</summary>
    public bool Draining { get; private set; }

    /// <summary>Ids (<c>{job}/{task}#{attempt}</c>) of the tasks running now.</summary>
    public IReadOnlyList<string> RunningTasks
    {
        get
        {
            lock (_gate)
            {
                return _running.Values.ToArray();
            }
        }
    }

    /// <summary>Reserves a slot for <paramref name="runningId"/>; dispose the lease to free it.</summary>
    public SlotReservation TryReserve(string runningId, out IDisposable? lease)
    {
        lock (_gate)
        {
            lease = null;
            if (Draining)
            {
                return SlotReservation.Draining;
            }

            if (_running.Count >= Slots)
            {
                return SlotReservation.Full;
            }

            var id = ++_nextLease;
            _running[id] = runningId;
            if (_running.Count == 1)
            {
                _idle = NewIdle(completed: false);
            }

            WorkerMetrics.SlotsInUse.Set(_running.Count);
            lease = new Lease(this, id);
            return SlotReservation.Reserved;
        }
    }

    /// <summary>Stops accepting tasks; returns how many are still running.</summary>
    public int BeginDrain()
    {
        lock (_gate)
        {
            Draining = true;
            return _running.Count;
        }
    }

    /// <summary>Completes when no task is running (at once when idle).</summary>
    public Task WaitUntilIdleAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    private void Release(long id)
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (_running.Remove(id) && _running.Count == 0)
            {
                idle = _idle;
            }

            WorkerMetrics.SlotsInUse.Set(_running.Count);
        }

        idle?.TrySetResult();
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }

        return source;
    }

    private sealed class Lease(WorkerCapacity owner, long id) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(id);
            }
        }
    }
}
