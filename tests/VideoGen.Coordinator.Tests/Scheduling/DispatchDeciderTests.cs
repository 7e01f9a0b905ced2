using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// The dispatch decision as a pure function (issue #14): plain state in, a plan out — no loop, no threads, no timers,
/// no store. What the loop does with a plan is covered by <see cref="OrchestratorTests"/>.
/// </summary>
public sealed class DispatchDeciderTests
{
    private const string Wan = "wan-2.1-i2v-480p";
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly ModelCatalog Catalog = ModelCatalog.Embedded();
    private static readonly RuleBasedPlanner Planner = new(TemplateCatalog.LoadDefault(), Catalog);
    private static readonly TaskModels Models = new(Catalog);

    [Fact]
    public void FreshJob_StartsItsReadyTasks_OnFreeSlots_WithinEachWorkersSlots()
    {
        var job = Record("a 30 second product showcase for a titanium smartwatch");
        var workers = new[] { Worker("w1", 2), Worker("w2", 2) };

        var plan = Decide([job], workers);

        Assert.Empty(plan.BudgetStops);
        Assert.Equal(4, plan.Starts.Count); // four slots, more than four ready tasks (storyboards, voiceover, music)
        Assert.All(plan.Starts, s => Assert.Equal(TaskState.Ready, s.Task.Task.State));
        Assert.Equal(plan.Starts.Count, plan.Starts.Select(s => s.Task.Task.TaskId).Distinct().Count());
        Assert.All(plan.Starts.GroupBy(s => s.Worker.Id), g => Assert.Equal(2, g.Count()));
    }

    [Fact]
    public void Decide_ChangesNothing_AndGivesTheSamePlanTwice()
    {
        var job = Record("a 30 second product showcase for a titanium smartwatch");
        var workers = new[] { Worker("w1", 2), Worker("w2", 1) };
        var states = job.Job.Tasks.Select(t => (t.TaskId, t.State, t.Attempt, t.WorkerId)).ToList();

        var first = Decide([job], workers);
        var second = Decide([job], workers);

        Assert.Equal(Describe(first), Describe(second));
        Assert.Equal(states, job.Job.Tasks.Select(t => (t.TaskId, t.State, t.Attempt, t.WorkerId)).ToList());
        Assert.All(workers, w => Assert.Empty(w.Running));
    }

    [Fact]
    public void TaskInItsRetryBackoff_WaitsUntilItsTime()
    {
        var job = Record("a 10 second showcase for a watch");
        var storyboard = job.Job.Tasks.First(t => t.State == TaskState.Ready && t.Kind == TaskKind.Storyboard);
        foreach (var other in job.Job.Tasks.Where(t => t != storyboard && t.State == TaskState.Ready))
        {
            other.State = TaskState.Succeeded; // only the one in backoff is left ready
        }

        job.NotBefore[storyboard.TaskId] = Now.AddSeconds(2);

        Assert.Empty(Decide([job], [Worker("w1", 4)]).Starts);
        Assert.Equal(storyboard.TaskId, Assert.Single(Decide([job], [Worker("w1", 4)], Now.AddSeconds(2)).Starts).Task.Task.TaskId);
    }

    [Fact]
    public void DrainingLostQuarantinedOrFullWorkers_GetNothing()
    {
        var job = Record("a 10 second showcase for a watch");
        var draining = Worker("draining", 4);
        draining.Draining = true;
        var lost = Worker("lost", 4);
        lost.Lost = true;
        var quarantined = Worker("quarantined", 4);
        quarantined.QuarantinedUntil = Now.AddSeconds(1);
        var full = Worker("full", 1);
        full.Running.Add(("other-job", "chunk-0"));

        Assert.Empty(Decide([job], [draining, lost, quarantined, full]).Starts);

        var plan = Decide([job], [draining, lost, quarantined, full, Worker("ok", 1)]);
        Assert.Equal("ok", Assert.Single(plan.Starts).Worker.Id);
    }

    [Fact]
    public void ChunkOfAModelNoWorkerServes_IsNotPlaced()
    {
        var job = Record("a 10 second showcase for a watch", Wan);
        ReadyChunk0(job);

        var plan = Decide([job], [Worker("w1", 4, "procedural-i2v")]);

        Assert.DoesNotContain(plan.Starts, s => s.Task.Task.Kind == TaskKind.Chunk);
        Assert.Contains(plan.Starts, s => s.Task.Task.Kind == TaskKind.Storyboard); // any worker draws storyboards
    }

