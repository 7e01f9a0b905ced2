using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// GPU-aware placement (issue #18) as a pure function: a task goes only where its model fits in free GPU memory, one
/// task per GPU by default, preferring a worker whose server has the model loaded; a task that cannot start says why.
/// </summary>
public sealed class GpuPlacementPolicyTests
{
    private const string Wan = "wan-2.1-i2v-480p-comfyui";
    private const long GiB = 1L << 30;

    [Fact]
    public void Task_GoesOnlyWhereItsModelFitsInFreeMemory()
    {
        var plan = GpuPlacementPolicy.Place(
            [Task("chunk-0", 20)],
            [Worker("small", free: [16]), Worker("big", free: [22])]);

        Assert.Equal("big", Assert.Single(plan.Placements).WorkerId);
        Assert.Empty(plan.Waiting);
    }

    [Fact]
    public void OneTaskPerGpu_ByDefault_EvenWithFreeSlotsAndMemory()
    {
        var plan = GpuPlacementPolicy.Place(
            [Task("chunk-0", 20), Task("chunk-1", 20, order: 1), Task("chunk-2", 20, order: 2)],
            [Worker("w1", free: [80], slots: 4), Worker("w2", free: [80, 80], slots: 4)]);

        Assert.Equal(["chunk-0@w1", "chunk-1@w2", "chunk-2@w2"], plan.Placements.Select(p => $"{p.Task.TaskId}@{p.WorkerId}"));
        Assert.Empty(plan.Waiting);

        var busy = GpuPlacementPolicy.Place([Task("chunk-3", 20)], [Worker("w1", free: [80], slots: 4, runningGpuTasks: 1)]);
        Assert.Empty(busy.Placements);
        Assert.Equal($"no free GPU with 20 GiB of free memory for {Wan} yet", Assert.Single(busy.Waiting).Value);

        var two = GpuPlacementPolicy.Place([Task("chunk-3", 20)], [Worker("w1", free: [80], slots: 4, runningGpuTasks: 1)], tasksPerGpu: 2);
        Assert.Single(two.Placements);
    }

    [Fact]
    public void WorkerWithTheModelLoaded_IsPreferred_OverMoreFreeMemoryAndTheInputsWorker()
    {
        var plan = GpuPlacementPolicy.Place(
            [Task("chunk-0", 20, preferred: "inputs")],
            [Worker("inputs", free: [40]), Worker("roomy", free: [70]), Worker("warm", free: [24], loaded: [Wan])]);

        Assert.Equal("warm", Assert.Single(plan.Placements).WorkerId);

        var cold = GpuPlacementPolicy.Place([Task("chunk-0", 20, preferred: "inputs")], [Worker("inputs", free: [40]), Worker("roomy", free: [70])]);
        Assert.Equal("inputs", Assert.Single(cold.Placements).WorkerId);

        var none = GpuPlacementPolicy.Place([Task("chunk-0", 20)], [Worker("a", free: [40]), Worker("b", free: [70])]);
        Assert.Equal("b", Assert.Single(none.Placements).WorkerId);
    }

    [Fact]
    public void ModelNeedingMoreThanAnyGpuHas_WaitsWithAReasonNamingBoth()
    {
        var plan = GpuPlacementPolicy.Place([Task("chunk-0", 40)], [Worker("w1", free: [22], total: 24), Worker("w2", free: [20], total: 24)]);

        Assert.Empty(plan.Placements);
        Assert.Equal($"{Wan} needs 40 GiB of GPU memory; the largest GPU of a worker serving it has 24 GiB", plan.Waiting[("job", "chunk-0")]);
    }

    [Fact]
    public void AfterOutOfMemory_TheRetryNeedsMoreFreeMemoryThanTheGpuItFailedOn()
    {
        var plan = GpuPlacementPolicy.Place(
            [Task("chunk-0", 20, moreFreeThan: 22)],
            [Worker("failed-here", free: [22]), Worker("same", free: [22]), Worker("more", free: [23])]);

        Assert.Equal("more", Assert.Single(plan.Placements).WorkerId);

        var stuck = GpuPlacementPolicy.Place([Task("chunk-0", 20, moreFreeThan: 22)], [Worker("failed-here", free: [22])]);
        Assert.Empty(stuck.Placements);
        Assert.Equal("it ran out of GPU memory with 22 GiB free; needs a GPU with more free memory", stuck.Waiting[("job", "chunk-0")]);
    }

