using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Errors;
using Log = VideoGen.Coordinator.Scheduling.SchedulerLog;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The loop around <see cref="SchedulerCore"/>, and the farm state's only owner. Every change arrives as a command on one
/// channel; the loop hands each command of a batch to the core, asks it what to start, commits the resulting
/// <see cref="LoopPlan"/> to the store in one transaction, publishes its events and snapshots, and only then carries out
/// its effects: answers callers, opens attempts (<see cref="AttemptRunner"/>), stops tasks on workers, plans jobs and
/// sets wake-up timers. Nothing else touches the core, so there are no locks around the state, and a crash between a
/// commit and its effects loses nothing a restart does not resume.
/// </summary>
internal sealed class Orchestrator : IAsyncDisposable
{
    private const int MaxBatch = 1024;
    private const int FinishedSnapshotsKept = 2000;

    private readonly IJobStore _store;
    private readonly JobEventHub _hub;
    private readonly IWorkerTransport _transport;
    private readonly IJobPlanner _planner;
    private readonly SchedulingOptions _options;
    private readonly AttemptRunner _attempts;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly SchedulerCore _core;

    private readonly Channel<Command> _inbox = Channel.CreateUnbounded<Command>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();

    // Published after each commit for readers on other threads.
    private readonly ConcurrentDictionary<string, Job> _snapshots = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _finishedSnapshots = new();
    private volatile IReadOnlyList<WorkerInfo> _workerSnapshot = [];

    private Task? _loop;
    private ITimer? _checkTimer;
    private int _disposed;

    public Orchestrator(
        IJobStore store,
        JobEventHub hub,
        IWorkerTransport transport,
        IJobPlanner planner,
        ModelCatalog models,
        SchedulingOptions options,
        TimeProvider time,
        ILogger<Orchestrator> log,
        IFarmMetrics? metrics = null,
        RuleBasedPlanner? rules = null,
        Random? random = null)
    {
        _store = store;
        _hub = hub;
        _transport = transport;
        _planner = planner;
        _options = options;
        _time = time;
        _log = log;
        _attempts = new AttemptRunner(transport, Post);
        _core = new SchedulerCore(models, options, time, log, metrics, rules, random);
    }

    /// <summary>Workers as of the last commit.</summary>
    public IReadOnlyList<WorkerInfo> Workers => _workerSnapshot;

    /// <summary>True while the loop runs (started, not stopped, not faulted): the readiness of the job API.</summary>
    public bool IsRunning => _loop is { IsCompleted: false } && !_stopping.IsCancellationRequested;

    /// <summary>Resumes the jobs the store holds and starts the loop.</summary>
    public void Start()
    {
        var resumed = _store.LoadActive();
        foreach (var job in resumed)
        {
            _inbox.Writer.TryWrite(new ResumeJob(job));
        }

        _loop = Task.Run(RunLoopAsync);
        var interval = TimeSpan.FromSeconds(_options.CheckIntervalSeconds);
        _checkTimer = _time.CreateTimer(_ => Post(new CheckLeases()), null, interval, interval);
        Log.Started(_log, resumed.Count);
    }

    public async ValueTask DisposeAsync()
    {
        // The host stops it, then the container disposes it: the second call has nothing to do.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _checkTimer?.Dispose();
        _inbox.Writer.TryComplete();
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (var attempt in _core.OpenAttempts())
        {
            attempt.Cancel();
        }

        _stopping.Dispose();
    }

    // ---- API for the gRPC services (any thread) ----

    /// <summary>Accepts a validated job; returns the earlier job when <paramref name="requestId"/> was seen before.</summary>
    /// <remarks>A revision (<see cref="JobRequest.RevisionOf"/>) comes with its plan and the revised job's tasks it reuses (<paramref name="reuse"/>).</remarks>
    public async Task<(Job Job, bool Created)> SubmitAsync(string requestId, JobRequest request, Plan rulesPlan, IReadOnlyDictionary<string, Contracts.V1.TaskStatus>? reuse = null)
    {
        // A request id committed before is answered from the store here, off the loop; one not committed yet (or
        // committed since) is caught by the core, which knows every active job and the recently finished ones.
        if (!string.IsNullOrEmpty(requestId) && _store.FindByRequestId(requestId) is { } stored)
        {
            return (_snapshots.TryGetValue(stored.JobId, out var latest) ? latest : stored, false);
        }

        return await Ask<(Job, bool)>(reply => new SubmitJob(requestId, request, rulesPlan, reply, reuse));
    }

    /// <summary>Cancels a job; null when it does not exist.</summary>
    public async Task<Job?> CancelAsync(string jobId) =>
        await Ask<Job?>(reply => new CancelJob(jobId, reply)) ?? GetJob(jobId); // not active: as committed, if at all

    public Task<JoinResponse> JoinAsync(JoinRequest request) => Ask<JoinResponse>(reply => new JoinWorker(request, reply));