    [Fact]
    public void JobPastItsBudget_Stops_AndStartsNoneOfItsTasks_InThatPass()
    {
        var planned = Record("a 30 second product showcase for a titanium smartwatch", Wan).Job.Plan.Chunks;
        var job = Record("a 30 second product showcase for a titanium smartwatch", Wan, maxCostUsd: planned.Sum(c => c.CostUsd));
        ReadyChunk0(job);
        foreach (var audio in job.Job.Tasks.Where(t => t.Kind is TaskKind.Voiceover or TaskKind.Music))
        {
            audio.State = TaskState.Succeeded;
        }

        job.Job.CostUsd = 0.45; // a billed failure: $0.45 spent + every chunk still to pay > the budget, which is every chunk's price
        var healthy = Record("a 10 second showcase for a watch", Wan, order: 1);

        var plan = Decide([job, healthy], [Worker("w1", 8, Wan)]);

        var (stopped, reason) = Assert.Single(plan.BudgetStops);
        Assert.Same(job, stopped);
        Assert.StartsWith(FormattableString.Invariant($"budget: $0.45 spent + ${planned.Sum(c => c.CostUsd):0.00} planned for {planned.Count} chunk(s)"), reason);
        // Not even its free storyboards, placed before the chunk in the same pass.
        Assert.Contains(job.Job.Tasks, t => t.Kind == TaskKind.Storyboard && t.State == TaskState.Ready);
        Assert.DoesNotContain(plan.Starts, s => s.Task.Job == job);
        Assert.Contains(plan.Starts, s => s.Task.Job == healthy);
    }

    [Fact]
    public void BudgetGuard_CountsWhatIsStillToPay()
    {
        var job = Record("a 10 second showcase for a watch", Wan, maxCostUsd: 0.90).Job;

        Assert.Null(BudgetGuard.Check(job)); // $0 spent + $0.90 planned: at the budget
        job.CostUsd = 0.01;
        Assert.NotNull(BudgetGuard.Check(job));
        job.Tasks.Single(t => t.TaskId == "chunk-0").State = TaskState.Succeeded;
        job.CostUsd = 0.45; // chunk-0 paid: $0.45 + $0.45 still to pay
        Assert.Null(BudgetGuard.Check(job));

        job.Request.ClearMaxCostUsd();
        job.CostUsd = 1000;
        Assert.Null(BudgetGuard.Check(job)); // no budget, no guard
    }

    [Fact]
    public void ThousandsReady_OneFreeSlot_GoesToTheBestTask_ByPriorityThenAge()
    {
        // More ready tasks than a pass looks at per tenant (free slots + slack): the selection must still find the best.
        var jobs = Enumerable.Range(0, 300).Select(i => Record("a 10 second showcase for a watch", order: 1000 - i)).ToList();
        var oldest = jobs[^1];

        var first = Assert.Single(Decide(jobs, [Worker("w1", 1)]).Starts).Task;
        Assert.Equal(oldest.Job.JobId, first.Job.Job.JobId);
        Assert.Equal(oldest.Job.Tasks.First(t => t.State == TaskState.Ready).TaskId, first.Task.TaskId);

        jobs[17].Job.Request.Priority = 5;
        Assert.Equal(jobs[17].Job.JobId, Assert.Single(Decide(jobs, [Worker("w1", 1)]).Starts).Task.Job.Job.JobId);
    }

    [Fact]
    public void ThousandsReadyForOneTenant_DoNotHideAnotherTenantsTask()
    {
        var jobs = Enumerable.Range(0, 200).Select(i => Record("a 10 second showcase for a watch", order: i)).ToList();
        var small = Record("a 10 second showcase for a watch", order: 500);
        small.Job.Request.Tenant = "small";
        jobs.ForEach(j => j.Job.Request.Tenant = "big");
        var busy = Worker("w1", 3);
        busy.Running.Add((jobs[0].Job.JobId, "running-elsewhere")); // big already runs a task

        var plan = Decide([.. jobs, small], [busy]);

        Assert.Equal(2, plan.Starts.Count);
        Assert.Contains(plan.Starts, s => s.Task.Job == small);
    }

    private static DispatchPlan Decide(IReadOnlyList<JobRecord> jobs, IReadOnlyList<WorkerRecord> workers, DateTimeOffset? now = null)
    {
        var ready = jobs.SelectMany(j => j.Job.Tasks.Where(t => t.State == TaskState.Ready).Select(t => new TaskRef(j, t))).ToList();
        return DispatchDecider.Decide(ready, jobs.ToDictionary(j => j.Job.JobId), workers, now ?? Now, Models);
    }

    private static JobRecord Record(string prompt, string model = "", double? maxCostUsd = null, long order = 0)
    {
        var request = new JobRequest { Prompt = prompt, Model = model, Transition = "cut", EndCard = false };
        if (maxCostUsd is { } max)
        {
            request.MaxCostUsd = max;
        }

        var plan = Planner.Plan(request);
        var job = new Job { JobId = $"job-{order}", Request = request, Plan = plan, State = JobState.Rendering };
        job.Tasks.AddRange(TaskGraph.Build(plan));
        var record = new JobRecord(job, order);
        record.IndexTasks();
        return record;
    }

    private static void ReadyChunk0(JobRecord job)
    {
        var chunk = job.Tasks["chunk-0"];
        foreach (var dependency in chunk.DependsOn)
        {
            job.Tasks[dependency].State = TaskState.Succeeded;
        }

        chunk.State = TaskState.Ready;
    }

    private static WorkerRecord Worker(string id, int slots, params string[] models) =>
        new(id, $"http://{id}", [.. models.Length > 0 ? models : ["procedural-i2v"]], slots, [], Now);

    private static string Describe(DispatchPlan plan) =>
        string.Join(";", plan.Starts.Select(s => $"{s.Task.Task.TaskId}@{s.Worker.Id}")) + "|" + string.Join(";", plan.BudgetStops.Select(s => s.Reason));
}
