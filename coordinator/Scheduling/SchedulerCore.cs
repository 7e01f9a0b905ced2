using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Errors;
using Log = VideoGen.Coordinator.Scheduling.SchedulerLog;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The scheduler's decisions, and the state they are made on: jobs, tasks and workers. A command (a submit, a worker's
/// report, a heartbeat, a lease check) changes that state and adds to the current <see cref="LoopPlan"/>: the jobs to
/// commit, the events to publish and the <see cref="Effect"/>s to carry out once committed (start an attempt, stop one
/// on its worker, answer a caller, plan a job, wake up later). It does no I/O, starts no thread or timer and reads no
/// store: its inputs are the commands, the time and a seeded random source, so its tests feed commands and assert on
/// plans (<c>SchedulerCoreTests</c>). <see cref="Orchestrator"/> is the loop around it that commits each plan and then
/// acts on it. Small pure policies hold the rules: <see cref="DispatchDecider"/> (placement, fairness, budget),
/// <see cref="FailurePolicy"/>, <see cref="LeasePolicy"/>, <see cref="CompletionPolicy"/>, <see cref="MembershipPolicy"/>,
/// <see cref="ModelFallbackPolicy"/>.
/// </summary>
internal sealed class SchedulerCore
{
    /// <summary>Finished jobs whose request id is still answered from memory (older ones from the store, by the caller).</summary>
    private const int FinishedRequestIdsKept = 2000;

    private readonly ModelCatalog _models;
    private readonly SchedulingOptions _options;
    private readonly FailurePolicy _failures;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly IFarmMetrics _metrics;
    private readonly RuleBasedPlanner _rules;
    private readonly TaskModels _taskModels;
    private readonly ProviderGate _providers;
    private readonly Random _random;

    private readonly Dictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _jobsByRequestId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Job> _finishedByRequestId = new(StringComparer.Ordinal);
    private readonly Queue<string> _finishedRequestIds = new();
    private readonly Dictionary<string, WorkerRecord> _workers = new(StringComparer.Ordinal);
    private readonly ReadyTasks _ready = new();
    private LoopPlan _plan = new();
    private long _jobOrder;

    public SchedulerCore(
        ModelCatalog models,
        SchedulingOptions options,
        TimeProvider time,
        ILogger log,
        IFarmMetrics? metrics = null,
        RuleBasedPlanner? rules = null,
        Random? random = null)
    {
        _rules = rules ?? new RuleBasedPlanner(TemplateCatalog.LoadDefault(), models);
        _models = models;
        _options = options;
        _taskModels = new TaskModels(models, options.StoryboardImageModel);
        _random = random ?? Random.Shared;
        _time = time;
        _log = log;
        _metrics = metrics ?? NullFarmMetrics.Instance;
        _failures = new FailurePolicy(new RetryPolicy(options.MaxAttempts, TimeSpan.FromSeconds(options.RetryBaseSeconds), TimeSpan.FromSeconds(options.RetryMaxSeconds)), options);
        _providers = new ProviderGate(options.CircuitOpenAfterFailures, TimeSpan.FromSeconds(options.CircuitPauseSeconds));
    }

    /// <summary>Tasks ready to run (tests and metrics).</summary>
    public int ReadyCount => _ready.Count;

    /// <summary>Applies one command to the state; what it decided joins the current plan.</summary>
    public void Handle(Command command)
    {
        switch (command)
        {
            case SubmitJob c: ApplySubmit(c); break;
            case ResumeJob c: ApplyResume(c.Job); break;
            case PlanReady c: ApplyPlanned(c); break;
            case CancelJob c: ApplyCancel(c); break;
            case AttemptEvent c: ApplyAttemptEvent(c.JobId, c.TaskId, c.Attempt, c.Event); break;
            case AttemptEvents c: ApplyAttemptEvents(c); break;
            case AttemptBroken c: ApplyAttemptBroken(c); break;
            case JoinWorker c: ApplyJoin(c); break;
            case WorkerHeartbeat c: ApplyHeartbeat(c); break;
            case WorkerLeave c: ApplyLeave(c); break;
            case CheckLeases: ApplyCheckLeases(); break;
            case DrainWorker c: ApplyDrain(c); break;
            case ProviderBilled c: ApplyProviderBilled(c); break;
            case Wake: break; // the loop dispatches after every batch
            default: throw new InvalidOperationException($"Unknown command {command.GetType().Name}");
        }
    }

    /// <summary>
    /// Hands over what the commands since the last call decided, to be committed and carried out, and forgets the jobs
    /// that ended (their request ids stay answerable for a while).
    /// </summary>
    public LoopPlan TakePlan()
    {
        var plan = _plan;
        _plan = new LoopPlan();
        foreach (var record in plan.Changed.Values)
        {
            var snapshot = JobSnapshots.Take(record.Job, record.Published, record.Emitted);
            record.Published = snapshot;
            record.Emitted.Clear();
            plan.Snapshots.Add(snapshot);
            if (IsTerminal(snapshot.State) && _jobs.Remove(snapshot.JobId))
            {
                if (!string.IsNullOrEmpty(snapshot.RequestId))
                {
                    _jobsByRequestId.Remove(snapshot.RequestId);
                    RememberFinished(snapshot);
                }
            }
        }

        return plan;
    }

    private void RememberFinished(Job job)
    {
        if (_finishedByRequestId.TryAdd(job.RequestId, job))
        {
            _finishedRequestIds.Enqueue(job.RequestId);
        }

        while (_finishedRequestIds.Count > FinishedRequestIdsKept)
        {
            _finishedByRequestId.Remove(_finishedRequestIds.Dequeue());
        }
    }

