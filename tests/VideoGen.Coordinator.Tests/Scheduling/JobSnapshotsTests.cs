using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;
using Xunit;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// The copies of a job handed to readers share what did not change with the copy before them, and are otherwise what a
/// full clone would be: equal to the live job, sharing no object the core will change, never changed afterwards.
/// </summary>
public sealed class JobSnapshotsTests
{
    private static Job LiveJob()
    {
        var request = new JobRequest { Prompt = "a 10 second clip of a lighthouse at dawn", Audio = false };
        var plan = OrchestratorHarness.Rules.Plan(request);
        var job = new Job { JobId = "job-1", State = JobState.Rendering, Request = request, Plan = plan, LastSequence = 3 };
        job.Tasks.AddRange(TaskGraph.Build(plan));
        Assert.True(job.Tasks.Count >= 3);
        return job;
    }

    private static void AssertSharesNothingWith(Job live, Job snapshot)
    {
        Assert.NotSame(live, snapshot);
        if (live.Plan is not null)
        {
            Assert.NotSame(live.Plan, snapshot.Plan);
        }

        Assert.NotSame(live.Request, snapshot.Request);
        for (var i = 0; i < live.Tasks.Count; i++)
        {
            Assert.NotSame(live.Tasks[i], snapshot.Tasks[i]);
        }
    }

    [Fact]
    public void First_IsAFullCopy()
    {
        var live = LiveJob();

        var snapshot = JobSnapshots.Take(live, previous: null);

        Assert.Equal(live, snapshot);
        AssertSharesNothingWith(live, snapshot);
    }

    [Fact]
    public void Next_SharesUnchangedTasksAndThePlan_CopiesWhatChanged_AndLeavesTheEarlierCopyAlone()
    {
        var live = LiveJob();
        var first = JobSnapshots.Take(live, previous: null);
        var firstAsItWas = first.Clone();

        live.Tasks[1].State = TaskState.Running;
        live.Tasks[1].Attempt = 1;
        live.CostUsd = 0.25;
        var second = JobSnapshots.Take(live, first);

        Assert.Equal(live, second);
        AssertSharesNothingWith(live, second);
        Assert.Same(first.Plan, second.Plan);
        Assert.Same(first.Tasks[0], second.Tasks[0]);
        Assert.Same(first.Tasks[2], second.Tasks[2]);
        Assert.NotSame(first.Tasks[1], second.Tasks[1]);
        Assert.Equal(firstAsItWas, first);
    }

    [Fact]
    public void TheLiveJob_KeepsItsOwnPlanAndTasks_InOrder()
    {
        var live = LiveJob();
        var plan = live.Plan;
        var tasks = live.Tasks.ToArray();
        var first = JobSnapshots.Take(live, previous: null);
        live.Tasks[0].State = TaskState.Succeeded;

        JobSnapshots.Take(live, first);

        Assert.Same(plan, live.Plan);
        Assert.Equal(tasks.Length, live.Tasks.Count);
        for (var i = 0; i < tasks.Length; i++)
        {
            Assert.Same(tasks[i], live.Tasks[i]);
        }
    }

    [Fact]
    public void AChangedPlan_OrChangedTaskList_IsCopied()
    {
        var live = LiveJob();
        var first = JobSnapshots.Take(live, previous: null);

        live.Plan.Spec.Style = "revised";
        live.Tasks.RemoveAt(0);
        live.Tasks.Add(new TaskStatus { TaskId = "extra", Kind = TaskKind.Chunk, State = TaskState.Waiting });
        var second = JobSnapshots.Take(live, first);

        Assert.Equal(live, second);
        AssertSharesNothingWith(live, second);
        Assert.NotSame(first.Plan, second.Plan);
        Assert.NotEqual(first.Plan, second.Plan);
    }

    [Fact]
    public void AnEventsCopy_IsShared_OnlyWhileItIsStillEqual()
    {
        var live = LiveJob();
        var first = JobSnapshots.Take(live, previous: null);
        live.Tasks[0].State = TaskState.Running;
        live.Tasks[1].State = TaskState.Running;
        var emitted = new Dictionary<string, TaskStatus>
        {
            [live.Tasks[0].TaskId] = live.Tasks[0].Clone(),
            [live.Tasks[1].TaskId] = live.Tasks[1].Clone(),
        };
        live.Tasks[1].State = TaskState.Succeeded; // changed again after its event in the same pass

        var second = JobSnapshots.Take(live, first, emitted);

        Assert.Equal(live, second);
        Assert.Same(emitted[live.Tasks[0].TaskId], second.Tasks[0]);
        Assert.NotSame(emitted[live.Tasks[1].TaskId], second.Tasks[1]);
        Assert.Equal(TaskState.Succeeded, second.Tasks[1].State);
    }

    [Fact]
    public void EveryPass_OfAJobRunToTheEnd_PublishesCopiesEqualToTheLiveJob_ThatNoLaterPassChanges()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T00:00:00Z"));
        var core = new SchedulerCore(ModelCatalog.Embedded(), new SchedulingOptions(), time, NullLogger.Instance, rules: OrchestratorHarness.Rules, random: new Random(7));
        var published = new List<(Job Snapshot, Job AsPublished)>();

        LoopPlan Step(Command command)
        {
            core.Handle(command);
            core.Dispatch();
            var plan = core.TakePlan();
            foreach (var snapshot in plan.Snapshots)
            {
                var live = plan.Changed[snapshot.JobId].Job;
                Assert.Equal(live, snapshot);
                AssertSharesNothingWith(live, snapshot);
                published.Add((snapshot, snapshot.Clone()));
            }

            return plan;
        }

        var request = new JobRequest { Prompt = "a 30 second product showcase for a titanium smartwatch", Audio = false };
        var submitted = Step(new SubmitJob("", request, OrchestratorHarness.Rules.Plan(request), new TaskCompletionSource<(Job, bool)>()));
        var planning = submitted.Of<PlanJob>().Single();
        var pending = new Queue<StartAttempt>(Step(new PlanReady(planning.JobId, planning.RulesPlan)).Of<StartAttempt>());
        foreach (var start in Step(new JoinWorker(new JoinRequest { WorkerId = "w1", Address = "w1", Slots = 2, Models = { "procedural-i2v", "procedural-image", "procedural-t2v" } }, new TaskCompletionSource<JoinResponse>())).Of<StartAttempt>())
        {
            pending.Enqueue(start);
        }

        var passes = 0;
        var state = JobState.Rendering;
        while (pending.TryDequeue(out var start) && passes++ < 200)
        {
            Step(new AttemptEvent(start.JobId, start.TaskId, start.Attempt, new TaskEvent { Accepted = new TaskAccepted() }));
            var done = Step(new AttemptEvent(start.JobId, start.TaskId, start.Attempt, new TaskEvent { Completed = FakeAttempt.CompletedFor(start.Request) }));
            foreach (var next in done.Of<StartAttempt>())
            {
                pending.Enqueue(next);
            }

            state = done.Snapshots.SingleOrDefault()?.State ?? state;
        }

        Assert.Equal(JobState.Succeeded, state);
        Assert.True(published.Count > 10, $"{published.Count} copies published");
        Assert.All(published, p => Assert.Equal(p.AsPublished, p.Snapshot));
    }
}
