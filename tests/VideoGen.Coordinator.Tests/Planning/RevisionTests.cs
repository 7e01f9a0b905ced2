using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Coordinator.Tests.Scheduling;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>Issue 16, item 3: revisions reuse every task whose content address is unchanged.</summary>
public sealed class RevisionTests
{
    private static readonly ModelCatalog Catalog = ModelCatalog.Embedded();
    private static readonly RuleBasedPlanner Rules = new(TemplateCatalog.LoadDefault(), Catalog);
    private const string Showcase = "A 30 second product showcase for a titanium smartwatch";

    /// <summary>A succeeded job of <paramref name="request"/>: every task done with an output of its own.</summary>
    private static Job Done(JobRequest request, string jobId = "job-original")
    {
        var plan = Rules.Plan(request);
        var job = new Job { JobId = jobId, Request = request, Plan = plan, State = JobState.Succeeded };
        foreach (var task in TaskGraph.Build(plan))
        {
            task.State = TaskState.Succeeded;
            task.OutputUri = $"file:///farm/jobs/{jobId}/{task.TaskId}";
            task.LastFrameUri = $"file:///farm/jobs/{jobId}/{task.TaskId}.last.png";
            task.CostUsd = task.Kind == TaskKind.Chunk ? plan.Chunks[task.Index].CostUsd : 0;
            job.Tasks.Add(task);
        }

        job.CostUsd = job.Tasks.Sum(t => t.CostUsd);
        return job;
    }

    /// <summary>The chunks a change at chunk <paramref name="first"/> reaches: it and the continuous chunks after it in its take.</summary>
    private static List<string> ChainFrom(Plan plan, int first) =>
        plan.Chunks.Where(c => c.Index == first || (c.Index > first && plan.Chunks.Skip(first + 1).Take(c.Index - first).All(x => !x.IsReference)))
            .Select(c => $"chunk-{c.Index}").ToList();

