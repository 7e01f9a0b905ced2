using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// Issue #15's pure rules: billing as the provider bills (<see cref="BillingRules"/>, <see cref="ProviderBilling"/>), the
/// throttle and circuit of a model (<see cref="ProviderGate"/>), and provider capacity in the dispatch decision
/// (<see cref="ProviderCapacity"/>): plain values in, values out, no threads, no clock.
/// </summary>
public sealed class ProviderRulesTests
{
    private const string Wan = "wan-2.1-i2v-480p";
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly ModelCatalog Catalog = ModelCatalog.Embedded();
    private static readonly RuleBasedPlanner Planner = new(TemplateCatalog.LoadDefault(), Catalog);
    private static readonly TaskModels Models = new(Catalog);

    // ---- Billing ----

    [Theory]
    [InlineData(BilledOutcome.Succeeded, 0.45)] // by output: the worker's 5 s × $0.09
    [InlineData(BilledOutcome.Canceled, 0.01525)] // 10 s run × the hardware's $0.001525/s
    [InlineData(BilledOutcome.Failed, 0)] // a model error: not billed
    [InlineData(BilledOutcome.Aborted, 0)] // its deadline passed before it ran: not billed
    public void Wan21_IsBilledByOutput_CanceledByRunTime_FailuresNotAtAll(BilledOutcome outcome, double billed)
    {
        var rules = Catalog.Models[Wan].Billing;

        Assert.Equal(billed, rules.Bill(outcome, predictSeconds: 10, outputCostUsd: 0.45), 9);
    }

    [Fact]
    public void RuntimeBilledModel_PaysThePredictTime_WhateverItProduced()
    {
        var rules = new BillingRules { Succeeded = BillingBasis.Runtime, Failed = BillingBasis.Runtime, RuntimePricePerSecondUsd = 0.0014 };

        Assert.Equal(42 * 0.0014, rules.Bill(BilledOutcome.Succeeded, 42, outputCostUsd: 0.024), 9);
        Assert.Equal(3 * 0.0014, rules.Bill(BilledOutcome.Failed, 3, 0), 9);
        Assert.Equal(0, rules.Bill(BilledOutcome.Succeeded, -1, 0)); // a provider's nonsense never pays back
    }

    [Fact]
    public void CatalogBillingRules_AreReadFromJson_DefaultingToOutputAndCanceledByRunTime()
    {
        using var json = new MemoryStream("""
            { "defaultModel": "a", "models": [
              { "name": "a", "provider": "replicate", "pricePerSecondUsd": 0.1 },
              { "name": "b", "provider": "replicate", "billing": { "succeeded": "runtime", "canceled": "none", "failed": "runtime", "runtimePricePerSecondUsd": 0.002 }, "fallback": "a" } ] }
            """u8.ToArray());

        var catalog = ModelCatalog.Load(json);

        Assert.Equal(new BillingRules(), catalog.Models["a"].Billing);
        Assert.Equal((BillingBasis.Output, BillingBasis.Runtime, BillingBasis.None), (catalog.Models["a"].Billing.Succeeded, catalog.Models["a"].Billing.Canceled, catalog.Models["a"].Billing.Failed));
        Assert.Equal(new BillingRules { Succeeded = BillingBasis.Runtime, Canceled = BillingBasis.None, Failed = BillingBasis.Runtime, RuntimePricePerSecondUsd = 0.002 }, catalog.Models["b"].Billing);
        Assert.Equal("a", catalog.Models["b"].Fallback);
    }

    [Fact]
    public void AttemptCost_AppliesTheModelsRules_ToTheProvidersReport_OrTakesTheWorkersFigureWithoutOne()
    {
        Assert.Equal(0.45, ProviderBilling.AttemptCost(Catalog, Wan, new ProviderUsage { Outcome = ProviderOutcome.Succeeded, PredictSeconds = 40 }, 0.45), 9);
        Assert.Equal(20 * 0.001525, ProviderBilling.AttemptCost(Catalog, Wan, new ProviderUsage { Outcome = ProviderOutcome.Canceled, PredictSeconds = 20 }, 0), 9);
        Assert.Equal(0, ProviderBilling.AttemptCost(Catalog, Wan, new ProviderUsage { Outcome = ProviderOutcome.Failed, PredictSeconds = 20 }, 0.3), 9);
        Assert.Equal(0.3, ProviderBilling.AttemptCost(Catalog, Wan, null, 0.3), 9); // a local model, or a worker without the report
        Assert.Equal(0.3, ProviderBilling.AttemptCost(Catalog, "not-in-the-catalog", new ProviderUsage { Outcome = ProviderOutcome.Canceled, PredictSeconds = 20 }, 0.3), 9);
    }

    // ---- Throttle and circuit ----

    [Fact]
    public void Throttle_PausesTheModelUntilRetryAfter_OnlyThatModel()
    {
        var gate = new ProviderGate();

        gate.Throttle(Wan, Now.AddSeconds(5));
        gate.Throttle(Wan, Now.AddSeconds(2)); // an earlier end does not shorten the pause

        Assert.Equal(0, gate.Allowance(Wan, Now));
        Assert.Equal(0, gate.Allowance(Wan, Now.AddSeconds(4.9)));
        Assert.Equal(int.MaxValue, gate.Allowance(Wan, Now.AddSeconds(5)));
        Assert.Equal(int.MaxValue, gate.Allowance("musicgen", Now));
        Assert.Equal(Now.AddSeconds(5), gate.NextChange(Now));
    }

