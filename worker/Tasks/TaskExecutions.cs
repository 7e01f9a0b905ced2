using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Services;

namespace VideoGen.Worker.Tasks;

/// <summary>What <see cref="TaskExecutions.StartOrAttach"/> did.</summary>
public enum ExecutionStart
{
    /// <summary>A new execution began in a newly reserved slot.</summary>
    Started,

    /// <summary>The task already had an execution (running, or finished and kept): the stream attached to it.</summary>
    Attached,

    /// <summary>No execution for the task and the worker is draining.</summary>
    Draining,

    /// <summary>No execution for the task and every slot is busy.</summary>
    Full,
}

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
    /// False when the worker has no such task.
    /// </summary>
    public async Task<bool> CancelAsync(string jobId, string taskId, string reason, CancellationToken cancellationToken)
    {
        TaskExecution? execution;
        lock (_gate)
        {
            ExpireLocked();
            if (!_executions.Remove((jobId, taskId), out execution))
            {
                ExecutionLog.CancelUnknown(_logger, _workerId, jobId, taskId, reason);
                return false;
            }
        }

        ExecutionLog.Cancelling(_logger, _workerId, jobId, taskId, execution.StartedByAttempt, execution.IsRunning, reason);
        execution.Cancel(reason);
        try
        {
            // The model wait and FFmpeg stop on the token at once; bounded so a stuck executor cannot hold the call.
            await execution.Ended.WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
        }
        catch (TimeoutException)
        {
            ExecutionLog.CancelSlow(_logger, _workerId, jobId, taskId);
        }

        return true;
    }

    /// <summary>
    /// Called as a stream writes a task's terminal event. A failure sent to a stream is dropped at once: the
    /// coordinator sees it, and its next RunTask for the task is a retry that must run anew (were the write lost, the
    /// retry runs anew too, which is what it would do with the failure). A completion stays kept for the retention.
    /// </summary>
    internal void TerminalSending(TaskExecution execution)
    {
        if (execution.Terminal?.EventCase != TaskEvent.EventOneofCase.Failed)
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
            execution.Cancel("worker stopping");
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

/// <summary>
/// One task's execution: runs the work once on its own cancellation source and records its events — the latest
/// progress, every artifact, the terminal event — so that a stream can attach at any time.
/// </summary>
public sealed class TaskExecution
{
    /// <summary>Queued intermediate progress events beyond which a slow stream misses some (milestones never).</summary>
    private const int ProgressBacklog = 64;

    private readonly object _gate = new();
    private readonly List<TaskSubscription> _subscribers = [];
    private readonly List<TaskEvent> _artifacts = [];
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IDisposable _lease;
    private readonly TimeProvider _time;
    private TaskEvent? _progress;
    private string _cancelReason = "";

    internal TaskExecution(TaskWork work, IDisposable lease, TimeProvider time)
    {
        Work = work;
        _lease = lease;
        _time = time;
    }

    /// <summary>The work as the starting attempt asked for it.</summary>
    public TaskWork Work { get; }

    /// <summary>The attempt whose RunTask started this execution.</summary>
    public int StartedByAttempt => Work.Attempt;

    /// <summary>The completed or failed event once the work ended.</summary>
    public TaskEvent? Terminal { get; private set; }

    /// <summary>When the work ended; null while running.</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>True until the work ended.</summary>
    public bool IsRunning => EndedAt is null;

    /// <summary>Completes when the work ended and its slot is free.</summary>
    public Task Ended => _ended.Task;

    internal void Cancel(string reason)
    {
        lock (_gate)
        {
            _cancelReason = reason;
        }

        _cancellation.Cancel();
    }

    internal TaskSubscription Subscribe(string workerId, bool resumed)
    {
        var subscription = new TaskSubscription(this);
        lock (_gate)
        {
            subscription.Write(new TaskEvent { Accepted = new TaskAccepted { WorkerId = workerId, Resumed = resumed, StartedByAttempt = StartedByAttempt } });
            if (_progress is not null)
            {
                subscription.Write(_progress);
            }

            foreach (var artifact in _artifacts)
            {
                subscription.Write(artifact);
            }

            if (Terminal is not null)
            {
                subscription.Write(Terminal);
                subscription.Complete();
            }
            else
            {
                _subscribers.Add(subscription);
            }
        }

        return subscription;
    }

    /// <summary>Removes a stream; true when it left before the terminal event was queued to it (a detach).</summary>
    internal bool Unsubscribe(TaskSubscription subscription)
    {
        lock (_gate)
        {
            var detached = _subscribers.Remove(subscription);
            subscription.Complete();
            return detached;
        }
    }

    internal async Task RunAsync(TaskRunner runner)
    {
        TaskEvent terminal;
        try
        {
            var result = await runner.RunAsync(Work, new Reporter(this), _cancellation.Token);
            terminal = new TaskEvent { Completed = TaskOutcomes.ToCompleted(result) };
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            string reason;
            lock (_gate)
            {
                reason = _cancelReason;
            }

            terminal = new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = $"cancelled: {reason}" } };
        }
        catch (Exception ex)
        {
            terminal = new TaskEvent { Failed = TaskOutcomes.ToFailed(ex) };
        }
        finally
        {
            // Free the slot before any stream reports the end: the coordinator may place its next task here the
            // moment it reads "completed".
            _lease.Dispose();
        }

        lock (_gate)
        {
            Terminal = terminal;
            EndedAt = _time.GetUtcNow();
            foreach (var subscriber in _subscribers)
            {
                subscriber.Write(terminal);
                subscriber.Complete();
            }

            _subscribers.Clear();
        }

        _ended.TrySetResult();
    }

    private void Publish(TaskEvent taskEvent, bool droppable)
    {
        lock (_gate)
        {
            if (Terminal is not null)
            {
                return;
            }

            switch (taskEvent.EventCase)
            {
                case TaskEvent.EventOneofCase.Progress:
                    _progress = taskEvent;
                    break;
                case TaskEvent.EventOneofCase.Artifact:
                    _artifacts.Add(taskEvent);
                    break;
            }

            foreach (var subscriber in _subscribers)
            {
                if (!droppable || subscriber.Backlog < ProgressBacklog)
                {
                    subscriber.Write(taskEvent);
                }
            }
        }
    }

    /// <summary>Records the executor's reports; never waits on a stream (a slow or gone stream must not stall the task).</summary>
    private sealed class Reporter(TaskExecution execution) : ITaskReporter
    {
        public ValueTask ProgressAsync(double fraction, string step, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            execution.Publish(Progress(fraction, step), droppable: false);
            return ValueTask.CompletedTask;
        }

        public void TryProgress(double fraction, string step) => execution.Publish(Progress(fraction, step), droppable: true);

        public ValueTask ArtifactAsync(ArtifactKind kind, string uri, long sizeBytes, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var artifact = new TaskArtifact { Kind = kind, Name = ArtifactKinds.Name(kind), Uri = uri, SizeBytes = sizeBytes };
            execution.Publish(new TaskEvent { Artifact = artifact }, droppable: false);
            return ValueTask.CompletedTask;
        }

        private static TaskEvent Progress(double fraction, string step) =>
            new() { Progress = new TaskProgress { Fraction = Math.Clamp(fraction, 0, 1), Step = step } };
    }
}

