using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Observability;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// The worker's task executions: at most one per (job_id, task_id). An execution is started by the first RunTask
/// for its task and runs on a cancellation source of its own, not on any call's token: a broken stream only
/// detaches its reader, and the next RunTask for the same task attaches to the same execution instead of running
/// (and paying for) the task again. Only <see cref="CancelAsync"/> (CancelTask) or the worker's shutdown stops one.
/// An execution holds its slot lease until its work ends, so <see cref="WorkerCapacity"/> (status, drain,
/// shutdown's wait for idle) counts it whether a stream is attached or not. A finished execution's outcome is
/// kept for <see cref="WorkerOptions.ResultRetentionSeconds"/> and then dropped.
/// </summary>
public sealed class TaskExecutions : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<(string JobId, string TaskId), TaskExecution> _executions = [];
    private readonly TaskRunner _runner;
    private readonly WorkerCapacity _capacity;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retention;
    private readonly string _workerId;
    private readonly ILogger<TaskExecutions> _logger;
    private readonly ITimer _sweep;
    private bool _disposed;

    public TaskExecutions(TaskRunner runner, WorkerCapacity capacity, TimeProvider time, IOptions<WorkerOptions> options, ILogger<TaskExecutions> logger)
    {
        _runner = runner;
        _capacity = capacity;
        _time = time;
        _retention = TimeSpan.FromSeconds(options.Value.ResultRetentionSeconds);
        _workerId = options.Value.Id;
        _logger = logger;
        var period = TimeSpan.FromSeconds(Math.Clamp(options.Value.ResultRetentionSeconds, 1, 60));
        _sweep = time.CreateTimer(_ => Sweep(), null, period, period);
    }

    /// <summary>Executions running or kept now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                ExpireLocked();
                return _executions.Count;
            }
        }
    }

    /// <summary>A chunk asked for again with another seed: a new clip, not the one an earlier attempt made.</summary>
    private static bool IsRemake(TaskWork kept, TaskWork asked) => kept is ChunkWork a && asked is ChunkWork b && a.Seed != b.Seed;

    /// <summary>
    /// Attaches to the task's execution when it has one (no slot needed, even while draining), else reserves a slot
    /// and starts one. On <see cref="ExecutionStart.Started"/> or <see cref="ExecutionStart.Attached"/>,
    /// <paramref name="subscription"/> streams the execution's events; dispose it to detach.
    /// </summary>
    public ExecutionStart StartOrAttach(TaskWork work, out TaskSubscription? subscription)
    {
        TaskExecution execution;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ExpireLocked();
            var key = (work.JobId, work.TaskId);
            if (_executions.TryGetValue(key, out var kept) && !kept.IsRunning && IsRemake(kept.Work, work))
            {
                // The coordinator asks for the chunk again with a new seed (its seam failed the gate): the kept clip is
                // not this request's result.
                _executions.Remove(key);
            }

            if (_executions.TryGetValue(key, out var existing))
            {
                subscription = existing.Subscribe(_workerId, resumed: true);
                WorkerMetrics.TaskResumes.WithLabels(existing.IsRunning ? "running" : "finished").Inc();
                ExecutionLog.Attached(_logger, _workerId, work.JobId, work.TaskId, work.Attempt, existing.StartedByAttempt, existing.IsRunning ? "running" : "finished");
                return ExecutionStart.Attached;
            }

            subscription = null;
            switch (_capacity.TryReserve(work.RunningId, out var lease))
            {
                case SlotReservation.Draining:
                    return ExecutionStart.Draining;
                case SlotReservation.Full:
                    return ExecutionStart.Full;
            }

            execution = new TaskExecution(work, lease!, _time);
            _executions[key] = execution;
            subscription = execution.Subscribe(_workerId, resumed: false);
        }

        // The execution must not inherit the call's execution context (its activity, its log scope): it outlives
        // the call. It opens a log scope of its own.
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() => RunAsync(execution));
        }

        return ExecutionStart.Started;
    }

    /// <summary>
    /// Stops the task's execution (its model call and FFmpeg), drops it and any kept result, and waits (bounded)
    /// until its slot is free. Attached streams get a retryable <c>failed</c> event "cancelled: {reason}".
    /// <paramref name="keepProviderRequest"/> leaves its provider request running for the task's next attempt.
    /// Returns whether the worker had such a task, and the provider request the cancel ended (what it ran is billed).
    /// </summary>
    public async Task<(bool Found, ProviderUsageReport? Usage)> CancelAsync(string jobId, string taskId, string reason, CancellationToken cancellationToken, bool keepProviderRequest = false)
    {
        TaskExecution? execution;
        lock (_gate)
        {
            ExpireLocked();
            if (!_executions.Remove((jobId, taskId), out execution))
            {
                ExecutionLog.CancelUnknown(_logger, _workerId, jobId, taskId, reason);
                return (false, null);
            }
        }

        ExecutionLog.Cancelling(_logger, _workerId, jobId, taskId, execution.StartedByAttempt, execution.IsRunning, reason);
        var wasRunning = execution.IsRunning;
        execution.Cancel(reason, keepProviderRequest);
        try
        {
            // The model wait and FFmpeg stop on the token at once; bounded so a stuck executor cannot hold the call.
            // A provider request is cancelled there too, so its billed time is known when this returns.
            await execution.Ended.WaitAsync(TimeSpan.FromSeconds(wasRunning ? 8 : 3), cancellationToken);
        }
        catch (TimeoutException)
        {
            ExecutionLog.CancelSlow(_logger, _workerId, jobId, taskId);
        }

        // Only a cancel that ended a running execution owes its billing: a finished one reported its own already.
        return (true, wasRunning && execution.Terminal is ExecutionFailed { Usage: { } usage } ? usage : null);
    }

    /// <summary>
    /// Called as a stream writes a task's terminal event. A failure sent to a stream is dropped at once: the
    /// coordinator sees it, and its next RunTask for the task is a retry that must run anew (were the write lost, the
    /// retry runs anew too, which is what it would do with the failure). A completion stays kept for the retention.
    /// </summary>
    internal void TerminalSending(TaskExecution execution)
    {
        if (execution.Terminal is not ExecutionFailed)
        {
            return;
        }

        lock (_gate)
        {
            var key = (execution.Work.JobId, execution.Work.TaskId);
            if (_executions.TryGetValue(key, out var current) && ReferenceEquals(current, execution))
            {
                _executions.Remove(key);
            }
        }
    }

    /// <summary>Stops every execution still running (the worker is shutting down, after its drain).</summary>
    public void Dispose()
    {
        TaskExecution[] running;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            running = _executions.Values.Where(e => e.IsRunning).ToArray();
            _executions.Clear();
        }

        _sweep.Dispose();
        foreach (var execution in running)
        {
            execution.Cancel("worker stopping", keepProviderRequest: true); // the coordinator runs it again: let that attempt resume its request
        }
    }

    private async Task RunAsync(TaskExecution execution)
    {
        var work = execution.Work;
        using var scope = _logger.BeginScope("worker={WorkerId} job={JobId} task={TaskId} attempt={Attempt}", _workerId, work.JobId, work.TaskId, work.Attempt);
        try
        {
            await execution.RunAsync(_runner);
        }
        catch (Exception ex)
        {
            ExecutionLog.Crashed(_logger, ex, _workerId, work.JobId, work.TaskId);
        }

        if (_retention <= TimeSpan.Zero)
        {
            Sweep();
        }
    }

    private void Sweep()
    {
        lock (_gate)
        {
            ExpireLocked();
        }
    }

    private void ExpireLocked()
    {
        var now = _time.GetUtcNow();
        List<(string, string)>? expired = null;
        foreach (var (key, execution) in _executions)
        {
            if (execution.EndedAt is { } ended && now - ended >= _retention)
            {
                (expired ??= []).Add(key);
            }
        }

        foreach (var key in expired ?? [])
        {
            _executions.Remove(key);
            ExecutionLog.Expired(_logger, _workerId, key.Item1, key.Item2);
        }
    }
}
