using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;
using Xunit;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// The scheduler's decisions as plans: commands in, <see cref="LoopPlan"/> out, on fake time and a seeded random source.
/// No loop, thread, timer or store: each step runs what the loop would (handle, dispatch, take the plan) and the
/// assertions read the plan itself — what will be committed and what will be done after.
/// </summary>
public sealed class SchedulerCoreTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-27T00:00:00Z");

    private readonly FakeTimeProvider _time = new(T0);
    private readonly SchedulingOptions _options = new();

    private SchedulerCore NewCore(int seed = 7) =>
        new(ModelCatalog.Embedded(), _options, _time, NullLogger.Instance, rules: OrchestratorHarness.Rules, random: new Random(seed));

    /// <summary>What one pass of the loop does with one command.</summary>
    private static LoopPlan Step(SchedulerCore core, Command command)
    {
        core.Handle(command);
        core.Dispatch();
        return core.TakePlan();
    }

    private static JobRequest Request(string prompt = "a 10 second clip of a lighthouse at dawn") => new() { Prompt = prompt, Audio = false };

    private static (Job Job, bool Created) Submitted(LoopPlan plan) => ((Job, bool))plan.Of<Answer>().Single().Value!;

    /// <summary>Submits and plans a job; returns it as committed after planning.</summary>
    private static Job SubmitAndPlan(SchedulerCore core, JobRequest request, string requestId = "")
    {
        var rules = OrchestratorHarness.Rules.Plan(request);
        var submitted = Step(core, new SubmitJob(requestId, request, rules, new TaskCompletionSource<(Job, bool)>()));
        var jobId = Submitted(submitted).Job.JobId;
        var planning = submitted.Of<PlanJob>().Single();
        Assert.Equal(jobId, planning.JobId);
        var planned = Step(core, new PlanReady(jobId, planning.RulesPlan));
        return planned.Snapshots.Single(j => j.JobId == jobId);
    }

    private static JoinWorker Join(string id, int slots = 2) =>
        new(new JoinRequest { WorkerId = id, Address = id, Slots = slots, Models = { "procedural-i2v", "procedural-image", "procedural-t2v" } }, new TaskCompletionSource<JoinResponse>());

    [Fact]
    public void Submit_CommitsTheJobBeforeAnsweringAndPlanning()
    {
        var core = NewCore();
        var plan = Step(core, new SubmitJob("", Request(), OrchestratorHarness.Rules.Plan(Request()), new TaskCompletionSource<(Job, bool)>()));

        var (job, created) = Submitted(plan);
        Assert.True(created);
        Assert.Equal(JobState.Planning, plan.Snapshots.Single().State);
        Assert.Equal([JobState.Queued, JobState.Planning], plan.Events.Select(e => e.StateChanged.State));
        Assert.Equal([1L, 2L], plan.Events.Select(e => e.Sequence));
        Assert.Contains(job.JobId, plan.Changed.Keys);
        // The planner runs after the commit, and the caller hears after it too.
        Assert.Equal([typeof(PlanJob), typeof(Answer)], plan.Effects.Select(e => e.GetType()));
    }

    [Fact]
    public void ReadyTasks_StartOnlyWhenAWorkerHasFreeSlots_AtMostItsSlots()
    {
        var core = NewCore();
        var job = SubmitAndPlan(core, Request());
        var ready = job.Tasks.Count(t => t.State == TaskState.Ready);
        Assert.True(ready >= 2, "the plan starts with parallel tasks");
        Assert.Equal(JobState.Rendering, job.State);

        var joined = Step(core, Join("w1", slots: 1));
        Assert.IsType<JoinResponse>(joined.Of<Answer>().Single().Value);
        var start = Assert.Single(joined.Of<StartAttempt>());
        Assert.Equal("w1", start.Address);
        Assert.Equal(1, start.Attempt);
        Assert.Equal(start.TaskId, start.Request.TaskId);
        var running = joined.Snapshots.Single().Tasks.Single(t => t.TaskId == start.TaskId);
        Assert.Equal((TaskState.Running, "w1"), (running.State, running.WorkerId));

        // The worker is full: nothing more starts until it frees a slot.
        Assert.Empty(Step(core, new Wake()).Of<StartAttempt>());
        var second = Step(core, Join("w2", slots: 1)).Of<StartAttempt>().Single();
        Assert.Equal("w2", second.Address);
        Assert.NotEqual(start.TaskId, second.TaskId);
    }

    [Fact]
    public void Completion_ReleasesTheStream_AndStartsTheDependentOnTheFreedSlot()
    {
        var core = NewCore();
        var job = SubmitAndPlan(core, Request());
        var start = Step(core, Join("w1", slots: 1)).Of<StartAttempt>().Single();
        var dependents = job.Tasks.Where(t => t.DependsOn.Contains(start.TaskId)).Select(t => t.TaskId).ToList();

        var done = Step(core, new AttemptEvent(job.JobId, start.TaskId, 1, new TaskEvent { Completed = FakeAttempt.CompletedFor(start.Request) }));

        var released = Assert.Single(done.Of<EndStream>());
        Assert.False(released.Cancel);
        Assert.Empty(done.Of<CancelOnWorker>());
        var after = done.Snapshots.Single();
        Assert.Equal(TaskState.Succeeded, after.Tasks.Single(t => t.TaskId == start.TaskId).State);
        var next = Assert.Single(done.Of<StartAttempt>());
        Assert.Equal("w1", next.Address);
        if (dependents.Count > 0)
        {
            Assert.All(dependents, id => Assert.NotEqual(TaskState.Waiting, after.Tasks.Single(t => t.TaskId == id).State));
        }
    }

    [Fact]
    public void RetryableFailure_RequeuesWithSeededBackoff_AndWakesTheLoopWhenItEnds()
    {
        var core = NewCore();
        var job = SubmitAndPlan(core, Request());
        // Slots for every ready task, so that a free slot is not what holds the retry back.
        var start = Step(core, Join("w1", slots: 16)).Of<StartAttempt>().First();

        var failed = Step(core, new AttemptEvent(job.JobId, start.TaskId, 1, new TaskEvent { Failed = new TaskFailed { Reason = "model error", Retryable = true } }));

        // The stream is cancelled and the worker told to stop; the task waits out its backoff.
        Assert.True(Assert.Single(failed.Of<EndStream>()).Cancel);
        var stop = Assert.Single(failed.Of<CancelOnWorker>());
        Assert.Equal((start.JobId, start.TaskId, "w1"), (stop.JobId, stop.TaskId, stop.Address));
        Assert.True(stop.KeepProviderRequest, "a task that runs again keeps its provider request for the next attempt");
        var wake = Assert.Single(failed.Of<WakeAt>());
        Assert.True(wake.At > T0, "a retry waits");
        var task = failed.Snapshots.Single().Tasks.Single(t => t.TaskId == start.TaskId);
        Assert.Equal((TaskState.Ready, 1), (task.State, task.Failures));
        Assert.DoesNotContain(failed.Of<StartAttempt>(), s => s.TaskId == start.TaskId);

        // Before the backoff ends nothing restarts it; at the wake-up it starts again as attempt 2.
        _time.SetUtcNow(wake.At - TimeSpan.FromMilliseconds(1));
        Assert.DoesNotContain(Step(core, new Wake()).Of<StartAttempt>(), s => s.TaskId == start.TaskId);
        _time.SetUtcNow(wake.At);
        var retried = Step(core, new Wake()).Of<StartAttempt>().Single(s => s.TaskId == start.TaskId);
        Assert.Equal(2, retried.Attempt);
    }

    [Fact]
    public void TheSameCommandsAndSeed_MakeTheSamePlans()
    {
        static List<string> Run(SchedulerCoreTests t, int seed)
        {
            t._time.SetUtcNow(T0);
            var core = t.NewCore(seed);
            var job = SubmitAndPlan(core, Request());
            var start = Step(core, Join("w1", slots: 1)).Of<StartAttempt>().Single();
            var failed = Step(core, new AttemptEvent(job.JobId, start.TaskId, 1, new TaskEvent { Failed = new TaskFailed { Reason = "x", Retryable = true } }));
            // Job ids carry a random part of their own: compare what the scheduler decided.
            return failed.Effects.Select(e => e switch
            {
                WakeAt w => $"wake {w.At:O}",
                CancelOnWorker c => $"cancel {c.TaskId} on {c.Address}",
                EndStream s => $"end cancel={s.Cancel}",
                StartAttempt s => $"start {s.TaskId}#{s.Attempt} on {s.Address}",
                _ => e.GetType().Name,
            }).ToList();
        }

        var first = Run(this, seed: 42);
        Assert.Equal(first, Run(this, seed: 42));
        Assert.Contains(first, e => e.StartsWith("wake ", StringComparison.Ordinal));
    }

    [Fact]
    public void AReportFromAnAttemptThatNoLongerOwnsTheTask_ChangesNothing()
    {
        var core = NewCore();
        var job = SubmitAndPlan(core, Request());
        var start = Step(core, Join("w1", slots: 1)).Of<StartAttempt>().Single();
        // A lost stream requeues the task without backoff: the same pass starts it again, as attempt 2.
        var retried = Step(core, new AttemptBroken(job.JobId, start.TaskId, 1, AttemptBreak.StreamLost, "lost")).Of<StartAttempt>().Single(s => s.TaskId == start.TaskId);
        Assert.Equal(2, retried.Attempt);

        var stale = Step(core, new AttemptEvent(job.JobId, start.TaskId, 1, new TaskEvent { Completed = FakeAttempt.CompletedFor(start.Request, "-stale") }));

        Assert.False(stale.HasCommit);
        Assert.Empty(stale.Effects);
    }

    [Fact]
    public void Cancel_StopsRunningAttemptsOnTheirWorkers_AndAnswersWithTheCancelledJob()
    {
        var core = NewCore();
        var job = SubmitAndPlan(core, Request());
        var starts = Step(core, Join("w1", slots: 2)).Of<StartAttempt>().ToList();
        Assert.Equal(2, starts.Count);

        var cancelled = Step(core, new CancelJob(job.JobId, new TaskCompletionSource<Job?>()));

        var answer = (Job)cancelled.Of<Answer>().Single().Value!;
        Assert.Equal(JobState.Cancelled, answer.State);
        Assert.Equal(starts.Select(s => s.TaskId).Order(), cancelled.Of<CancelOnWorker>().Select(c => c.TaskId).Order());
        Assert.All(cancelled.Of<CancelOnWorker>(), c => Assert.False(c.KeepProviderRequest));
        Assert.All(cancelled.Of<EndStream>(), e => Assert.True(e.Cancel));
        Assert.All(cancelled.Snapshots.Single().Tasks, t => Assert.True(t.State is TaskState.Cancelled or TaskState.Succeeded, t.TaskId));
        // Its answer comes after the stops are decided, and all of it after the commit.
        Assert.IsType<Answer>(cancelled.Effects[^1]);

        // An ended job is no longer the core's: cancelling it again answers "not active" (the loop then reads the store).
        Assert.Null(Step(core, new CancelJob(job.JobId, new TaskCompletionSource<Job?>())).Of<Answer>().Single().Value);
    }

    [Fact]
    public void ARequestIdSeenBefore_AnswersTheEarlierJob_WhileActiveAndAfterItEnded()
    {
        var core = NewCore();
        var request = Request();
        var first = Submitted(Step(core, new SubmitJob("req-1", request, OrchestratorHarness.Rules.Plan(request), new TaskCompletionSource<(Job, bool)>())));
        var again = Step(core, new SubmitJob("req-1", request, OrchestratorHarness.Rules.Plan(request), new TaskCompletionSource<(Job, bool)>()));
        Assert.Equal((first.Job.JobId, false), (Submitted(again).Job.JobId, Submitted(again).Created));
        Assert.False(again.HasCommit);

        Step(core, new CancelJob(first.Job.JobId, new TaskCompletionSource<Job?>()));
        var afterEnd = Submitted(Step(core, new SubmitJob("req-1", request, OrchestratorHarness.Rules.Plan(request), new TaskCompletionSource<(Job, bool)>())));
        Assert.Equal((first.Job.JobId, false, JobState.Cancelled), (afterEnd.Job.JobId, afterEnd.Created, afterEnd.Job.State));
    }

    [Fact]
    public void AfterARestart_ARunningTaskWaitsForItsWorkerUntilTheGrace_ThenGoesElsewhere()
    {
        var before = NewCore();
        SubmitAndPlan(before, Request());
        var joined = Step(before, Join("w1", slots: 1));
        var start = joined.Of<StartAttempt>().Single();
        var stored = joined.Snapshots.Single(); // what the store holds: the task running on w1
        Assert.Equal((TaskState.Running, "w1"), stored.Tasks.Where(t => t.TaskId == start.TaskId).Select(t => (t.State, t.WorkerId)).Single());

        // A new core, as after a coordinator restart, resumes what the store held.
        var after = NewCore();
        var resumed = Step(after, new ResumeJob(stored));
        var wake = Assert.Single(resumed.Of<WakeAt>());
        Assert.Equal(T0 + TimeSpan.FromSeconds(_options.ResumeGraceSeconds), wake.At);
        Assert.Equal(TaskState.Ready, resumed.Snapshots.Single().Tasks.Single(t => t.TaskId == start.TaskId).State);

        // Another worker does not get it within the grace; its own worker, back, does.
        Assert.DoesNotContain(Step(after, Join("w2", slots: 4)).Of<StartAttempt>(), s => s.TaskId == start.TaskId);
        var back = Step(after, Join("w1", slots: 1)).Of<StartAttempt>().Single(s => s.TaskId == start.TaskId);
        Assert.Equal(("w1", 2), (back.Address, back.Attempt));
    }

    [Fact]
    public void AWorkerWhoseHeartbeatsLapse_LosesItsTasks_WhichRunElsewhere()
    {
        var core = NewCore();
        var job = SubmitAndPlan(core, Request());
        var start = Step(core, Join("w1", slots: 1)).Of<StartAttempt>().Single();
        Step(core, Join("w2", slots: 0));

        _time.Advance(TimeSpan.FromSeconds(_options.WorkerLeaseSeconds + 1));
        Step(core, new WorkerHeartbeat(new HeartbeatRequest { WorkerId = "w2" }, new TaskCompletionSource<bool>()));
        var check = Step(core, new CheckLeases());

        Assert.True(Assert.Single(check.Of<EndStream>()).Cancel);
        var task = check.Snapshots.Single(j => j.JobId == job.JobId).Tasks.Single(t => t.TaskId == start.TaskId);
        Assert.Equal(TaskState.Ready, task.State);
        Assert.Empty(check.Of<StartAttempt>()); // w2 has no slot, w1 is lost
        var w3 = Step(core, Join("w3", slots: 1)).Of<StartAttempt>().Single();
        Assert.Equal((start.TaskId, "w3", 2), (w3.TaskId, w3.Address, w3.Attempt));
    }
}
