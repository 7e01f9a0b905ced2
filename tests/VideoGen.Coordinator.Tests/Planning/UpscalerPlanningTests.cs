using VideoGen.Contracts;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Hosting;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Coordinator.Tests.Scheduling;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>The upscaler model (Coordinator:Upscaler): when the plan records it, its tasks, their requests, the estimate and the budget.</summary>
public sealed class UpscalerPlanningTests
{
    private const string Upscaler = "real-esrgan-video";

    private static readonly ModelCatalog Catalog = ModelCatalog.Embedded();

    private static readonly RuleBasedPlanner WithUpscaler = new(TemplateCatalog.LoadDefault(), Catalog, Resolution._720P, upscaler: Upscaler);

    private static readonly RuleBasedPlanner WithoutUpscaler = new(TemplateCatalog.LoadDefault(), Catalog, Resolution._720P);

    private static JobRequest Request(Resolution resolution, double seconds = 30) =>
        new() { Prompt = "a product showcase for a titanium watch", DurationSeconds = seconds, Resolution = resolution, Audio = false };

    [Fact]
    public void Plan_AboveTheModelsNativeHeight_RecordsTheUpscaler_AndPricesEveryChunkBySeconds()
    {
        var plan = WithUpscaler.Plan(Request(Resolution._1080P));
        var price = Catalog.Models[Upscaler].PricePerSecondUsd;

        Assert.Equal(Upscaler, plan.Finish.Upscaler);
        Assert.True(price > 0);
        Assert.All(plan.Chunks, c => Assert.Equal(c.GeneratedSeconds * price, c.UpscaleCostUsd, 6));
        Assert.Equal(plan.Chunks.Sum(c => c.GeneratedSeconds) * price, ChunkPlanner.UpscaleCost(plan), 6);
        Assert.Equal(plan.Chunks.Sum(c => c.CostUsd + c.UpscaleCostUsd), ChunkPlanner.Cost(plan), 6);
    }

    [Theory]
    [InlineData(Resolution._480P, Upscaler)] // the procedural model's native 480p: nothing to upscale
    [InlineData(Resolution._1080P, "")] // not configured: FFmpeg scales
    public void Plan_AtNativeHeightOrWithoutConfiguration_HasNoUpscaler_NorItsTasksOrCost(Resolution resolution, string configured)
    {
        var planner = configured.Length > 0 ? WithUpscaler : WithoutUpscaler;
        var plan = planner.Plan(Request(resolution));

        Assert.Equal("", plan.Finish.Upscaler);
        Assert.All(plan.Chunks, c => Assert.Equal(0, c.UpscaleCostUsd));
        Assert.DoesNotContain(TaskGraph.Build(plan), t => t.Kind == TaskKind.Upscale);
    }

    [Fact]
    public void TaskGraph_OneUpscalePerChunk_AfterItsChunk_TheFinishWaitsForEveryUpscale_InTopologicalOrder()
    {
        var plan = WithUpscaler.Plan(Request(Resolution._1080P));
        var tasks = TaskGraph.Build(plan);

        var upscales = tasks.Where(t => t.Kind == TaskKind.Upscale).ToList();
        Assert.Equal(plan.Chunks.Select(c => $"upscale-{c.Index}"), upscales.Select(t => t.TaskId));
        Assert.All(upscales, t => Assert.Equal([TaskGraph.ChunkTaskId(t.Index)], t.DependsOn.ToArray()));
        Assert.All(upscales, t => Assert.Equal(TaskState.Waiting, t.State));
        var finish = tasks.Single(t => t.Kind == TaskKind.Finish);
        Assert.Equal([TaskGraph.StitchTaskId, .. upscales.Select(t => t.TaskId)], finish.DependsOn.ToArray());
        var stitch = tasks.Single(t => t.Kind == TaskKind.Stitch);
        Assert.DoesNotContain(stitch.DependsOn, d => d.StartsWith("upscale-", StringComparison.Ordinal));
        var seen = new HashSet<string>();
        foreach (var task in tasks)
        {
            Assert.All(task.DependsOn, d => Assert.Contains(d, seen));
            seen.Add(task.TaskId);
        }
    }

    [Fact]
    public void Requests_UpscaleTakesTheChunk_TheFinishTakesTheUpscaledClips_TheStitchTheOriginals()
    {
        var plan = WithUpscaler.Plan(Request(Resolution._1080P, 12));
        var job = new Job { JobId = "j", Plan = plan };
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);
        foreach (var t in tasks.Values)
        {
            t.OutputUri = $"file:///a/{t.TaskId}.mp4";
            t.MediaSeconds = 5;
        }

        var upscale = TaskGraph.BuildRequest(job, tasks["upscale-1"], tasks, Catalog).Upscale;
        Assert.Equal(1, upscale.ChunkIndex);
        Assert.Equal(Upscaler, upscale.Model);
        Assert.Equal("file:///a/chunk-1.mp4", upscale.VideoUri);
        Assert.Equal((1920, 1080, 24), (upscale.WidthPixels, upscale.HeightPixels, upscale.Fps));
        Assert.Equal(ArtifactKeys.Upscaled("j", 1), upscale.OutputKey);
        Assert.Equal("jobs/j/upscaled/1.mp4", upscale.OutputKey);
        Assert.Equal(Catalog.Models[Upscaler].PricePerSecondUsd, upscale.PricePerSecondUsd);