    [Fact]
    public void Circuit_OpensAfterConsecutiveOutages_HalfOpensAfterThePause_OneProbe_SuccessCloses()
    {
        var gate = new ProviderGate(openAfterFailures: 3, circuitPause: TimeSpan.FromSeconds(30));

        Assert.False(gate.Unavailable(Wan, Now));
        Assert.False(gate.Unavailable(Wan, Now));
        Assert.True(gate.Unavailable(Wan, Now)); // the third in a row opens it
        Assert.Equal((CircuitState.Open, 0), (gate.Circuit(Wan, Now.AddSeconds(29)), gate.Allowance(Wan, Now.AddSeconds(29))));

        var later = Now.AddSeconds(30);
        Assert.Equal((CircuitState.HalfOpen, 1), (gate.Circuit(Wan, later), gate.Allowance(Wan, later)));
        gate.Started(Wan, later);
        Assert.Equal(0, gate.Allowance(Wan, later)); // one probe at a time
        gate.Succeeded(Wan);
        Assert.Equal((CircuitState.Closed, int.MaxValue), (gate.Circuit(Wan, later), gate.Allowance(Wan, later)));
    }

    [Fact]
    public void Circuit_FailedProbe_ReopensAtOnce_AndASuccessBetweenOutagesResetsTheCount()
    {
        var gate = new ProviderGate(openAfterFailures: 2, circuitPause: TimeSpan.FromSeconds(10));
        gate.Unavailable(Wan, Now);
        gate.Succeeded(Wan);
        Assert.False(gate.Unavailable(Wan, Now)); // not two in a row
        Assert.True(gate.Unavailable(Wan, Now));

        var probe = Now.AddSeconds(10);
        gate.Started(Wan, probe);
        Assert.True(gate.Unavailable(Wan, probe)); // the probe failed: open again, for another pause
        Assert.Equal(CircuitState.Open, gate.Circuit(Wan, probe.AddSeconds(9)));
        Assert.Equal(CircuitState.HalfOpen, gate.Circuit(Wan, probe.AddSeconds(10)));

        gate.Started(Wan, probe.AddSeconds(10));
        gate.Abandoned(Wan); // the probe was cancelled: nothing learnt, another may go
        Assert.Equal(1, gate.Allowance(Wan, probe.AddSeconds(10)));
    }

    [Fact]
    public void Fallback_OnlyWhenAllowed_TheCircuitOpen_TheFallbackUp_AndItMakesTheSameClips()
    {
        var catalog = new ModelCatalog(
        [
            Catalog.Models[Wan] with { Fallback = "backup" },
            Catalog.Models[Wan] with { Name = "backup" },
            Catalog.Models[Wan] with { Name = "longer", ClipSeconds = 8 },
            Catalog.Models[Wan] with { Name = "odd", Fallback = "longer" },
        ], Wan);
        var models = new TaskModels(catalog);
        var job = Record("a 10 second showcase for a watch", Wan).Job;
        job.Request.AllowModelFallback = true;
        var chunk = job.Tasks.Single(t => t.TaskId == "chunk-0");
        var gate = new ProviderGate(openAfterFailures: 1, circuitPause: TimeSpan.FromSeconds(30));

        Assert.Null(ModelFallbackPolicy.MoveTo(job, chunk, models, gate, Now)); // closed
        gate.Throttle(Wan, Now.AddSeconds(60));
        Assert.Null(ModelFallbackPolicy.MoveTo(job, chunk, models, gate, Now)); // throttled: wait the window out
        gate.Unavailable(Wan, Now);
        Assert.Equal("backup", ModelFallbackPolicy.MoveTo(job, chunk, models, gate, Now));
        Assert.Null(ModelFallbackPolicy.MoveTo(job, job.Tasks.Single(t => t.Kind == TaskKind.Stitch), models, gate, Now)); // only chunks
        gate.Throttle("backup", Now.AddSeconds(5));
        Assert.Null(ModelFallbackPolicy.MoveTo(job, chunk, models, gate, Now)); // the fallback is paused too
        job.Request.AllowModelFallback = false;
        Assert.Null(ModelFallbackPolicy.MoveTo(job, chunk, models, gate, Now.AddSeconds(5)));

        chunk.Model = "odd"; // a fallback with another clip length would break the plan
        job.Request.AllowModelFallback = true;
        gate.Unavailable("odd", Now);
        Assert.Null(ModelFallbackPolicy.MoveTo(job, chunk, models, gate, Now));
    }

    // ---- Provider capacity in the dispatch decision ----