    public Task<bool> HeartbeatAsync(HeartbeatRequest request) => Ask<bool>(reply => new WorkerHeartbeat(request, reply));

    public Task<bool> LeaveAsync(string workerId) => Ask<bool>(reply => new WorkerLeave(workerId, reply));

    /// <summary>Stops giving the worker tasks; returns its address, or null when unknown.</summary>
    public Task<string?> DrainAsync(string workerId) => Ask<string?>(reply => new DrainWorker(workerId, reply));

    /// <summary>The job as of the last commit, from memory or the store; null when unknown.</summary>
    public Job? GetJob(string jobId) =>
        _snapshots.TryGetValue(jobId, out var job) ? job : _store.Get(jobId);

    public static bool IsTerminal(JobState state) => SchedulerCore.IsTerminal(state);

    private Task<T> Ask<T>(Func<TaskCompletionSource<T>, Command> make)
    {
        var reply = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(make(reply)))
        {
            reply.SetException(new ServiceUnavailableException("the coordinator is shutting down"));
        }

        return reply.Task;
    }

    internal void Post(Command command) => _inbox.Writer.TryWrite(command);

    // ---- The loop ----

    private async Task RunLoopAsync()
    {
        var reader = _inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                var applied = 0;
                while (applied < MaxBatch && reader.TryRead(out var command))
                {
                    applied++;
                    try
                    {
                        _core.Handle(command);
                    }
                    catch (Exception ex)
                    {
                        Log.CommandFailed(_log, command.GetType().Name, ex);
                        command.Fail(ex);
                    }
                }

                _core.Dispatch();
                var plan = _core.TakePlan();
                Commit(plan);
                Carry(plan.Effects);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.LoopCrashed(_log, ex);
            throw;
        }
    }

    /// <summary>Makes a plan durable, then visible: the store first, then snapshots and events for readers.</summary>
    private void Commit(LoopPlan plan)
    {
        if (plan.HasCommit)
        {
            try
            {
                // The copies taken with the plan (equal to the live jobs): the store may reuse what it serialized of their parts.
                _store.Commit(plan.Snapshots, plan.Events);
            }
            catch (Exception ex)
            {
                // Memory is now ahead of the store and nothing may be promised past this point:
                // crash, and let the restart resume from what was committed (crash-only).
                Log.CommitFailed(_log, ex);
                throw;
            }

            foreach (var job in plan.Snapshots)
            {
                _snapshots[job.JobId] = job;
                if (IsTerminal(job.State))
                {
                    _finishedSnapshots.Enqueue(job.JobId);
                }
            }

            while (_finishedSnapshots.Count > FinishedSnapshotsKept && _finishedSnapshots.TryDequeue(out var old))
            {
                _snapshots.TryRemove(old, out _);
            }

            _hub.Publish(plan.Events);
        }

        _workerSnapshot = _core.WorkerInfos();
    }

    /// <summary>Carries out what a committed plan decided.</summary>
    private void Carry(List<Effect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case Answer a:
                    a.Command.Complete(a.Value);
                    break;
                case StartAttempt s:
                    _attempts.Start(s);
                    break;
                case EndStream e:
                    if (e.Cancel)
                    {
                        e.Cancellation.Cancel();
                    }

                    e.Cancellation.Dispose();
                    break;
                case CancelOnWorker c:
                    _ = CancelOnWorkerAsync(c);
                    break;
                case PlanJob p:
                    _ = Task.Run(() => PlanAsync(p));
                    break;
                case WakeAt w:
                    var delay = w.At - _time.GetUtcNow();
                    _time.CreateTimer(static s => ((Orchestrator)s!).Post(new Wake()), this, delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown effect {effect.GetType().Name}");
            }
        }
    }

    private async Task PlanAsync(PlanJob p)
    {
        Plan plan;
        try
        {
            // A revision's plan is its original's with the changes asked: no planner makes it again.
            plan = p.Request.RevisionOf.Length > 0 ? p.RulesPlan : await _planner.PlanAsync(p.Request, p.RulesPlan, _stopping.Token);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            // A planner must fall back rather than fail; this is the last line of that promise.
            plan = p.RulesPlan.Clone();
            plan.Spec.PlannerNote = $"planner failed ({ex.GetType().Name}: {ex.Message}); used the rule-based plan";
        }

        Post(new PlanReady(p.JobId, plan));
    }

    /// <summary>Stops a task on its worker; a provider request the cancel ended is billed to the job (the core applies it).</summary>
    private async Task CancelOnWorkerAsync(CancelOnWorker c)
    {
        var usage = await _transport.CancelTaskAsync(c.Address, c.JobId, c.TaskId, c.Reason, c.KeepProviderRequest, CancellationToken.None);
        if (usage is not null)
        {
            Post(new ProviderBilled(c.JobId, c.TaskId, c.Model, usage, GetJob(c.JobId)?.Clone()));
        }
    }
}
