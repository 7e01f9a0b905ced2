using System.Runtime.CompilerServices;
using Grpc.Core;
using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>A job and the scheduler's bookkeeping around it. Owned by the orchestrator's loop.</summary>
internal sealed class JobRecord(Job job, long order)
{
    private Dictionary<string, List<TaskStatus>> _dependents = new(StringComparer.Ordinal);

    public Job Job { get; } = job;

    /// <summary>The copy of <see cref="Job"/> last handed to readers: the next copy shares what has not changed since.</summary>
    public Job? Published { get; set; }

    /// <summary>The copies of tasks made for events since the last hand-over, by task id (see <see cref="JobSnapshots"/>).</summary>
    public Dictionary<string, TaskStatus> Emitted { get; } = new(StringComparer.Ordinal);

    /// <summary>Submission order, for oldest-first placement.</summary>
    public long Order { get; } = order;

    public Dictionary<string, TaskStatus> Tasks { get; private set; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> TaskOrder { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>Running attempts by task id.</summary>
    public Dictionary<string, RunningAttempt> Attempts { get; } = new(StringComparer.Ordinal);

    /// <summary>Retry backoff: a ready task does not run before this time.</summary>
    public Dictionary<string, DateTimeOffset> NotBefore { get; } = new(StringComparer.Ordinal);

    /// <summary>Tasks whose execution outlived a coordinator restart, and the worker still running it.</summary>
    public Dictionary<string, string> ResumeOn { get; } = new(StringComparer.Ordinal);

    /// <summary>Failed attempts of this job per worker.</summary>
    public Dictionary<string, int> WorkerFailures { get; } = new(StringComparer.Ordinal);

    /// <summary>Workers that get no more of this job's tasks.</summary>
    public HashSet<string> Blocklist { get; } = new(StringComparer.Ordinal);

    /// <summary>A revision's reused tasks of the job it revises, by task id, until the plan is applied.</summary>
    public IReadOnlyDictionary<string, TaskStatus>? Reuse { get; set; }

    /// <summary>Tasks that ran out of GPU memory, and the free memory of the GPU they failed on: a retry needs more.</summary>
    public Dictionary<string, long> OutOfMemoryAt { get; } = new(StringComparer.Ordinal);

    public int WaitingCount => Job.Tasks.Count(t => t.State == TaskState.Waiting);

    public IReadOnlyList<TaskStatus> Dependents(string taskId) =>
        _dependents.TryGetValue(taskId, out var list) ? list : [];

    /// <summary>Builds the lookups over <see cref="Job.Tasks"/> (after planning or loading).</summary>
    public void IndexTasks()
    {
        Tasks = Job.Tasks.ToDictionary(t => t.TaskId, StringComparer.Ordinal);
        TaskOrder = Job.Tasks.Select((t, i) => (t.TaskId, i)).ToDictionary(x => x.TaskId, x => x.i, StringComparer.Ordinal);
        _dependents = new Dictionary<string, List<TaskStatus>>(StringComparer.Ordinal);
        foreach (var task in Job.Tasks)
        {
            foreach (var dependency in task.DependsOn)
            {
                if (!_dependents.TryGetValue(dependency, out var list))
                {
                    _dependents[dependency] = list = [];
                }

                list.Add(task);
            }
        }
    }
}

/// <summary>A task of a job; equality by identity of both.</summary>
internal readonly record struct TaskRef(JobRecord Job, TaskStatus Task)
{
    // Identity, not the protobuf message's value equality: a task in the ready set is updated in place (its
    // waiting_reason), and a hash that followed its fields would lose it in the set.
    public bool Equals(TaskRef other) => ReferenceEquals(Job, other.Job) && ReferenceEquals(Task, other.Task);

    public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(Job), RuntimeHelpers.GetHashCode(Task));
}

/// <summary>One attempt in flight: who runs it, how to stop it, until when its lease holds.</summary>
internal sealed record RunningAttempt(int Attempt, string WorkerId, CancellationTokenSource Cancellation, DateTimeOffset LeaseUntil);

/// <summary>A worker as the scheduler tracks it.</summary>
internal sealed class WorkerRecord(string id, string address, HashSet<string> models, int slots, List<string> gpus, DateTimeOffset joinedAt)
{
    public string Id { get; } = id;
    public string Address { get; } = address;
    public HashSet<string> Models { get; } = models;
    public int Slots { get; } = slots;
    public List<string> Gpus { get; } = gpus;
    public DateTimeOffset LastHeartbeat { get; set; } = joinedAt;
    public bool Draining { get; set; }
    public bool Lost { get; set; }
    public HashSet<(string JobId, string TaskId)> Running { get; } = [];
    public long Succeeded { get; set; }
    public long Failed { get; set; }
    public int ConsecutiveFailures { get; set; }
    public DateTimeOffset QuarantinedUntil { get; set; }