    [Fact]
    public void ThrottledModel_StartsNoneOfItsTasks_OthersStillStart_AndAfterTheWindowItDoes()
    {
        var job = Record("a 10 second showcase for a watch", Wan);
        ReadyChunk0(job);
        var gate = new ProviderGate();
        gate.Throttle(Wan, Now.AddSeconds(5));

        var paused = Decide([job], [Worker("w1", 8, Wan, "procedural-i2v")], gate);
        var after = Decide([job], [Worker("w1", 8, Wan, "procedural-i2v")], gate, Now.AddSeconds(5));

        Assert.DoesNotContain(paused.Starts, s => s.Task.Task.Kind == TaskKind.Chunk);
        Assert.Contains(paused.Starts, s => s.Task.Task.Kind == TaskKind.Storyboard);
        Assert.Contains(after.Starts, s => s.Task.Task.TaskId == "chunk-0");
    }

    [Fact]
    public void ManyThrottledTasks_DoNotCrowdOutAnotherModelsTask_InThePassesSelection()
    {
        // More paused chunks than a pass looks at per tenant (free slots + its slack), all older than one storyboard.
        var jobs = Enumerable.Range(0, 80).Select(i => Record("a 5 second showcase for a watch", Wan, order: i)).ToList();
        jobs.ForEach(ReadyChunk0);
        var latest = Record("a 5 second showcase for a watch", Wan, order: 80);
        var gate = new ProviderGate();
        gate.Throttle(Wan, Now.AddSeconds(30));

        var plan = Decide([.. jobs, latest], [Worker("w1", 1, Wan, "procedural-i2v")], gate);

        var start = Assert.Single(plan.Starts);
        Assert.Equal((latest, TaskKind.Storyboard), (start.Task.Job, start.Task.Task.Kind));
    }

    [Fact]
    public void HalfOpenCircuit_LetsOneProbeThrough_TheOldestJobsTask()
    {
        var jobs = Enumerable.Range(0, 3).Select(i => Record("a 10 second showcase for a watch", Wan, order: i)).ToList();
        jobs.ForEach(ReadyChunk0);
        var gate = new ProviderGate(openAfterFailures: 1, circuitPause: TimeSpan.FromSeconds(10));
        gate.Unavailable(Wan, Now);

        var open = Decide(jobs, [Worker("w1", 16, Wan)], gate);
        var halfOpen = Decide(jobs, [Worker("w1", 16, Wan)], gate, Now.AddSeconds(10));

        Assert.DoesNotContain(open.Starts, s => s.Task.Task.Kind == TaskKind.Chunk);
        var probe = Assert.Single(halfOpen.Starts, s => s.Task.Task.Kind == TaskKind.Chunk);
        Assert.Same(jobs[0], probe.Task.Job);
    }

    [Fact]
    public void HostedModelsMaxConcurrency_HoldsAcrossTheFarm_NotPerWorker()
    {
        // wan-2.1's maxConcurrency is 4: two run already (one on each worker), so two more may start, on 2 workers with 16 free slots.
        var jobs = Enumerable.Range(0, 6).Select(i => Record("a 10 second showcase for a watch", Wan, order: i)).ToList();
        jobs.ForEach(ReadyChunk0);
        var (w1, w2) = (Worker("w1", 16, Wan), Worker("w2", 16, Wan));
        foreach (var (job, worker) in new[] { (jobs[0], w1), (jobs[1], w2) })
        {
            job.Tasks["chunk-0"].State = TaskState.Running;
            worker.Running.Add((job.Job.JobId, "chunk-0"));
        }

        var plan = Decide(jobs, [w1, w2]);

        var chunks = plan.Starts.Where(s => s.Task.Task.Kind == TaskKind.Chunk).ToList();
        Assert.Equal(2, chunks.Count);
        Assert.Equal([jobs[2], jobs[3]], chunks.Select(c => c.Task.Job).OrderBy(j => j.Order));
        Assert.Equal(4, Catalog.Models[Wan].MaxConcurrency);
    }

    [Fact]
    public void LocalModelsMaxConcurrency_StaysPerWorker()
    {
        Assert.Equal((0, 4), (Models.MaxConcurrency(Wan), Models.FarmMaxConcurrency(Wan)));
        var local = new TaskModels(new ModelCatalog([new ModelSpec { Name = "gpu-local", Provider = "comfyui", MaxConcurrency = 1 }], "gpu-local"));
        Assert.Equal((1, 0), (local.MaxConcurrency("gpu-local"), local.FarmMaxConcurrency("gpu-local")));
    }

    private static DispatchPlan Decide(IReadOnlyList<JobRecord> jobs, IReadOnlyList<WorkerRecord> workers, ProviderGate? gate = null, DateTimeOffset? now = null)
    {
        var ready = jobs.SelectMany(j => j.Job.Tasks.Where(t => t.State == TaskState.Ready).Select(t => new TaskRef(j, t))).ToList();
        return DispatchDecider.Decide(ready, jobs.ToDictionary(j => j.Job.JobId), workers, now ?? Now, Models, providers: gate);
    }

    private static JobRecord Record(string prompt, string model = "", long order = 0)
    {
        var request = new JobRequest { Prompt = prompt, Model = model, Transition = "cut", EndCard = false, Audio = false };
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
        new(id, $"http://{id}", [.. models], slots, [], Now);
}
