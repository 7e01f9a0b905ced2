using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;

namespace VideoGen.Coordinator.Tests.Planning;

public sealed class ChunkPlannerTests
{
    private static readonly Template Showcase = TemplateCatalog.LoadDefault().Templates["product_showcase"];

    private static Plan PlanFor(double duration, Continuity continuity, double clipSeconds = 5, double price = 0)
    {
        var spec = RuleBasedPlanner.BuildSpec(Showcase, "watch", duration, "request");
        return ChunkPlanner.Build(spec, new ModelSpec { Name = "m", ClipSeconds = clipSeconds, PricePerSecondUsd = price }, continuity);
    }

    [Theory]
    [InlineData(30, 5, 6)]
    [InlineData(32, 5, 7)]
    [InlineData(12, 5, 3)]
    [InlineData(5, 5, 1)]
    [InlineData(4, 5, 1)]
    [InlineData(30, 2, 15)]
    public void Build_ChunkCountIsCeilOfDurationOverClipLength(double duration, double clip, int expected)
    {
        Assert.Equal(expected, PlanFor(duration, Continuity.Beat, clip).Chunks.Count);
    }

    [Fact]
    public void Build_LastChunkIsTrimmedToTheDuration()
    {
        var plan = PlanFor(32, Continuity.Beat);

        Assert.Equal(2, plan.Chunks[^1].UsedSeconds, 3);
        Assert.Equal(5, plan.Chunks[^1].GeneratedSeconds, 3);
        Assert.Equal(32, plan.Chunks.Sum(c => c.UsedSeconds), 3);
    }

    [Fact]
    public void Build_BeatContinuity_ReferenceChunksStartEachBeat()
    {
        // 30 s showcase: beats at 0, 6, 15, 24 (weights 2,3,3,2); chunks start at 0,5,10,15,20,25.
        var plan = PlanFor(30, Continuity.Beat);

        Assert.Equal([0, 0, 1, 2, 2, 3], plan.Chunks.Select(c => c.BeatIndex).ToArray());
        Assert.Equal([true, false, true, true, false, true], plan.Chunks.Select(c => c.IsReference).ToArray());
    }

    [Fact]
    public void Build_StrictContinuity_OnlyTheFirstChunkIsAReference()
    {
        Assert.Equal([true, false, false, false, false, false], PlanFor(30, Continuity.Strict).Chunks.Select(c => c.IsReference).ToArray());
    }

    [Fact]
    public void Build_NoContinuity_EveryChunkIsAReference()
    {
        Assert.All(PlanFor(30, Continuity.None).Chunks, c => Assert.True(c.IsReference));
    }

    [Fact]
    public void Build_CostIsGeneratedSecondsTimesPrice()
    {
        Assert.Equal(2.70, ChunkPlanner.Cost(PlanFor(30, Continuity.Beat, 5, 0.09)), 6);
        Assert.Equal(3.15, ChunkPlanner.Cost(PlanFor(32, Continuity.Beat, 5, 0.09)), 6);
    }

    [Fact]
    public void WallTime_ParallelBeatsFinishSoonerThanStrict()
    {
        var model = new ModelSpec { Name = "m", ClipSeconds = 5, ExpectedLatencySeconds = 10 };
        var strict = WallTimeEstimator.Estimate(PlanFor(30, Continuity.Strict), model, 1, slots: 4);
        var beat = WallTimeEstimator.Estimate(PlanFor(30, Continuity.Beat), model, 1, slots: 4);

        Assert.Equal(1 + 6 * 10 + WallTimeEstimator.StitchSeconds, strict, 3);
        Assert.Equal(1 + 2 * 10 + WallTimeEstimator.StitchSeconds, beat, 3);
    }
}