    /// <summary>GPU workers: GPUs, free memory, loaded and withheld models, health, from the last join or heartbeat.</summary>
    public GpuResources Resources { get; set; } = GpuResources.None;

    /// <summary>Models a task failure said this worker cannot run (its server lacks a node or file), until it joins again.</summary>
    public HashSet<string> WithheldModels { get; } = new(StringComparer.Ordinal);

    /// <summary>True while the worker's inference server does not answer: it gets no tasks.</summary>
    public bool Unhealthy => Resources.UnhealthyReason.Length > 0;

    /// <summary>The models the worker can run now: what it serves, less what it or its failures withheld.</summary>
    public IReadOnlySet<string> RunnableModels => WithheldModels.Count == 0 && Resources.Withheld.Count == 0
        ? Models
        : Models.Where(m => !WithheldModels.Contains(m) && !Resources.Withheld.Contains(m)).ToHashSet(StringComparer.Ordinal);

    public bool IsSchedulable => !Lost && !Draining && !Unhealthy;
}

/// <summary>Everything the loop does starts as one of these.</summary>
internal abstract record Command
{
    public virtual void Fail(Exception error)
    {
    }

    /// <summary>Answers the caller, for commands that have one (<see cref="Answer"/>).</summary>
    public virtual void Complete(object? value)
    {
    }
}

internal abstract record Command<T>(TaskCompletionSource<T> Reply) : Command
{
    public override void Fail(Exception error) => Reply.TrySetException(error);

    public override void Complete(object? value) => Reply.TrySetResult((T)value!);
}

/// <remarks><paramref name="Reuse"/>: for a revision, the revised job's tasks whose outputs it reuses, by task id.</remarks>
internal sealed record SubmitJob(string RequestId, JobRequest Request, Plan RulesPlan, TaskCompletionSource<(Job, bool)> Reply,
    IReadOnlyDictionary<string, TaskStatus>? Reuse = null) : Command<(Job, bool)>(Reply);

internal sealed record ResumeJob(Job Job) : Command;

internal sealed record PlanReady(string JobId, Plan Plan) : Command;

internal sealed record CancelJob(string JobId, TaskCompletionSource<Job?> Reply) : Command<Job?>(Reply);

internal sealed record AttemptEvent(string JobId, string TaskId, int Attempt, TaskEvent Event) : Command;

/// <summary>Events of several attempts as one worker sent them in one batch, each tagged with its attempt: one command for the batch.</summary>
internal sealed record AttemptEvents(IReadOnlyList<WorkEvent> Events) : Command;

internal sealed record AttemptBroken(string JobId, string TaskId, int Attempt, AttemptBreak Kind, string Detail) : Command;

internal sealed record JoinWorker(JoinRequest Request, TaskCompletionSource<JoinResponse> Reply) : Command<JoinResponse>(Reply);

internal sealed record WorkerHeartbeat(HeartbeatRequest Request, TaskCompletionSource<bool> Reply) : Command<bool>(Reply);

internal sealed record WorkerLeave(string WorkerId, TaskCompletionSource<bool> Reply) : Command<bool>(Reply);

internal sealed record CheckLeases : Command;

internal sealed record DrainWorker(string WorkerId, TaskCompletionSource<string?> Reply) : Command<string?>(Reply);

internal sealed record Wake : Command;

/// <summary>
/// A cancelled attempt's provider request, as the worker's CancelTask reported it: billed to its job (already ended,
/// usually). <paramref name="Stored"/> is the job as committed, a copy, for when it is no longer active.
/// </summary>
internal sealed record ProviderBilled(string JobId, string TaskId, string Model, ProviderUsage Usage, Job? Stored = null) : Command;