    [Fact]
    public void NewShotForBeat2_RunsItsStoryboardAndChunks_AndWhatChainsAfterThem_ReusesTheRest()
    {
        var original = Done(new JobRequest { Prompt = Showcase, Model = "wan-2.1-i2v-480p" });
        var beat2 = original.Plan.Chunks.Where(c => c.BeatIndex == 2).Select(c => c.Index).ToList();
        Assert.NotEmpty(beat2);

        var revision = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, BeatChanges = { new BeatChange { BeatIndex = 2, ShotDescription = "a slow macro pan across the crown" } } }, Catalog);

        var expected = new List<string> { "storyboard-2" };
        expected.AddRange(ChainFrom(original.Plan, beat2[0]));
        expected.AddRange(["stitch", "finish"]);
        Assert.Equal(expected.Order(), revision.Estimate.RenderedTaskIds.Order());
        // The soundtrack's tasks did not change (the voiceover lines stay): reused with the other beats' work.
        Assert.Contains("voiceover", revision.Estimate.ReusedTaskIds);
        Assert.Contains("music", revision.Estimate.ReusedTaskIds);
        Assert.Equal(original.Tasks.Count, revision.Estimate.ReusedTaskIds.Count + revision.Estimate.RenderedTaskIds.Count);
        // It costs exactly the chunks it renders; the reused ones cost what they cost once.
        var rendered = original.Plan.Chunks.Where(c => revision.Estimate.RenderedTaskIds.Contains($"chunk-{c.Index}")).Sum(c => c.CostUsd);
        Assert.Equal(rendered, revision.Estimate.CostUsd, 6);
        Assert.Equal(original.CostUsd - rendered, revision.Estimate.ReusedCostUsd, 6);
        Assert.Equal(original.Tasks.Single(t => t.TaskId == "chunk-0").OutputUri, revision.Reused["chunk-0"].OutputUri);
        Assert.Equal("a slow macro pan across the crown", revision.Plan.Spec.Beats[2].ShotDescription);
        Assert.Equal(TaskGraph.SeedJobIdOf(original), revision.Plan.SeedJobId);
    }

    [Fact]
    public void StrictContinuity_ANewShotRunsEveryChunkChainedAfterIt()
    {
        var original = Done(new JobRequest { Prompt = Showcase, Continuity = Continuity.Strict, Audio = false });
        var first = original.Plan.Chunks.First(c => c.BeatIndex == 2).Index;

        var revision = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, BeatChanges = { new BeatChange { BeatIndex = 2, ShotDescription = "closer" } } }, Catalog);

        var chunks = revision.Estimate.RenderedTaskIds.Where(t => t.StartsWith("chunk-", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(first, original.Plan.Chunks.Count - first).Select(i => $"chunk-{i}"), chunks);
        Assert.DoesNotContain("storyboard-0", revision.Estimate.RenderedTaskIds);
    }

    [Fact]
    public void NewSeedForAChunk_RunsItAndItsChain_NewTextRunsOnlyTheFinish_ANewLookToo()
    {
        var original = Done(new JobRequest { Prompt = Showcase, Audio = false });
        var continued = original.Plan.Chunks.First(c => !c.IsReference);
        var reseeded = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, ChunkSeeds = { new ChunkSeed { ChunkIndex = continued.Index - 1, Seed = 42 } } }, Catalog);
        Assert.Equal(ChainFrom(original.Plan, continued.Index - 1).Concat(["stitch", "finish"]), reseeded.Estimate.RenderedTaskIds);
        Assert.Equal(42, reseeded.Plan.Chunks[continued.Index - 1].Seed);

        var retitled = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, BeatChanges = { new BeatChange { BeatIndex = 1, OnScreenText = "Built to last" } } }, Catalog);
        Assert.Equal(["stitch", "finish"], retitled.Estimate.RenderedTaskIds);
        Assert.Equal(0, retitled.Estimate.CostUsd);

        var regraded = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, Look = "mono" }, Catalog);
        Assert.Equal(["stitch", "finish"], regraded.Estimate.RenderedTaskIds);
        Assert.Equal("mono", regraded.Plan.Finish.Look);
    }

    [Fact]
    public void ARevisionOfARevision_KeepsTheFirstJobsSeeds()
    {
        var original = Done(new JobRequest { Prompt = Showcase, Audio = false });
        var first = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, Look = "warm" }, Catalog);
        var revised = new Job { JobId = "job-revision", Request = original.Request, Plan = first.Plan, State = JobState.Succeeded };
        foreach (var task in TaskGraph.Build(first.Plan))
        {
            task.State = TaskState.Succeeded;
            task.OutputUri = first.Reused.TryGetValue(task.TaskId, out var from) ? from.OutputUri : $"file:///farm/jobs/job-revision/{task.TaskId}";
            revised.Tasks.Add(task);
        }

        var second = Revisions.Build(revised, new ReviseJobRequest { JobId = revised.JobId, Look = "cool" }, Catalog);
        Assert.Equal(["stitch", "finish"], second.Estimate.RenderedTaskIds);
        Assert.Equal("job-original", second.Plan.SeedJobId);
    }

    [Theory]
    [InlineData("beat_changes[0].beat_index")]
    [InlineData("beat_changes[0].shot_description")]
    [InlineData("beat_changes[0]")]
    [InlineData("chunk_seeds[0].chunk_index")]
    [InlineData("chunk_seeds[0].seed")]
    [InlineData("look")]
    public void BadChanges_AreRefusedNamingTheField(string field)
    {
        var original = Done(new JobRequest { Prompt = Showcase, Audio = false });
        var request = new ReviseJobRequest { JobId = original.JobId };
        switch (field)
        {
            case "beat_changes[0].beat_index": request.BeatChanges.Add(new BeatChange { BeatIndex = 9, ShotDescription = "x" }); break;
            case "beat_changes[0].shot_description": request.BeatChanges.Add(new BeatChange { BeatIndex = 0, ShotDescription = " " }); break;
            case "beat_changes[0]": request.BeatChanges.Add(new BeatChange { BeatIndex = 0 }); break;
            case "chunk_seeds[0].chunk_index": request.ChunkSeeds.Add(new ChunkSeed { ChunkIndex = -1, Seed = 3 }); break;
            case "chunk_seeds[0].seed": request.ChunkSeeds.Add(new ChunkSeed { ChunkIndex = 0, Seed = 0 }); break;
            case "look": request.Look = "sepia"; break;
        }

        var error = Assert.Throws<RequestValidationException>(() => Revisions.Build(original, request, Catalog));
        Assert.Equal(field, Assert.Single(error.Violations).Field);
    }

    [Fact]
    public void Core_ARevisionStartsWithItsReusedTasksSucceeded_AndDispatchesOnlyWhatItRenders()
    {
        var original = Done(new JobRequest { Prompt = Showcase, Audio = false });
        var revision = Revisions.Build(original, new ReviseJobRequest { JobId = original.JobId, BeatChanges = { new BeatChange { BeatIndex = 2, ShotDescription = "closer" } } }, Catalog);
        var core = new SchedulerCore(Catalog, new SchedulingOptions(), new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T00:00:00Z")), NullLogger.Instance, rules: OrchestratorHarness.Rules, random: new Random(1));
        var request = original.Request.Clone();
        request.RevisionOf = original.JobId;

        core.Handle(new SubmitJob("", request, revision.Plan, new TaskCompletionSource<(Job, bool)>(), revision.Reused));
        core.Dispatch();
        var planning = core.TakePlan().Of<PlanJob>().Single();
        core.Handle(new PlanReady(planning.JobId, planning.RulesPlan));
        core.Handle(new JoinWorker(new JoinRequest { WorkerId = "w1", Address = "w1", Slots = 8, Models = { "procedural-i2v", "procedural-image" } }, new TaskCompletionSource<JoinResponse>()));
        core.Dispatch();
        var plan = core.TakePlan();

        var job = plan.Snapshots.Single();
        foreach (var reused in revision.Estimate.ReusedTaskIds)
        {
            var task = job.Tasks.Single(t => t.TaskId == reused);
            Assert.Equal((TaskState.Succeeded, original.JobId, 0.0), (task.State, task.ReusedFrom, task.CostUsd));
            Assert.Equal(original.Tasks.Single(t => t.TaskId == reused).OutputUri, task.OutputUri);
        }

        // Only storyboard-2 can start now (beat 2's chunk waits for it); nothing reused is dispatched.
        Assert.Equal(["storyboard-2"], plan.Of<StartAttempt>().Select(s => s.TaskId));
        Assert.All(revision.Estimate.RenderedTaskIds, id => Assert.Equal("", job.Tasks.Single(t => t.TaskId == id).ReusedFrom));
    }
}
