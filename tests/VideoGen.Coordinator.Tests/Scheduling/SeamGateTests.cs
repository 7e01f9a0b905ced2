using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>Issue 16, item 2: the seam quality gate, as a pure policy and in the scheduler core's plans.</summary>
public sealed class SeamGateTests
{
    private static readonly SeamGateOptions Gate = new() { MinSsim = 0.85, MaxColourDistance = 20, MaxMotionJump = 15, MaxRegenerations = 2 };
    private static readonly SeamScore Good = new() { Ssim = 0.97, ColourDistance = 3, MotionJump = 0.5 };
    private static readonly SeamScore Flash = new() { Ssim = 0.31, ColourDistance = 48, MotionJump = 40 };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-29T00:00:00Z"));

    [Theory]
    [InlineData(0.85, 20, 15, true)]
    [InlineData(0.849, 0, 0, false)]
    [InlineData(1, 20.1, 0, false)]
    [InlineData(1, 0, 15.1, false)]
    public void Passes_NeedsEveryThreshold(double ssim, double colour, double jump, bool passes) =>
        Assert.Equal(passes, SeamGatePolicy.Passes(new SeamScore { Ssim = ssim, ColourDistance = colour, MotionJump = jump }, Gate));

    [Fact]
    public void Judge_BelowTheGate_RegeneratesUpToTheLimit_ThenKeepsTheChunk()
    {
        var job = new Job { Request = new JobRequest(), Plan = new Plan() };
        Assert.Equal(SeamVerdict.Passed, SeamGatePolicy.Judge(Good, 0, Gate, job, 0.45));
        Assert.Equal(SeamVerdict.Regenerate, SeamGatePolicy.Judge(Flash, 0, Gate, job, 0.45));
        Assert.Equal(SeamVerdict.Regenerate, SeamGatePolicy.Judge(Flash, 1, Gate, job, 0.45));
        Assert.Equal(SeamVerdict.KeptBelow, SeamGatePolicy.Judge(Flash, 2, Gate, job, 0.45));
        Assert.Equal("seam below the gate: SSIM 0.310 < 0.85, colour distance 48.0 > 20, motion jump 40.0 > 15", SeamGatePolicy.Why(Flash, Gate));
    }

    [Fact]
    public void Judge_WithoutBudgetForAnotherClip_KeepsTheChunk()
    {
        // A 10 s job on a $0.09/s model: 2 chunks of $0.45, plus nothing else paid. The first chunk is paid; the second's
        // first clip came back with a bad seam: remaking it needs $0.45 (wasted) + $0.45 (again) on top of $0.45.
        var request = new JobRequest { Prompt = "a 10 second clip of a lighthouse", Model = "wan-2.1-i2v-480p", Continuity = Continuity.Strict, Audio = false };
        var plan = OrchestratorHarness.Rules.Plan(request);
        var job = new Job { Request = request, Plan = plan, CostUsd = 0.45 };
        foreach (var task in TaskGraph.Build(plan))
        {
            task.State = task.TaskId == "chunk-0" ? TaskState.Succeeded : TaskState.Waiting;
            job.Tasks.Add(task);
        }

        request.MaxCostUsd = 1.40;
        Assert.True(SeamGatePolicy.BudgetAllowsRemake(job, 0.45));
        Assert.Equal(SeamVerdict.Regenerate, SeamGatePolicy.Judge(Flash, 0, Gate, job, 0.45));
        request.MaxCostUsd = 1.30;
        Assert.False(SeamGatePolicy.BudgetAllowsRemake(job, 0.45));
        Assert.Equal(SeamVerdict.KeptBelow, SeamGatePolicy.Judge(Flash, 0, Gate, job, 0.45));
    }

    [Fact]
    public void Core_ABadSeam_SendsTheChunkBackOnceWithANewSeed_DropsTheKeptClip_AndTheGoodSeamPasses()
    {
        var options = new SchedulingOptions { SeamGate = Gate };
        var core = new SchedulerCore(ModelCatalog.Embedded(), options, _time, NullLogger.Instance, rules: OrchestratorHarness.Rules, random: new Random(3));
        var request = new JobRequest { Prompt = "a 10 second clip of a lighthouse at dawn", Continuity = Continuity.Strict, Audio = false };
        core.Handle(new SubmitJob("", request, OrchestratorHarness.Rules.Plan(request), new TaskCompletionSource<(Job, bool)>()));
        core.Dispatch();
        var planning = core.TakePlan().Of<PlanJob>().Single();
        core.Handle(new PlanReady(planning.JobId, planning.RulesPlan));
        core.Handle(new JoinWorker(new JoinRequest { WorkerId = "w1", Address = "w1", Slots = 1, Models = { "procedural-i2v", "procedural-image" } }, new TaskCompletionSource<JoinResponse>()));
        core.Dispatch();

        // Run every task as it starts; chunk-1 (the continuous one) comes back once with a flash at its seam.
        var starts = new List<StartAttempt>();
        var plan = core.TakePlan();
        LoopPlan? regenerated = null;
        for (var guard = 0; guard < 20 && plan.Of<StartAttempt>().SingleOrDefault() is { } start; guard++)
        {
            starts.Add(start);
            var completed = FakeAttempt.CompletedFor(start.Request);
            if (start.TaskId == "chunk-1")
            {
                Assert.True(start.Request.Chunk.ScoreSeam);
                completed.SeamScore = starts.Count(s => s.TaskId == "chunk-1") == 1 ? Flash : Good;
            }
            else if (start.TaskId == "chunk-0")
            {
                Assert.False(start.Request.Chunk.ScoreSeam); // a reference chunk: no seam to score
            }

            core.Handle(new AttemptEvent(start.JobId, start.TaskId, start.Attempt, new TaskEvent { Completed = completed }));
            core.Dispatch();
            plan = core.TakePlan();
            if (start.TaskId == "chunk-1" && completed.SeamScore == Flash)
            {
                regenerated = plan;
            }
        }

        Assert.NotNull(regenerated);
        // The stream ends without a cancel (one could race the next attempt on the same worker) and the chunk runs again at once.
        Assert.Empty(regenerated.Of<CancelOnWorker>());
        Assert.False(Assert.Single(regenerated.Of<EndStream>()).Cancel);
        var chunk1 = starts.Where(s => s.TaskId == "chunk-1").ToList();
        Assert.Equal(2, chunk1.Count);
        Assert.Equal([1, 2], chunk1.Select(s => s.Attempt));
        Assert.NotEqual(chunk1[0].Request.Chunk.Seed, chunk1[1].Request.Chunk.Seed);

        var job = plan.Snapshots.Single();
        Assert.Equal(JobState.Succeeded, job.State);
        var task = job.Tasks.Single(t => t.TaskId == "chunk-1");
        Assert.Equal((1, 0, true), (task.SeamRegenerations, task.Failures, task.SeamScore.Passed));
        Assert.Equal(Good.Ssim, task.SeamScore.Ssim);
        Assert.Null(job.Tasks.Single(t => t.TaskId == "chunk-0").SeamScore);
    }
}