/// <summary>
/// One stream's view of an execution: accepted, (on attach) the latest progress and the artifacts so far, then the
/// live events and the terminal event. Dispose to detach; the execution goes on.
/// </summary>
public sealed class TaskSubscription : IDisposable
{
    // Not SingleReader: the multi-reader kind can count its backlog.
    private readonly Channel<TaskEvent> _events = Channel.CreateUnbounded<TaskEvent>();
    private int _disposed;

    internal TaskSubscription(TaskExecution execution) => Execution = execution;

    /// <summary>The execution this stream reports.</summary>
    public TaskExecution Execution { get; }

    /// <summary>The events to write, in order; completes after the terminal event (or at detach).</summary>
    public ChannelReader<TaskEvent> Events => _events.Reader;

    internal int Backlog => _events.Reader.Count;

    internal void Write(TaskEvent taskEvent) => _events.Writer.TryWrite(taskEvent);

    internal void Complete() => _events.Writer.TryComplete();

    /// <summary>Detaches; true when the stream left before its terminal event was queued (the execution goes on).</summary>
    public bool Detach() => Interlocked.Exchange(ref _disposed, 1) == 0 && Execution.Unsubscribe(this);

    /// <inheritdoc />
    public void Dispose() => Detach();
}

internal static partial class ExecutionLog
{
    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "worker {WorkerId}: attempt {Attempt} of {JobId}/{TaskId} attached to the execution started by attempt {StartedByAttempt} ({State})")]
    public static partial void Attached(ILogger logger, string workerId, string jobId, string taskId, int attempt, int startedByAttempt, string state);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "worker {WorkerId}: cancelling {JobId}/{TaskId} (started by attempt {StartedByAttempt}, running={Running}): {Reason}")]
    public static partial void Cancelling(ILogger logger, string workerId, string jobId, string taskId, int startedByAttempt, bool running, string reason);

    [LoggerMessage(EventId = 212, Level = LogLevel.Information, Message = "worker {WorkerId}: cancel of unknown task {JobId}/{TaskId}: {Reason}")]
    public static partial void CancelUnknown(ILogger logger, string workerId, string jobId, string taskId, string reason);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning, Message = "worker {WorkerId}: {JobId}/{TaskId} did not stop within 3 s of its cancel")]
    public static partial void CancelSlow(ILogger logger, string workerId, string jobId, string taskId);

    [LoggerMessage(EventId = 214, Level = LogLevel.Debug, Message = "worker {WorkerId}: kept result of {JobId}/{TaskId} expired")]
    public static partial void Expired(ILogger logger, string workerId, string jobId, string taskId);

    [LoggerMessage(EventId = 215, Level = LogLevel.Error, Message = "worker {WorkerId}: execution of {JobId}/{TaskId} crashed")]
    public static partial void Crashed(ILogger logger, Exception exception, string workerId, string jobId, string taskId);
}
