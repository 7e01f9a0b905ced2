using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// What <see cref="SchedulerCore"/> decided for one batch of commands: the jobs to commit and their events, in one
/// transaction, then the effects to carry out once that commit made them true. Nothing in it has happened yet.
/// </summary>
internal sealed class LoopPlan
{
    /// <summary>Jobs changed by the batch, by id (the live records: committed as they are at the end of the batch).</summary>
    public Dictionary<string, JobRecord> Changed { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Copies of <see cref="Changed"/> taken when the plan was handed over: what the store commits and readers are
    /// handed; never changed (<see cref="JobSnapshots"/>).
    /// </summary>
    public Persistence.JobCopies Snapshots { get; } = [];

    /// <summary>Events for watchers, in order; each job's sequence numbers are consecutive.</summary>
    public List<JobEvent> Events { get; } = [];

    /// <summary>What to do after the commit, in order.</summary>
    public List<Effect> Effects { get; } = [];

    public bool HasCommit => Changed.Count > 0 || Events.Count > 0;

    /// <summary>The effects of one type (tests).</summary>
    public IEnumerable<T> Of<T>() where T : Effect => Effects.OfType<T>();
}

/// <summary>Something the loop does after a commit: the core's only way to touch the world.</summary>
internal abstract record Effect;

/// <summary>Answers a caller that asked through a command.</summary>
internal sealed record Answer(Command Command, object? Value) : Effect;

/// <summary>Opens an attempt's stream to its worker (<see cref="AttemptRunner"/>); its reports come back as commands.</summary>
internal sealed record StartAttempt(string Address, RunTaskRequest Request, string JobId, string TaskId, int Attempt, CancellationToken Token) : Effect;

/// <summary>Lets go of an attempt's stream: cancelled (the loop gave up on it) or just released (it reported its result).</summary>
internal sealed record EndStream(CancellationTokenSource Cancellation, bool Cancel) : Effect;

/// <summary>Tells a worker to stop a task (ending the stream alone leaves it running there, to survive a coordinator restart).</summary>
internal sealed record CancelOnWorker(string Address, string JobId, string TaskId, string Reason, bool KeepProviderRequest, string Model) : Effect;

/// <summary>Plans a job (the planner may call a model); the plan comes back as <see cref="PlanReady"/>.</summary>
internal sealed record PlanJob(string JobId, JobRequest Request, Plan RulesPlan) : Effect;

/// <summary>Runs the loop again at a time (a retry's backoff, a provider's pause, a restart's grace).</summary>
internal sealed record WakeAt(DateTimeOffset At) : Effect;
