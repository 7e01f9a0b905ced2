using System.Text;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Errors;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>Issue 16: model capabilities in the catalog, and the task graph each strategy makes.</summary>
public sealed class GraphStrategyTests
{
    private static readonly ModelCatalog Catalog = ModelCatalog.Embedded();
    private static readonly RuleBasedPlanner Rules = new(TemplateCatalog.LoadDefault(), Catalog);
    private const string Showcase = "A 30 second product showcase for a titanium smartwatch";

    private static ModelCatalog Load(string json) => ModelCatalog.Load(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void EmbeddedCatalog_ListsCapabilities_AndVideoModelsWithoutThemFollowTakesImage()
    {
        Assert.Equal(["flf2v", "i2v"], Catalog.Models["procedural-flf2v"].EffectiveCapabilities);
        Assert.Equal(["extend", "i2v"], Catalog.Models["procedural-extend"].EffectiveCapabilities);
        Assert.Equal(["i2v"], Catalog.Models["wan-2.1-i2v-480p"].EffectiveCapabilities);
        Assert.Equal(["t2v"], Catalog.Models["wan-2.1-t2v-480p"].EffectiveCapabilities);
        Assert.Equal(["flf2v"], Catalog.Models["wan-2.1-flf2v-720p-comfyui"].EffectiveCapabilities);
        Assert.True(Catalog.Models[ModelCatalog.ProceduralImageModel].Can(ModelCapabilities.ImageToImage));
        Assert.False(Catalog.Models["gpt-image-1"].Can(ModelCapabilities.ImageToImage));
    }

    [Theory]
    [InlineData("""{ "name": "m", "kind": "video", "capabilities": ["i2v", "warp"] }""", "capability 'warp'")]
    [InlineData("""{ "name": "m", "kind": "image", "capabilities": ["flf2v"] }""", "capability 'flf2v'")]
    [InlineData("""{ "name": "m", "kind": "video", "capabilities": ["i2v", "i2v"] }""", "twice")]
    [InlineData("""{ "name": "m", "kind": "video", "capabilities": ["extend"], "overlapFrames": 0 }""", "overlapFrames 0")]
    public void CatalogFile_WithABadCapability_FailsAtLoadNamingTheModel(string model, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => Load($$"""{ "defaultModel": "m", "models": [ {{model}} ] }"""));
        Assert.Contains("'m'", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Allowed_FollowsTheModelsOrder_AndKeyframesNeedAnImageModelThatEditsImages()
    {
        var flf2v = Catalog.Models["procedural-flf2v"];
        Assert.Equal([GraphStrategy.Keyframes, GraphStrategy.Chain], GraphStrategies.Allowed(flf2v, Catalog.Models[ModelCatalog.ProceduralImageModel]));
        Assert.Equal([GraphStrategy.Chain], GraphStrategies.Allowed(flf2v, Catalog.Models["gpt-image-1"]));
        Assert.Equal([GraphStrategy.Extend, GraphStrategy.Chain], GraphStrategies.Allowed(Catalog.Models["procedural-extend"], null));
        Assert.Equal([GraphStrategy.Text], GraphStrategies.Allowed(Catalog.Models["wan-2.1-t2v-480p"], null));
    }

    [Fact]
    public void Plan_DefaultsToTheModelsFirstStrategy_AndTakesTheRequestsWhenAllowed()
    {
        Assert.Equal(GraphStrategy.Chain, Rules.Plan(new JobRequest { Prompt = Showcase }).Strategy);
        Assert.Equal(GraphStrategy.Keyframes, Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-flf2v" }).Strategy);
        Assert.Equal(GraphStrategy.Extend, Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-extend" }).Strategy);
        Assert.Equal(GraphStrategy.Chain, Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-flf2v", Strategy = GraphStrategy.Chain }).Strategy);
    }

    [Theory]
    [InlineData("procedural-i2v", GraphStrategy.Keyframes, "lacks capability flf2v")]
    [InlineData("procedural-flf2v", GraphStrategy.Extend, "lacks capability extend")]
    [InlineData("procedural-i2v", (GraphStrategy)42, "unknown strategy value 42")]
    public void Plan_WithAStrategyTheModelDoesNotAllow_IsRefusedNamingTheField(string model, GraphStrategy strategy, string expected)
    {
        var error = Assert.Throws<RequestValidationException>(() => Rules.Plan(new JobRequest { Prompt = Showcase, Model = model, Strategy = strategy }));
        var violation = Assert.Single(error.Violations);
        Assert.Equal("job.strategy", violation.Field);
        Assert.Contains(expected, violation.Description);
    }

    [Fact]
    public void Plan_Keyframes_WithAStoryboardModelThatCannotEditImages_IsRefusedSayingWhy()
    {
        var rules = new RuleBasedPlanner(TemplateCatalog.LoadDefault(), Catalog, keyframeImageModel: "gpt-image-1");
        var error = Assert.Throws<RequestValidationException>(() => rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-flf2v", Strategy = GraphStrategy.Keyframes }));
        Assert.Contains("'gpt-image-1' cannot make an image from another", Assert.Single(error.Violations).Description);
        // Without a choice the model's next strategy is used.
        Assert.Equal(GraphStrategy.Chain, rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-flf2v" }).Strategy);
    }

    [Fact]
    public void Extend_EachContinuationCoversItsOverlapLess_AndKeyframesAreCountedAndPriced()
    {
        var chain = Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-extend", Strategy = GraphStrategy.Chain, Continuity = Continuity.Strict });
        var extend = Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-extend", Continuity = Continuity.Strict });
        Assert.Equal((1, 8), (chain.OverlapFrames, extend.OverlapFrames));
        // A continuation covers its clip less the frames it repeats: 8 for the extend model, 1 for the chain.
        Assert.Equal(5 - 8 / 24.0, extend.Chunks[2].StartSeconds - extend.Chunks[1].StartSeconds, 2);
        Assert.Equal(5 - 1 / 24.0, chain.Chunks[2].StartSeconds - chain.Chunks[1].StartSeconds, 2);
        Assert.True(extend.Chunks.Count >= chain.Chunks.Count);
        Assert.Equal(0, extend.Keyframes);

        var image = Catalog.Models[ModelCatalog.ProceduralImageModel] with { PricePerSecondUsd = 0.04 };
        var priced = ChunkPlanner.Build(chain.Spec, Catalog.Models["procedural-flf2v"], Continuity.Strict, chain.Finish, strategy: GraphStrategy.Keyframes, keyframePriceUsd: image.PricePerSecondUsd);
        Assert.Equal(priced.Chunks.Count, priced.Keyframes);
        Assert.Equal(priced.Chunks.Count * 0.04, priced.KeyframeCostUsd, 6);
        Assert.Equal(priced.Chunks.Count * 0.04, ChunkPlanner.Cost(priced) - priced.Chunks.Sum(c => c.CostUsd) - SoundtrackPlanner.Cost(priced.Spec), 6);
    }

    [Fact]
    public void KeyframesGraph_KeyframesChainFromEachTakesStoryboard_ChunksWaitOnlyForTheTwoAroundThem()
    {
        var plan = Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-flf2v", Audio = false });
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);
        Assert.Contains(plan.Chunks, c => !c.IsReference);

        foreach (var chunk in plan.Chunks)
        {
            var start = chunk.IsReference ? $"storyboard-{chunk.BeatIndex}" : $"keyframe-{chunk.Index - 1}";
            Assert.Equal([start], tasks[$"keyframe-{chunk.Index}"].DependsOn);
            Assert.Equal(TaskKind.Keyframe, tasks[$"keyframe-{chunk.Index}"].Kind);
            Assert.Equal([start, $"keyframe-{chunk.Index}"], tasks[$"chunk-{chunk.Index}"].DependsOn);
        }

        // Topological: every task comes after what it waits for.
        var order = TaskGraph.Build(plan).Select(t => t.TaskId).ToList();
        Assert.All(tasks.Values, t => Assert.All(t.DependsOn, d => Assert.True(order.IndexOf(d) < order.IndexOf(t.TaskId), $"{t.TaskId} before {d}")));
    }

    [Fact]
    public void Requests_KeyframedChunkIsPinnedAtBothEnds_ExtendedChunkNamesTheClipItContinues()
    {
        var job = Succeeded(Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-flf2v", Continuity = Continuity.Strict, Audio = false }));
        var tasks = job.Tasks.ToDictionary(t => t.TaskId);
        var second = TaskGraph.BuildRequest(job, tasks["chunk-1"], tasks, Catalog).Chunk;
        Assert.Equal(("out://keyframe-0", "out://keyframe-1", "", 0), (second.StartImageUri, second.EndImageUri, second.ConditioningVideoUri, second.OverlapFrames));
        var keyframe = TaskGraph.BuildRequest(job, tasks["keyframe-1"], tasks, Catalog).Keyframe;
        Assert.Equal(("out://keyframe-0", 5.0, $"jobs/{job.JobId}/keyframes/1.png"), (keyframe.SourceImageUri, keyframe.Seconds, keyframe.OutputKey));
        Assert.Equal("out://storyboard-0", TaskGraph.BuildRequest(job, tasks["keyframe-0"], tasks, Catalog).Keyframe.SourceImageUri);
        var finish = TaskGraph.BuildFinish(job, tasks);
        Assert.All(finish.Chunks.Skip(1), c => Assert.Equal((true, 1), (c.Continues, c.OverlapFrames)));

        var extendJob = Succeeded(Rules.Plan(new JobRequest { Prompt = Showcase, Model = "procedural-extend", Continuity = Continuity.Strict, Audio = false }));
        var extendTasks = extendJob.Tasks.ToDictionary(t => t.TaskId);
        var extended = TaskGraph.BuildRequest(extendJob, extendTasks["chunk-1"], extendTasks, Catalog).Chunk;
        Assert.Equal(("last://chunk-0", "", "out://chunk-0", 8), (extended.StartImageUri, extended.EndImageUri, extended.ConditioningVideoUri, extended.OverlapFrames));
        var first = TaskGraph.BuildRequest(extendJob, extendTasks["chunk-0"], extendTasks, Catalog).Chunk;
        Assert.Equal(("out://storyboard-0", "", 0), (first.StartImageUri, first.ConditioningVideoUri, first.OverlapFrames));
        Assert.All(TaskGraph.BuildFinish(extendJob, extendTasks).Chunks.Skip(1), c => Assert.Equal(8, c.OverlapFrames));
    }

    private static Job Succeeded(Plan plan)
    {
        var job = new Job { JobId = "job-g", Plan = plan, Request = new JobRequest() };
        foreach (var task in TaskGraph.Build(plan))
        {
            task.State = TaskState.Succeeded;
            task.OutputUri = $"out://{task.TaskId}";
            task.LastFrameUri = $"last://{task.TaskId}";
            job.Tasks.Add(task);
        }

        return job;
    }
}