    /// <summary>The cancellation of every attempt in flight (for shutting down).</summary>
    public IEnumerable<CancellationTokenSource> OpenAttempts() =>
        _jobs.Values.SelectMany(j => j.Attempts.Values).Select(a => a.Cancellation);

    /// <summary>The workers as the API shows them.</summary>
    public IReadOnlyList<WorkerInfo> WorkerInfos()
    {
        var blocklists = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var job in _jobs.Values)
        {
            foreach (var worker in job.Blocklist)
            {
                blocklists[worker] = blocklists.GetValueOrDefault(worker) + 1;
            }
        }

        return _workers.Values.Select(w => ToInfo(w, blocklists.GetValueOrDefault(w.Id))).OrderBy(w => w.WorkerId, StringComparer.Ordinal).ToList();
    }

    private void Answer(Command command, object? value) => _plan.Effects.Add(new Answer(command, value));

    // ---- Jobs ----

    private void ApplySubmit(SubmitJob c)
    {
        if (!string.IsNullOrEmpty(c.RequestId))
        {
            // Older finished jobs were looked up in the store by the caller before it asked (Orchestrator.SubmitAsync).
            var existing = _jobsByRequestId.TryGetValue(c.RequestId, out var id) && _jobs.TryGetValue(id, out var active)
                ? active.Job.Clone()
                : _finishedByRequestId.GetValueOrDefault(c.RequestId);
            if (existing is not null)
            {
                Answer(c, (existing, false));
                return;
            }
        }

        var now = _time.GetUtcNow();
        var job = new Job
        {
            JobId = NewJobId(now),
            RequestId = c.RequestId ?? "",
            Request = c.Request.Clone(),
            State = JobState.Queued,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
        };
        if (string.IsNullOrEmpty(job.Request.Tenant))
        {
            job.Request.Tenant = "default";
        }

        var record = new JobRecord(job, _jobOrder++) { Reuse = c.Reuse };
        _jobs[job.JobId] = record;
        if (!string.IsNullOrEmpty(job.RequestId))
        {
            _jobsByRequestId[job.RequestId] = job.JobId;
        }

        EmitState(record);
        _metrics.JobSubmitted();
        Log.JobAccepted(_log, job.JobId, job.Request.Tenant);
        StartPlanning(record, c.RulesPlan);
        var snapshot = job.Clone();
        Answer(c, (snapshot, true));
    }

    private void StartPlanning(JobRecord record, Plan rulesPlan)
    {
        record.Job.State = JobState.Planning;
        EmitState(record);
        _plan.Effects.Add(new PlanJob(record.Job.JobId, record.Job.Request.Clone(), rulesPlan));
    }

    private void ApplyResume(Job job)
    {
        var record = new JobRecord(job, _jobOrder++);
        _jobs[job.JobId] = record;
        if (!string.IsNullOrEmpty(job.RequestId))
        {
            _jobsByRequestId[job.RequestId] = job.JobId;
        }

        if ((job.Plan is null || job.Tasks.Count == 0) && job.Request.RevisionOf.Length > 0 && !IsTerminal(job.State))
        {
            // A revision's plan and reuse came with its ReviseJob call, not from the rules: one cut short by the restart
            // before it was planned ends here, and the client revises again.
            EndJob(record, JobState.Failed, $"the coordinator restarted before this revision of {job.Request.RevisionOf} was planned; revise the job again");
            return;
        }

        if (job.Plan is null || job.Tasks.Count == 0)
        {
            // Accepted but not planned before the restart: plan again (rules are deterministic).
            StartPlanning(record, _rules.Plan(job.Request));
            return;
        }

        record.IndexTasks();
        foreach (var task in job.Tasks)
        {
            if (task.State == TaskState.Running)
            {
                // Its stream died with the previous coordinator process, but the worker keeps the task going:
                // the next attempt goes back to that worker and re-attaches instead of paying for it again.
                // The worker rejoins on its next heartbeat; only if it does not within the grace does the task
                // go elsewhere.
                task.State = TaskState.Ready;
                task.Error = "requeued: the coordinator restarted";
                record.ResumeOn[task.TaskId] = task.WorkerId;
                var grace = TimeSpan.FromSeconds(_options.ResumeGraceSeconds);
                record.NotBefore[task.TaskId] = _time.GetUtcNow() + grace;
                WakeAt(_time.GetUtcNow() + grace);
                EmitTask(record, task);
            }

            if (task.State == TaskState.Ready)
            {
                _ready.Add(new TaskRef(record, task));
            }
        }

        MarkDirty(record);
        Log.JobResumed(_log, job.JobId, job.State.ToString());
    }

    private void ApplyPlanned(PlanReady c)
    {
        if (!_jobs.TryGetValue(c.JobId, out var record) || record.Job.State != JobState.Planning)
        {
            return; // cancelled while planning
        }

        var job = record.Job;
        job.Plan = c.Plan;
        job.Tasks.Clear();
        job.Tasks.AddRange(TaskGraph.Build(c.Plan));
        record.IndexTasks();
        Emit(record, e => e.Planned = new Contracts.V1.JobPlanned { Plan = c.Plan.Clone() });
        job.State = JobState.Rendering;
        EmitState(record);
        if (record.Reuse is { Count: > 0 } reuse)
        {
            ApplyReuse(record, reuse);
        }

        record.Reuse = null;
        foreach (var task in job.Tasks.Where(t => t.State == TaskState.Ready))
        {
            _ready.Add(new TaskRef(record, task));
        }

        Log.JobPlanned(_log, job.JobId, c.Plan.Chunks.Count, c.Plan.Spec.DurationSeconds, c.Plan.Spec.Template, c.Plan.Spec.Planner);
    }

    /// <summary>
    /// A revision's reused tasks succeed at once with the revised job's outputs, unpaid (<see cref="Planning.Revisions"/>);
    /// then every task not reused whose inputs all exist is ready, and the others wait.
    /// </summary>
    private void ApplyReuse(JobRecord record, IReadOnlyDictionary<string, TaskStatus> reuse)
    {
        var job = record.Job;
        var now = Now();
        foreach (var task in job.Tasks)
        {
            if (!reuse.TryGetValue(task.TaskId, out var from))
            {
                continue;
            }

            task.State = TaskState.Succeeded;
            task.Progress = 1;
            task.OutputUri = from.OutputUri;
            task.LastFrameUri = from.LastFrameUri;
            task.MediaSeconds = from.MediaSeconds;
            task.SeamScore = from.SeamScore?.Clone();
            task.ReusedFrom = job.Request.RevisionOf;
            task.StartedAt = now;
            task.FinishedAt = now;
            EmitTask(record, task);
        }

        foreach (var task in job.Tasks.Where(t => t.State is TaskState.Ready or TaskState.Waiting))
        {
            var state = task.DependsOn.All(d => record.Tasks[d].State == TaskState.Succeeded) ? TaskState.Ready : TaskState.Waiting;
            if (state != task.State)
            {
                task.State = state;
                EmitTask(record, task);
            }
        }

        Log.RevisionReused(_log, job.JobId, job.Request.RevisionOf, reuse.Count, job.Tasks.Count);
    }

    private void ApplyCancel(CancelJob c)
    {
        if (!_jobs.TryGetValue(c.JobId, out var record))
        {
            Answer(c, null); // not active: the caller answers from what was committed
            return;
        }

        EndJob(record, JobState.Cancelled, "cancelled by a client");
        var snapshot = record.Job.Clone();
        Answer(c, snapshot);
    }

    /// <summary>Ends a job: stops its running attempts on their workers and closes every open task.</summary>
    private void EndJob(JobRecord record, JobState state, string error)
    {
        var job = record.Job;
        foreach (var task in job.Tasks)
        {
            if (task.State is TaskState.Running)
            {
                ReleaseAttempt(record, task, cancel: true);
                _metrics.TaskFinished(task.Kind, "cancelled", 0, _taskModels.ChargedTo(job, task), 0, 0);
            }

            if (task.State is TaskState.Running or TaskState.Ready or TaskState.Waiting)
            {
                _ready.Remove(new TaskRef(record, task));
                task.State = TaskState.Cancelled;
                task.FinishedAt = Now();
                EmitTask(record, task);
            }
        }

        job.State = state;
        job.Error = state == JobState.Succeeded ? "" : error;
        job.FinishedAt = Now();
        EmitState(record);
        _metrics.JobFinished(state, job.CostUsd, job.FinishedAt.ToDateTimeOffset() - job.CreatedAt.ToDateTimeOffset());
        Log.JobEnded(_log, job.JobId, state.ToString(), error);
    }

    // ---- Dispatch ----

    /// <summary>Asks <see cref="DispatchDecider"/> what to start and applies its plan: budget stops first, then the attempts.</summary>
    public void Dispatch()
    {
        if (_providers.AnyCircuitOpen(_time.GetUtcNow()))
        {
            MoveToFallbacks();
        }

        var plan = DispatchDecider.Decide(_ready, _jobs, _workers.Values, _time.GetUtcNow(), _taskModels, _options.TasksPerGpu, _providers);
        foreach (var (record, reason) in plan.BudgetStops)
        {
            EndJob(record, JobState.Failed, reason);
        }

        foreach (var (taskRef, reason) in plan.Waiting ?? [])
        {
            // A GPU task that cannot start says why (its model needs more memory than any GPU has, no GPU is free…).
            if (taskRef.Task.WaitingReason != reason && !IsTerminal(taskRef.Job.Job.State))
            {
                taskRef.Task.WaitingReason = reason;
                EmitTask(taskRef.Job, taskRef.Task);
            }
        }

        foreach (var (taskRef, worker) in plan.Starts)
        {
            StartAttempt(taskRef, worker);
        }
    }

    private void StartAttempt(TaskRef taskRef, WorkerRecord worker)
    {
        var (record, task) = (taskRef.Job, taskRef.Task);
        _ready.Remove(taskRef);
        record.NotBefore.Remove(task.TaskId);
        record.ResumeOn.Remove(task.TaskId);
        task.Attempt++;
        task.State = TaskState.Running;
        task.WorkerId = worker.Id;
        task.Progress = 0;
        task.Error = "";
        task.WaitingReason = "";
        task.StartedAt = Now();
        var request = TaskGraph.BuildRequest(record.Job, task, record.Tasks, _models, _options.StoryboardImageModel, _options.SeamGate);
        // The journal: an earlier attempt's provider request is resumed, not paid for again.
        request.ResumeProviderRequestId = task.ProviderRequestId;
        _providers.Started(_taskModels.PlacementModel(record.Job, task), _time.GetUtcNow());
        var attempt = new RunningAttempt(task.Attempt, worker.Id, new CancellationTokenSource(), LeasePolicy.AttemptLease(_time.GetUtcNow(), _options));
        record.Attempts[task.TaskId] = attempt;
        worker.Running.Add((record.Job.JobId, task.TaskId));
        EmitTask(record, task);
        if (task.Kind == TaskKind.Stitch && record.Job.State == JobState.Rendering)
        {
            record.Job.State = JobState.Stitching;
            EmitState(record);
        }
        else if (task.Kind == TaskKind.Finish && record.Job.State is JobState.Rendering or JobState.Stitching)
        {
            record.Job.State = JobState.Finishing;
            EmitState(record);
        }

        _metrics.TaskStarted(task.Kind);
        Log.TaskDispatched(_log, record.Job.JobId, task.TaskId, task.Attempt, worker.Id);
        var address = worker.Address;
        var (jobId, taskId, number, token) = (record.Job.JobId, task.TaskId, task.Attempt, attempt.Cancellation.Token);
        _plan.Effects.Add(new StartAttempt(address, request, jobId, taskId, number, token));
    }

    // ---- Attempt reports ----

    private bool TryGetCurrentAttempt(string jobId, string taskId, int attempt, out JobRecord record, out TaskStatus task)
    {
        task = null!;
        if (!_jobs.TryGetValue(jobId, out record!) || !record.Tasks.TryGetValue(taskId, out task!))
        {
            return false;
        }

        if (task.State != TaskState.Running || task.Attempt != attempt)
        {
            // A report from an attempt that no longer owns the task (a late "completed" from a worker
            // presumed dead, or from before a requeue) is refused: no task completes twice.
            _metrics.StaleReportRefused();
            Log.StaleReport(_log, jobId, taskId, attempt, task.Attempt);
            return false;
        }

        return true;
    }

    /// <summary>A worker's batch: each event applied on its own, so one that fails loses no other.</summary>
    private void ApplyAttemptEvents(AttemptEvents c)
    {
        foreach (var e in c.Events)
        {
            try
            {
                ApplyAttemptEvent(e.JobId, e.TaskId, e.Attempt, e.Event);
            }
            catch (Exception ex)
            {
                Log.CommandFailed(_log, nameof(AttemptEvent), ex);
            }
        }
    }

    private void ApplyAttemptEvent(string jobId, string taskId, int number, TaskEvent e)
    {
        if (!TryGetCurrentAttempt(jobId, taskId, number, out var record, out var task))
        {
            return;
        }

        var attempt = record.Attempts[task.TaskId];
        record.Attempts[task.TaskId] = attempt with { LeaseUntil = LeasePolicy.AttemptLease(_time.GetUtcNow(), _options) };
        switch (e.EventCase)
        {
            case TaskEvent.EventOneofCase.Accepted when e.Accepted.Resumed:
                Log.TaskResumed(_log, jobId, taskId, number, e.Accepted.StartedByAttempt, task.WorkerId);
                break;
            case TaskEvent.EventOneofCase.Accepted:
                break;
            case TaskEvent.EventOneofCase.Progress:
                var fraction = Math.Clamp(e.Progress.Fraction, 0, 1);
                // Progress is a UI signal: keep the event log to meaningful steps.
                if (fraction - task.Progress >= 0.05 || fraction >= 1)
                {
                    task.Progress = fraction;
                    EmitTask(record, task);
                }

                break;
            case TaskEvent.EventOneofCase.Artifact:
                break;
            case TaskEvent.EventOneofCase.ProviderRequest when e.ProviderRequest.RequestId != task.ProviderRequestId:
                // Committed with the attempt before anything else is promised: any later attempt resumes this request.
                task.ProviderRequestId = e.ProviderRequest.RequestId;
                EmitTask(record, task);
                Log.ProviderRequestJournalled(_log, jobId, taskId, number, e.ProviderRequest.Provider, task.ProviderRequestId);
                break;
            case TaskEvent.EventOneofCase.ProviderRequest:
                break;
            case TaskEvent.EventOneofCase.Completed:
                _providers.Succeeded(_taskModels.PlacementModel(record.Job, task));
                CompleteTask(record, task, e.Completed);
                break;
            case TaskEvent.EventOneofCase.Failed:
                NoteFailureCause(record, task, e.Failed.Cause);
                ApplyFailed(record, task, e.Failed);
                break;
        }
    }

    /// <summary>
    /// What a GPU worker's failure means for placement: out of memory → the retry needs a GPU with more free memory
    /// than the one it failed on; model unavailable → the worker is offered no more tasks of that model.
    /// </summary>
    private void NoteFailureCause(JobRecord record, TaskStatus task, FailureCause cause)
    {
        if (!_workers.TryGetValue(task.WorkerId, out var worker))
        {
            return;
        }

        switch (cause)
        {
            case FailureCause.OutOfMemory:
                var free = worker.Resources.Gpus.Count == 0 ? 0 : worker.Resources.Gpus.Max(g => g.FreeBytes);
                record.OutOfMemoryAt[task.TaskId] = Math.Max(free, record.OutOfMemoryAt.GetValueOrDefault(task.TaskId));
                break;
            case FailureCause.ModelUnavailable:
                var model = _taskModels.PlacementModel(record.Job, task);
                if (worker.WithheldModels.Add(model))
                {
                    Log.WorkerWithheldModel(_log, worker.Id, model);
                }

                break;
        }
    }

    private void ApplyAttemptBroken(AttemptBroken c)
    {
        if (!TryGetCurrentAttempt(c.JobId, c.TaskId, c.Attempt, out var record, out var task))
        {
            return;
        }

        switch (c.Kind)
        {
            case AttemptBreak.WorkerBusy or AttemptBreak.WorkerDraining or AttemptBreak.Fenced:
                // The worker was full or draining before our view caught up: not the task's fault.
                if (c.Kind == AttemptBreak.WorkerDraining && _workers.TryGetValue(task.WorkerId, out var w))
                {
                    w.Draining = true;
                }

                FailAttempt(record, task, $"worker refused the task: {c.Detail}", retryable: true, countsAsFailure: false);
                break;
            case AttemptBreak.Rejected:
                FailAttempt(record, task, $"worker rejected the task: {c.Detail}", retryable: false, countsAsFailure: true);
                break;
            case AttemptBreak.WorkerUnreachable when _workers.TryGetValue(task.WorkerId, out var unreachable) && !unreachable.Lost:
                // The worker cannot be reached (it died, or the network to it did): stop sending it work now rather
                // than after its heartbeats lapse, or every ready task would burn an attempt on it meanwhile. A
                // worker that is in fact alive is told "unknown" at its next heartbeat and joins again.
                unreachable.Lost = true;
                Log.WorkerLost(_log, unreachable.Id, (_time.GetUtcNow() - unreachable.LastHeartbeat).TotalSeconds);
                FailAttempt(record, task, c.Detail, retryable: true, countsAsFailure: true, backoff: false, requeueReason: "stream_lost");
                RequeueWorkerTasks(unreachable, "the worker became unreachable");
                break;
            default:
                FailAttempt(record, task, c.Detail, retryable: true, countsAsFailure: true, backoff: false, requeueReason: "stream_lost");
                break;
        }
    }

    private void CompleteTask(JobRecord record, TaskStatus task, TaskCompleted completed)
    {
        // Cost as billed: the model's billing rules applied to the provider's report of the request.
        completed.CostUsd = ProviderBilling.AttemptCost(_models, _taskModels.ChargedTo(record.Job, task), completed.Usage, completed.CostUsd);
        if (completed.SeamScore is { } seam && JudgeSeam(record, task, seam, completed.CostUsd) == SeamVerdict.Regenerate)
        {
            return;
        }

        var worker = task.WorkerId;
        ReleaseAttempt(record, task, cancel: false);
        if (_workers.TryGetValue(worker, out var w))
        {
            w.Succeeded++;
            w.ConsecutiveFailures = 0;
        }

        task.State = TaskState.Succeeded;
        task.Progress = 1;
        task.OutputUri = completed.OutputUri;
        task.LastFrameUri = completed.LastFrameUri;
        task.MediaSeconds = completed.MediaSeconds;
        task.CostUsd = completed.CostUsd;
        task.FinishedAt = Now();
        var job = record.Job;
        job.CostUsd = Math.Round(job.CostUsd + completed.CostUsd, 6);
        EmitTask(record, task);
        _metrics.TaskFinished(task.Kind, "succeeded", completed.ElapsedSeconds, _taskModels.ChargedTo(job, task), completed.MediaSeconds, completed.CostUsd);
        Log.TaskSucceeded(_log, job.JobId, task.TaskId, task.Attempt, worker, completed.ElapsedSeconds);

        if (CompletionPolicy.EndsJob(job, task.TaskId))
        {
            job.Deliverables.Clear();
            job.Deliverables.AddRange(completed.Deliverables);
            job.OutputUri = completed.OutputUri;
            job.OutputUrl = completed.OutputUrl;
            job.OutputDurationSeconds = completed.MediaSeconds;
            EndJob(record, JobState.Succeeded, "");
            return;
        }

        foreach (var dependent in CompletionPolicy.NewlyReady(record.Dependents(task.TaskId), id => record.Tasks[id].State))
        {
            dependent.State = TaskState.Ready;
            _ready.Add(new TaskRef(record, dependent));
            EmitTask(record, dependent);
        }
    }

    /// <summary>
    /// The seam gate (<see cref="SeamGatePolicy"/>) on a continuous chunk's clip: the score is kept on the task either way;
    /// a seam below the thresholds, with regenerations and budget left, sends the chunk back to be made with a new seed
    /// (the clip is paid for, as wasted spend; nothing counts as a failure), else the chunk goes on.
    /// </summary>
    private SeamVerdict JudgeSeam(JobRecord record, TaskStatus task, SeamScore seam, double attemptCostUsd)
    {
        var job = record.Job;
        var gate = _options.SeamGate;
        var verdict = SeamGatePolicy.Judge(seam, task.SeamRegenerations, gate, job, attemptCostUsd);
        task.SeamScore = seam.Clone();
        task.SeamScore.Passed = verdict == SeamVerdict.Passed;
        var model = _taskModels.ChargedTo(job, task);
        _metrics.SeamScored(model, task.SeamScore, verdict switch { SeamVerdict.Passed => "passed", SeamVerdict.Regenerate => "regenerated", _ => "kept_below" });
        if (verdict != SeamVerdict.Regenerate)
        {
            if (verdict == SeamVerdict.KeptBelow)
            {
                Log.SeamKeptBelow(_log, job.JobId, task.TaskId, task.Attempt, SeamGatePolicy.Why(seam, gate), task.SeamRegenerations);
            }

            return verdict;
        }

        // No cancel on the worker: a cancel racing the next attempt's RunTask there would stop that attempt. The next
        // attempt has another seed, and a worker never re-attaches a chunk asked with another seed to the clip it keeps.
        task.Error = SeamGatePolicy.Why(seam, gate);
        ReleaseAttempt(record, task, cancel: false);
        job.CostUsd = Math.Round(job.CostUsd + attemptCostUsd, 6);
        task.WastedCostUsd = Math.Round(task.WastedCostUsd + attemptCostUsd, 6);
        task.SeamRegenerations++;
        task.State = TaskState.Ready;
        _ready.Add(new TaskRef(record, task));
        _metrics.TaskRequeued("seam");
        if (attemptCostUsd > 0)
        {
            _metrics.ProviderSpendWasted(model, "seam", attemptCostUsd);
        }

        EmitTask(record, task);
        Log.SeamRegenerated(_log, job.JobId, task.TaskId, task.Attempt, task.Error, task.SeamRegenerations);
        return verdict;
    }

    private void FailAttempt(JobRecord record, TaskStatus task, string reason, bool retryable, bool countsAsFailure, double costUsd = 0, bool backoff = true, string requeueReason = "", DateTimeOffset? notBefore = null)
    {
        var worker = task.WorkerId;
        var job = record.Job;
        var now = _time.GetUtcNow();
        var known = _workers.TryGetValue(worker, out var w);
        var facts = new FailureFacts(task.Failures, known, w?.ConsecutiveFailures ?? 0, w?.QuarantinedUntil ?? DateTimeOffset.MinValue, record.WorkerFailures.GetValueOrDefault(worker));
        var decision = _failures.Decide(new AttemptFailure(retryable, countsAsFailure, backoff), facts, now, _random);
        // A task that runs again keeps its provider request running on the provider, for its next attempt to resume.
        ReleaseAttempt(record, task, cancel: true, keepProviderRequest: !decision.FailTask);
        job.CostUsd = Math.Round(job.CostUsd + costUsd, 6);
        if (costUsd > 0)
        {
            task.WastedCostUsd = Math.Round(task.WastedCostUsd + costUsd, 6);
        }

        task.Failures = decision.TaskFailures;
        if (countsAsFailure)
        {
            if (w is not null)
            {
                w.Failed++;
                w.ConsecutiveFailures = decision.WorkerConsecutiveFailures;
                if (decision.QuarantineUntil is { } until)
                {
                    w.QuarantinedUntil = until;
                    Log.WorkerQuarantined(_log, worker, _options.QuarantineSeconds);
                }
            }

            record.WorkerFailures[worker] = decision.WorkerFailuresInJob;
            if (decision.Blocklist && record.Blocklist.Add(worker))
            {
                Log.WorkerBlocklisted(_log, job.JobId, worker, decision.WorkerFailuresInJob);
            }
        }

        task.Error = reason;
        _metrics.TaskFinished(task.Kind, retryable ? "retried" : "failed", 0, _taskModels.ChargedTo(job, task), 0, costUsd);
        if (decision.FailTask)
        {
            task.State = TaskState.Failed;
            task.FinishedAt = Now();
            EmitTask(record, task);
            Log.TaskFailed(_log, job.JobId, task.TaskId, task.Attempt, worker, reason);
            EndJob(record, JobState.Failed, $"{task.TaskId} failed after {task.Failures} failed attempt(s): {reason}");
            return;
        }

        task.State = TaskState.Ready;
        if (notBefore is { } pausedUntil)
        {
            // The provider paused the model (429): the task waits ready until then, its attempts untouched.
            record.NotBefore[task.TaskId] = pausedUntil;
        }
        else if (decision.RetryAfter is { } delay)
        {
            record.NotBefore[task.TaskId] = now + delay;
            WakeAt(now + delay);
        }

        _ready.Add(new TaskRef(record, task));
        _metrics.TaskRequeued(requeueReason.Length > 0 ? requeueReason : countsAsFailure ? "failure" : "refused");
        EmitTask(record, task);
        Log.TaskRequeued(_log, job.JobId, task.TaskId, task.Attempt, worker, reason);
    }

    private void ReleaseAttempt(JobRecord record, TaskStatus task, bool cancel, bool keepProviderRequest = false)
    {
        if (record.Attempts.Remove(task.TaskId, out var attempt))
        {
            _plan.Effects.Add(new EndStream(attempt.Cancellation, cancel));
            if (_workers.TryGetValue(attempt.WorkerId, out var worker))
            {
                worker.Running.Remove((record.Job.JobId, task.TaskId));
                if (cancel)
                {
                    // Ending the stream alone leaves the task running on the worker (so that a coordinator
                    // restart does not pay for it twice); giving up on it must say so.
                    var (address, jobId, taskId, reason) = (worker.Address, record.Job.JobId, task.TaskId, task.Error);
                    var model = _taskModels.ChargedTo(record.Job, task);
                    _plan.Effects.Add(new CancelOnWorker(address, jobId, taskId, reason, keepProviderRequest, model));
                }
            }
        }
    }

    /// <summary>
    /// A failed attempt, priced as billed. A provider's 429 pauses the model until its Retry-After and requeues the task
    /// without consuming an attempt; an outage failure counts toward the model's circuit and consumes none either (the
    /// circuit holds the model's tasks back); anything else is an ordinary failure.
    /// </summary>
    private void ApplyFailed(JobRecord record, TaskStatus task, TaskFailed failed)
    {
        var model = _taskModels.PlacementModel(record.Job, task);
        var cost = ProviderBilling.AttemptCost(_models, _taskModels.ChargedTo(record.Job, task), failed.Usage, failed.CostUsd);
        if (failed.Usage is { Outcome: ProviderOutcome.Failed or ProviderOutcome.Canceled or ProviderOutcome.Aborted } ended)
        {
            // That request will produce nothing: the next attempt creates a new one.
            if (ended.RequestId == task.ProviderRequestId)
            {
                task.ProviderRequestId = "";
            }

            if (cost > 0)
            {
                _metrics.ProviderSpendWasted(_taskModels.ChargedTo(record.Job, task), ProviderBilling.WasteReason(ended.Outcome, jobEnded: false), cost);
            }
        }

        var now = _time.GetUtcNow();
        switch (failed.Fault)
        {
            case ProviderFault.Throttled:
                var until = now + TimeSpan.FromSeconds(Math.Clamp(failed.RetryAfterSeconds, 0.1, 3600));
                _providers.Throttle(model, until);
                _providers.Abandoned(model);
                EmitPaused(record, task, model, ProviderPauseReason.Throttled, until, failed.Reason);
                _metrics.ProviderPaused(model, "throttled");
                FailAttempt(record, task, $"throttled: {failed.Reason}", retryable: true, countsAsFailure: false, cost, notBefore: until, requeueReason: "throttled");
                WakeAt(until);
                return;
            case ProviderFault.Unavailable:
                if (_providers.Unavailable(model, now))
                {
                    var reopen = now + _providers.CircuitPause;
                    EmitPaused(record, task, model, ProviderPauseReason.CircuitOpen, reopen, failed.Reason);
                    _metrics.ProviderPaused(model, "circuit_open");
                    Log.CircuitOpened(_log, model, _providers.CircuitPause.TotalSeconds, failed.Reason);
                    WakeAt(reopen);
                }

                FailAttempt(record, task, $"provider unavailable: {failed.Reason}", retryable: true, countsAsFailure: false, cost, requeueReason: "provider_unavailable");
                return;
            default:
                if (failed.Usage is not null)
                {
                    _providers.Succeeded(model); // the provider answered: whatever failed, it is up
                }

                FailAttempt(record, task, failed.Reason, failed.Retryable, countsAsFailure: true, cost);
                return;
        }
    }

    /// <summary>Ready chunks whose model's circuit is open move to the catalog's fallback where their job allows it (<see cref="ModelFallbackPolicy"/>).</summary>
    private void MoveToFallbacks()
    {
        var now = _time.GetUtcNow();
        foreach (var (record, task) in _ready)
        {
            if (ModelFallbackPolicy.MoveTo(record.Job, task, _taskModels, _providers, now) is { } to)
            {
                var from = _taskModels.PlacementModel(record.Job, task);
                task.Model = to;
                task.ProviderRequestId = ""; // a request at the other model's provider cannot be resumed on this one
                Emit(record, e => e.ModelFallback = new ModelFallback { TaskId = task.TaskId, FromModel = from, ToModel = to });
                EmitTask(record, task);
                Log.ModelFallback(_log, record.Job.JobId, task.TaskId, from, to);
            }
        }
    }

    private void EmitPaused(JobRecord record, TaskStatus task, string model, ProviderPauseReason reason, DateTimeOffset until, string detail) =>
        Emit(record, e => e.ProviderPaused = new ProviderPaused
        {
            Model = model,
            Reason = reason,
            Until = Timestamp.FromDateTimeOffset(until),
            TaskId = task.TaskId,
            Detail = detail.Length <= 300 ? detail : detail[..300],
        });

    private void WakeAt(DateTimeOffset at) => _plan.Effects.Add(new WakeAt(at));

    /// <summary>
    /// What a cancelled attempt's provider request was billed (Replicate bills a canceled prediction for the time it
    /// ran): added to the job's cost, and to its task's wasted cost, even when the job has ended since.
    /// </summary>
    private void ApplyProviderBilled(ProviderBilled c)
    {
        var cost = ProviderBilling.AttemptCost(_models, c.Model, c.Usage, 0);
        if (cost <= 0)
        {
            return;
        }

        JobRecord record;
        if (!_jobs.TryGetValue(c.JobId, out record!))
        {
            if (c.Stored is not { } stored)
            {
                return;
            }

            record = new JobRecord(stored, -1);
            record.IndexTasks();
        }

        if (!record.Tasks.TryGetValue(c.TaskId, out var task))
        {
            return;
        }

        var job = record.Job;
        job.CostUsd = Math.Round(job.CostUsd + cost, 6);
        task.WastedCostUsd = Math.Round(task.WastedCostUsd + cost, 6);
        EmitTask(record, task);
        _metrics.CostBilledLate(c.Model, cost);
        _metrics.ProviderSpendWasted(c.Model, ProviderBilling.WasteReason(c.Usage.Outcome, jobEnded: IsTerminal(job.State)), cost);
        Log.ProviderBilled(_log, c.JobId, c.TaskId, c.Usage.RequestId, c.Usage.Outcome.ToString(), c.Usage.PredictSeconds, cost);
    }

    // ---- Workers ----

    private void ApplyJoin(JoinWorker c)
    {
        var r = c.Request;
        if (_workers.TryGetValue(r.WorkerId, out var previous))
        {
            // The same worker id joining again is a restarted worker: its old attempts are gone.
            RequeueWorkerTasks(previous, "the worker restarted");
        }

        var joined = MembershipPolicy.Joined(r, previous, _time.GetUtcNow());
        joined.Resources = GpuResources.From(r.Resources);
        _workers[r.WorkerId] = joined;
        foreach (var job in _jobs.Values)
        {
            foreach (var taskId in MembershipPolicy.ResumableOn(job, r.WorkerId))
            {
                job.NotBefore.Remove(taskId); // its worker is back: re-attach now
            }
        }

        Log.WorkerJoined(_log, r.WorkerId, r.Address, r.Slots, string.Join(",", r.Models));
        var response = new JoinResponse { HeartbeatIntervalSeconds = _options.HeartbeatIntervalSeconds, LeaseSeconds = _options.WorkerLeaseSeconds };
        Answer(c, response);
    }

    private void ApplyHeartbeat(WorkerHeartbeat c)
    {
        if (!_workers.TryGetValue(c.Request.WorkerId, out var worker) || !MembershipPolicy.TakesHeartbeat(worker))
        {
            Answer(c, false);
            return;
        }

        worker.LastHeartbeat = _time.GetUtcNow();
        worker.Draining |= c.Request.Draining; // a drain asked through the coordinator holds until the worker leaves
        if (c.Request.Resources is { Reported: true } resources)
        {
            var wasUnhealthy = worker.Unhealthy;
            worker.Resources = GpuResources.From(resources);
            if (worker.Unhealthy != wasUnhealthy)
            {
                Log.WorkerHealth(_log, worker.Id, worker.Unhealthy ? resources.UnhealthyReason : "healthy again");
            }
        }
        Answer(c, true);
    }

    private void ApplyLeave(WorkerLeave c)
    {
        if (_workers.Remove(c.WorkerId, out var worker))
        {
            RequeueWorkerTasks(worker, "the worker left");
            Log.WorkerLeft(_log, c.WorkerId);
        }

        Answer(c, worker is not null);
    }

    private void ApplyDrain(DrainWorker c)
    {
        string? address = null;
        if (_workers.TryGetValue(c.WorkerId, out var worker))
        {
            worker.Draining = true;
            address = worker.Address;
            Log.WorkerDraining(_log, worker.Id, worker.Running.Count);
        }

        Answer(c, address);
    }

    private void ApplyCheckLeases()
    {
        // Gauges are read at scrape time: refreshing them on this tick, not after every batch, keeps
        // a walk over every task off the dispatch path.
        _metrics.ObserveQueue(_ready.Count, _jobs.Values.Sum(j => j.WaitingCount), _workers.Values, _time.GetUtcNow());
        _metrics.ObserveJobs(_jobs.Values);
        var now = _time.GetUtcNow();
        foreach (var worker in _workers.Values)
        {
            if (!worker.Lost && LeasePolicy.HeartbeatLapsed(worker.LastHeartbeat, now, _options))
            {
                worker.Lost = true;
                Log.WorkerLost(_log, worker.Id, (now - worker.LastHeartbeat).TotalSeconds);
                RequeueWorkerTasks(worker, "the worker stopped heartbeating");
            }
        }

        foreach (var record in _jobs.Values)
        {
            if (record.Attempts.Count == 0)
            {
                continue;
            }

            foreach (var (taskId, attempt) in record.Attempts.ToList())
            {
                if (LeasePolicy.AttemptStuck(attempt.LeaseUntil, now))
                {
                    FailAttempt(record, record.Tasks[taskId], $"no progress for {_options.TaskLeaseSeconds} s (stuck); requeued", retryable: true, countsAsFailure: true, backoff: false, requeueReason: "stuck");
                }
            }
        }
    }

    private void RequeueWorkerTasks(WorkerRecord worker, string reason)
    {
        foreach (var (jobId, taskId) in worker.Running.ToList())
        {
            if (_jobs.TryGetValue(jobId, out var record) && record.Tasks.TryGetValue(taskId, out var task) && task.State == TaskState.Running)
            {
                FailAttempt(record, task, reason, retryable: true, countsAsFailure: true, backoff: false, requeueReason: "worker_lost");
            }
        }

        worker.Running.Clear();
    }

    // ---- Events ----

    private void Emit(JobRecord record, Action<JobEvent> fill)
    {
        var e = new JobEvent();
        fill(e);
        Emit(record, e);
    }

    /// <summary>Numbers, stamps and records an event whose body is set.</summary>
    private void Emit(JobRecord record, JobEvent e)
    {
        var job = record.Job;
        e.JobId = job.JobId;
        e.Sequence = ++job.LastSequence;
        e.Time = Now();
        _plan.Events.Add(e);
        MarkDirty(record);
    }

    private void EmitState(JobRecord record)
    {
        var job = record.Job;
        Emit(record, e => e.StateChanged = new JobStateChanged
        {
            State = job.State,
            CostUsd = job.CostUsd,
            OutputUri = job.OutputUri,
            OutputDurationSeconds = job.OutputDurationSeconds,
            OutputUrl = job.OutputUrl,
            Error = job.Error,
        });
    }

    private void EmitTask(JobRecord record, TaskStatus task)
    {
        var copy = task.Clone();
        record.Emitted[task.TaskId] = copy;
        Emit(record, new JobEvent { TaskUpdated = new TaskUpdated { Task = copy, JobCostUsd = record.Job.CostUsd } });
    }

    private void MarkDirty(JobRecord record) => _plan.Changed[record.Job.JobId] = record;

    private Timestamp Now() => Timestamp.FromDateTimeOffset(_time.GetUtcNow());

    private static string NewJobId(DateTimeOffset now) =>
        $"job-{now:yyyyMMddHHmmss}-{Convert.ToHexString(Guid.NewGuid().ToByteArray().AsSpan(0, 4)).ToLowerInvariant()}";

    public static bool IsTerminal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    private WorkerInfo ToInfo(WorkerRecord w, int blocklistedJobs)
    {
        var state = WorkerStates.Of(w, _time.GetUtcNow());
        var info = new WorkerInfo
        {
            WorkerId = w.Id,
            Address = w.Address,
            WorkerState = state,
            State = WorkerStates.Label(state),
            Slots = w.Slots,
            RunningTasks = w.Running.Count,
            LastHeartbeat = Timestamp.FromDateTimeOffset(w.LastHeartbeat),
            TasksSucceeded = w.Succeeded,
            TasksFailed = w.Failed,
            ConsecutiveFailures = w.ConsecutiveFailures,
            BlocklistedJobs = blocklistedJobs,
            QuarantinedUntil = w.QuarantinedUntil > _time.GetUtcNow() ? Timestamp.FromDateTimeOffset(w.QuarantinedUntil) : null,
        };
        info.Models.AddRange(w.Models.Order(StringComparer.Ordinal));
        info.Gpus.AddRange(w.Gpus);
        if (w.Resources.Reported || w.WithheldModels.Count > 0)
        {
            info.Resources = w.Resources.ToProto(w.WithheldModels);
        }

        return info;
    }
}
