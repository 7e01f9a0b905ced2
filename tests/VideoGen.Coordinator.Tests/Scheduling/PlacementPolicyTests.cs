using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

public sealed class PlacementPolicyTests
{
    private static readonly HashSet<string> M = ["m"];

    private static ReadyTask Task(string job, string id, int priority = 0, string tenant = "t", long order = 0, int taskOrder = 0, string? preferred = null, IReadOnlySet<string>? excluded = null) =>
        new(job, id, "m", priority, tenant, order, taskOrder, preferred, excluded);

    private static WorkerCapacity Worker(string id, int free, int running = 0, HashSet<string>? models = null) => new(id, models ?? M, free, running);

    [Fact]
    public void Place_IndependentTasks_SpreadAcrossWorkers()
    {
        var placements = PlacementPolicy.Place(
            [Task("j", "a", taskOrder: 0), Task("j", "b", taskOrder: 1)],
            [Worker("w1", 2), Worker("w2", 2)],
            new Dictionary<string, int>());

        Assert.Equal(["w1", "w2"], placements.Select(p => p.WorkerId).ToArray());
    }

    [Fact]
    public void Place_ContinuousChunk_GoesToThePreferredWorkerWhenItHasASlot()
    {
        var placements = PlacementPolicy.Place([Task("j", "chunk-1", preferred: "w2")], [Worker("w1", 4), Worker("w2", 1, running: 1)], new Dictionary<string, int>());

        Assert.Equal("w2", Assert.Single(placements).WorkerId);
    }

    [Fact]
    public void Place_PreferredWorkerFull_FallsBackToAnother()
    {
        var placements = PlacementPolicy.Place([Task("j", "chunk-1", preferred: "w2")], [Worker("w1", 1)], new Dictionary<string, int>());

        Assert.Equal("w1", Assert.Single(placements).WorkerId);
    }

    [Fact]
    public void Place_TaskThatCallsNoModel_RunsOnAnyWorker_AndAModelTaskOnlyWhereServed()
    {
        var anyTask = new ReadyTask("j", "stitch", TaskModels.Any, 0, "t", 0, 0, null, null);
        var other = new ReadyTask("j", "chunk-0", "other-model", 0, "t", 0, 1, null, null);

        var placements = PlacementPolicy.Place([anyTask, other], [Worker("w1", 2)], new Dictionary<string, int>());

        Assert.Equal(("stitch", "w1"), (Assert.Single(placements).Task.TaskId, placements[0].WorkerId));
    }

    [Fact]
    public void Place_HigherPriorityJobGoesFirst()
    {
        var placements = PlacementPolicy.Place(
            [Task("low", "a", priority: 0, order: 0), Task("high", "a", priority: 10, order: 1)],
            [Worker("w1", 1)],
            new Dictionary<string, int>());

        Assert.Equal("high", Assert.Single(placements).Task.JobId);
    }

    [Fact]
    public void Place_FairShare_OneTenantsManyJobsDoNotStarveAnothersOne()
    {
        var ready = Enumerable.Range(0, 50).Select(i => Task($"big-{i}", "a", tenant: "big", order: i)).ToList();
        ready.Add(Task("small-0", "a", tenant: "small", order: 100));

        var placements = PlacementPolicy.Place(ready, [Worker("w1", 2)], new Dictionary<string, int> { ["big"] = 3 });

        Assert.Equal(["small-0", "big-0"], placements.Select(p => p.Task.JobId).ToArray());
    }

    [Fact]
    public void Place_BlocklistedWorker_GetsNoTaskOfThatJob()
    {
        var placements = PlacementPolicy.Place([Task("j", "a", excluded: new HashSet<string> { "w1" })], [Worker("w1", 4), Worker("w2", 1)], new Dictionary<string, int>());

        Assert.Equal("w2", Assert.Single(placements).WorkerId);
    }

    [Fact]
    public void Place_NoWorkerServesTheModel_NothingPlaced()
    {
        var placements = PlacementPolicy.Place([Task("j", "a")], [Worker("w1", 4, models: ["other"])], new Dictionary<string, int>());

        Assert.Empty(placements);
    }

    [Fact]
    public void Place_RespectsSlots()
    {
        var ready = Enumerable.Range(0, 10).Select(i => Task("j", $"t{i}", taskOrder: i)).ToList();

        var placements = PlacementPolicy.Place(ready, [Worker("w1", 2), Worker("w2", 1)], new Dictionary<string, int>());

        Assert.Equal(3, placements.Count);
        Assert.Equal(2, placements.Count(p => p.WorkerId == "w1"));
        Assert.Equal(["t0", "t1", "t2"], placements.Select(p => p.Task.TaskId).ToArray());
    }

    [Fact]
    public void Place_ModelConcurrencyLimit_CapsTasksOfThatModelPerWorker()
    {
        var ready = Enumerable.Range(0, 4).Select(i => Task("j", $"t{i}", taskOrder: i)).ToList();

        var placements = PlacementPolicy.Place(ready, [new WorkerCapacity("w1", M, 8, 0, new Dictionary<string, int> { ["m"] = 2 })], new Dictionary<string, int>());

        Assert.Equal(2, placements.Count);
    }

    [Fact]
    public void Place_ModelThatNeedsAGpu_GoesOnlyToAWorkerWithOne()
    {
        var task = Task("j", "a") with { RequiresGpu = true };

        var placements = PlacementPolicy.Place([task], [Worker("cpu", 4), new WorkerCapacity("gpu", M, 1, 0, HasGpu: true)], new Dictionary<string, int>());

        Assert.Equal("gpu", Assert.Single(placements).WorkerId);
        Assert.Empty(PlacementPolicy.Place([task], [Worker("cpu", 4)], new Dictionary<string, int>()));
    }
}