    [Fact]
    public void UnhealthyWithheldUnreportedOrExcludedWorkers_GetNothing()
    {
        GpuWorker[] workers =
        [
            Worker("unhealthy", free: [80]) with { Resources = Resources([80], [80]) with { UnhealthyReason = "ComfyUI does not answer" } },
            Worker("withheld", free: [80]) with { Resources = Resources([80], [80]) with { Withheld = new HashSet<string> { Wan } } },
            Worker("failed-it", free: [80]) with { ExcludedFor = new HashSet<string> { Wan } },
            Worker("unreported", free: [80]) with { Resources = GpuResources.None },
            Worker("no-slot", free: [80], slots: 0),
            Worker("other-model", free: [80]) with { Models = new HashSet<string> { "procedural-i2v" } },
        ];

        var plan = GpuPlacementPolicy.Place([Task("chunk-0", 20)], workers);

        Assert.Empty(plan.Placements);
        Assert.Equal($"no free GPU with 20 GiB of free memory for {Wan} yet", plan.Waiting[("job", "chunk-0")]);
        var allUnhealthy = GpuPlacementPolicy.Place([Task("chunk-0", 20)], [workers[0]]);
        Assert.Equal($"every worker serving {Wan} is unhealthy (ComfyUI does not answer)", allUnhealthy.Waiting[("job", "chunk-0")]);
        var noServer = GpuPlacementPolicy.Place([Task("chunk-0", 20)], [workers[1], workers[2], workers[5]]);
        Assert.Equal($"no ready worker serves {Wan}", noServer.Waiting[("job", "chunk-0")]);
    }

    [Fact]
    public void HigherPriorityTask_TakesTheOnlyGpu()
    {
        var plan = GpuPlacementPolicy.Place([Task("low", 20), Task("high", 20, priority: 5, order: 9)], [Worker("w1", free: [40])]);

        Assert.Equal("high", Assert.Single(plan.Placements).Task.TaskId);
        Assert.Contains(("job", "low"), plan.Waiting.Keys);
    }

    [Fact]
    public void Dispatch_PlacesGpuChunksByMemory_AndTellsWhyAChunkWaits()
    {
        var catalog = ModelCatalog.Embedded();
        var models = new TaskModels(catalog);
        var planner = new RuleBasedPlanner(TemplateCatalog.LoadDefault(), catalog);
        var request = new JobRequest { Prompt = "a 10 second showcase for a watch", Model = "wan-2.1-flf2v-720p-comfyui", Transition = "cut", EndCard = false, Continuity = Continuity.None };
        var job = new Job { JobId = "job-1", Request = request, Plan = planner.Plan(request), State = JobState.Rendering };
        job.Tasks.AddRange(TaskGraph.Build(job.Plan));
        var record = new JobRecord(job, 0);
        record.IndexTasks();
        foreach (var t in job.Tasks)
        {
            t.State = t.Kind == TaskKind.Chunk ? TaskState.Ready : t.DependsOn.Count == 0 ? TaskState.Succeeded : TaskState.Waiting;
        }

        var now = DateTimeOffset.UnixEpoch;
        var worker = new WorkerRecord("gpu-1", "http://gpu-1", ["wan-2.1-flf2v-720p-comfyui", "wan-2.1-i2v-480p-comfyui"], 2, ["Stand-in 24GB"], now)
        {
            Resources = Resources([22], [24]),
        };
        var ready = job.Tasks.Where(t => t.State == TaskState.Ready).Select(t => new TaskRef(record, t)).ToList();

        var plan = DispatchDecider.Decide(ready, new Dictionary<string, JobRecord> { ["job-1"] = record }, [worker], now, models);

        Assert.Empty(plan.Starts);
        Assert.Equal(ready.Count, plan.Waiting!.Count);
        Assert.All(plan.Waiting, w => Assert.Equal("wan-2.1-flf2v-720p-comfyui needs 40 GiB of GPU memory; the largest GPU of a worker serving it has 24 GiB", w.Reason));

        // The 480p model fits: one chunk per GPU, the other waits for it.
        job.Plan.Model = "wan-2.1-i2v-480p-comfyui";
        var fits = DispatchDecider.Decide(ready, new Dictionary<string, JobRecord> { ["job-1"] = record }, [worker], now, models);
        Assert.Single(fits.Starts);
        Assert.Equal(ready.Count - 1, fits.Waiting!.Count);

        // The worker said its server lacks the model: nothing goes there.
        worker.WithheldModels.Add("wan-2.1-i2v-480p-comfyui");
        Assert.Empty(DispatchDecider.Decide(ready, new Dictionary<string, JobRecord> { ["job-1"] = record }, [worker], now, models).Starts);
    }

    private static GpuTask Task(string id, double vramGb, long order = 0, int priority = 0, string? preferred = null, double moreFreeThan = 0) =>
        new(new ReadyTask("job", id, Wan, priority, "t", 0, (int)order, preferred), (long)(vramGb * GiB), (long)(moreFreeThan * GiB));

    private static GpuWorker Worker(string id, double[] free, double total = 80, int slots = 2, int runningGpuTasks = 0, string[]? loaded = null) =>
        new(id, new HashSet<string> { Wan }, slots, runningGpuTasks, Resources(free, [.. free.Select(_ => total)], loaded));

    private static GpuResources Resources(double[] free, double[] total, string[]? loaded = null) =>
        new([.. free.Select((f, i) => new GpuReport(i, $"gpu{i}", (long)(total[i] * GiB), (long)(f * GiB)))], new HashSet<string>(loaded ?? []), new HashSet<string>(), "", true);
}