        var finish = TaskGraph.BuildRequest(job, tasks[TaskGraph.FinishTaskId], tasks, Catalog).Finish;
        Assert.Equal(plan.Chunks.Select(c => $"file:///a/upscale-{c.Index}.mp4"), finish.Chunks.Select(c => c.Uri));
        Assert.Equal("file:///a/stitch.mp4", finish.VideoUri);
        var stitch = TaskGraph.BuildRequest(job, tasks[TaskGraph.StitchTaskId], tasks, Catalog).Stitch;
        Assert.Equal(plan.Chunks.Select(c => $"file:///a/chunk-{c.Index}.mp4"), stitch.ChunkUris);
    }

    [Fact]
    public void Estimate_IncludesTheUpscalersCostAndTime()
    {
        var video = Catalog.Models["procedural-i2v"];
        var upscaled = WithUpscaler.Plan(Request(Resolution._1080P));
        var scaled = WithoutUpscaler.Plan(Request(Resolution._1080P));

        Assert.Equal(0, ChunkPlanner.Cost(scaled));
        Assert.Equal(upscaled.Chunks.Count * 5 * Catalog.Models[Upscaler].PricePerSecondUsd, ChunkPlanner.Cost(upscaled), 6);
        var withTime = WallTimeEstimator.Estimate(upscaled, video, 0.3, 4, upscaler: Catalog.Models[Upscaler]);
        var without = WallTimeEstimator.Estimate(scaled, video, 0.3, 4);
        // On 4 slots the chunks of a beat run in sequence; the upscales add at least one upscaler call to the critical path.
        Assert.True(withTime >= without + Catalog.Models[Upscaler].ExpectedLatencySeconds, $"{withTime} vs {without}");
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("procedural-i2v")] // a video model, not an upscaler
    public void Configuration_NamingNoUpscalerOfTheCatalog_FailsAtStartNamingTheSetting(string value)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => HostingExtensions.ValidateUpscaler(value, Catalog));
        Assert.Contains("Coordinator:Upscaler", ex.Message);
        Assert.Contains(Upscaler, ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(Upscaler)]
    public void Configuration_EmptyOrAnUpscaler_IsAccepted(string value) => HostingExtensions.ValidateUpscaler(value, Catalog);

    [Fact]
    public async Task Orchestrator_PlacesUpscalesOnTheUpscalersWorkers_AndCountsTheirCostInTheJob()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("video");
        await h.Orchestrator.JoinAsync(new JoinRequest { WorkerId = "upscaler", Address = "upscaler", Slots = 2, Models = { Upscaler } }).WaitAsync(TimeSpan.FromSeconds(10));
        var request = Request(Resolution._1080P, 12);
        var plan = WithUpscaler.Plan(request);
        var (job, _) = await h.Orchestrator.SubmitAsync("", request, plan).WaitAsync(TimeSpan.FromSeconds(10));

        var attempts = await h.RunToEndAsync(job.JobId);

        var done = h.Orchestrator.GetJob(job.JobId)!;
        Assert.True(done.State == JobState.Succeeded, done.Error);
        var upscales = attempts.Where(a => a.Request.TaskCase == RunTaskRequest.TaskOneofCase.Upscale).ToList();
        Assert.Equal(plan.Chunks.Count, upscales.Count);
        Assert.All(upscales, a => Assert.Equal("upscaler", a.Address));
        Assert.All(attempts.Where(a => a.Request.TaskCase == RunTaskRequest.TaskOneofCase.Chunk), a => Assert.Equal("video", a.Address));
        Assert.All(done.Tasks.Where(t => t.Kind == TaskKind.Upscale), t => Assert.Equal(TaskState.Succeeded, t.State));
        Assert.Equal(plan.Chunks.Count * FakeAttempt.UpscaledSeconds * Catalog.Models[Upscaler].PricePerSecondUsd, done.CostUsd, 6);
        Assert.Equal(ChunkPlanner.Cost(plan), done.CostUsd, 6);
        var finish = attempts.Single(a => a.Request.TaskCase == RunTaskRequest.TaskOneofCase.Finish).Request.Finish;
        Assert.All(finish.Chunks, c => Assert.Contains("/upscale-", c.Uri));
    }

    [Fact]
    public async Task BudgetGuard_CountsTheUpscalesStillToPay_AndStopsTheJobBeforeOne()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("video");
        await h.Orchestrator.JoinAsync(new JoinRequest { WorkerId = "upscaler", Address = "upscaler", Slots = 1, Models = { Upscaler } }).WaitAsync(TimeSpan.FromSeconds(10));
        var request = Request(Resolution._1080P, 12);
        var plan = WithUpscaler.Plan(request);
        // Enough for every upscale as planned, not for one that bills more than planned.
        request.MaxCostUsd = ChunkPlanner.Cost(plan);
        var (job, _) = await h.Orchestrator.SubmitAsync("", request, plan).WaitAsync(TimeSpan.FromSeconds(10));

        // One upscaler slot: each upscale is dispatched (and checked against the budget) after the one before ended.
        var overBilled = false;
        await h.RunToEndAsync(job.JobId, attempt =>
        {
            if (attempt.Request.TaskCase != RunTaskRequest.TaskOneofCase.Upscale || overBilled)
            {
                return true;
            }

            // The first upscale bills twice its planned price: the rest no longer fit.
            overBilled = true;
            var completed = FakeAttempt.CompletedFor(attempt.Request);
            completed.CostUsd *= 2;
            attempt.Events.Writer.TryWrite(new TaskEvent { Completed = completed });
            attempt.Events.Writer.TryComplete();
            return false;
        });

        var ended = h.Orchestrator.GetJob(job.JobId)!;
        Assert.Equal(JobState.Failed, ended.State);
        Assert.StartsWith("budget: ", ended.Error);
        Assert.Contains("upscales still to pay", ended.Error);
        Assert.Equal(1, ended.Tasks.Count(t => t.Kind == TaskKind.Upscale && t.State == TaskState.Succeeded));
    }
}
