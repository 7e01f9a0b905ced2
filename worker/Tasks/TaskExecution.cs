using VideoGen.Contracts.V1;

namespace VideoGen.Worker.Tasks;

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
    private readonly List<ExecutionArtifact> _artifacts = [];
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IDisposable _lease;
    private readonly TimeProvider _time;
    private readonly ProviderJournal _journal;
    private ExecutionProgress? _progress;
    private ExecutionProviderRequest? _providerRequest;
    private string _cancelReason = "";

    internal TaskExecution(TaskWork work, IDisposable lease, TimeProvider time)
    {
        Work = work;
        _lease = lease;
        _time = time;
        _journal = new ProviderJournal(work.ResumeProviderRequestId, (provider, id) => Publish(new ExecutionProviderRequest(provider, id), droppable: false));
    }

    /// <summary>The work as the starting attempt asked for it.</summary>
    public TaskWork Work { get; }

    /// <summary>The attempt whose RunTask started this execution.</summary>
    public int StartedByAttempt => Work.Attempt;

    /// <summary>The completed or failed event once the work ended.</summary>
    public ExecutionEvent? Terminal { get; private set; }

    /// <summary>When the work ended; null while running.</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>True until the work ended.</summary>
    public bool IsRunning => EndedAt is null;

    /// <summary>Completes when the work ended and its slot is free.</summary>
    public Task Ended => _ended.Task;

    /// <summary>
    /// Stops the work. <paramref name="keepProviderRequest"/>: the task will run again, so its provider request is
    /// left running for the next attempt to resume (else it is cancelled at the provider, and billed for what it ran).
    /// </summary>
    internal void Cancel(string reason, bool keepProviderRequest = false)
    {
        lock (_gate)
        {
            _cancelReason = reason;
        }

        if (keepProviderRequest)
        {
            _journal.KeepRequestOnCancel();
        }

        _cancellation.Cancel();
    }

    internal TaskSubscription Subscribe(string workerId, bool resumed)
    {
        var subscription = new TaskSubscription(this);
        lock (_gate)
        {
            subscription.Write(new ExecutionAccepted(workerId, resumed, StartedByAttempt));
            if (_providerRequest is not null)
            {
                subscription.Write(_providerRequest);
            }

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
        ExecutionEvent terminal;
        ProviderJournal.Enter(_journal);
        try
        {
            var result = await runner.RunAsync(Work, new Reporter(this), _cancellation.Token);
            terminal = new ExecutionCompleted(result) { Usage = _journal.Usage };
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            string reason;
            lock (_gate)
            {
                reason = _cancelReason;
            }

            // A kept request is still running at the provider and billed to the attempt that resumes it.
            terminal = ExecutionFailed.Cancelled(reason) with { Usage = _journal.KeepOnCancel ? null : _journal.Usage };
        }
        catch (Exception ex)
        {
            terminal = ExecutionFailed.From(ex) with { Usage = _journal.Usage };
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

    private void Publish(ExecutionEvent executionEvent, bool droppable)
    {
        lock (_gate)
        {
            if (Terminal is not null)
            {
                return;
            }

            switch (executionEvent)
            {
                case ExecutionProgress progress:
                    _progress = progress;
                    break;
                case ExecutionArtifact artifact:
                    _artifacts.Add(artifact);
                    break;
                case ExecutionProviderRequest request:
                    _providerRequest = request;
                    break;
            }

            foreach (var subscriber in _subscribers)
            {
                if (!droppable || subscriber.Backlog < ProgressBacklog)
                {
                    subscriber.Write(executionEvent);
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
            execution.Publish(new ExecutionArtifact(kind, uri, sizeBytes), droppable: false);
            return ValueTask.CompletedTask;
        }

        private static ExecutionProgress Progress(double fraction, string step) => new(Math.Clamp(fraction, 0, 1), step);
    }
}
