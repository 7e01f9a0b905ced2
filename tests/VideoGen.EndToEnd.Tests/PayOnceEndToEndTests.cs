using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #15 over real processes: workers call wan-2.1 through the Replicate provider against the predictions
/// stand-in, which counts the predictions it creates and bills them as Replicate does (a succeeded one by its output, a
/// canceled one by the time it ran). Whatever dies mid-prediction — a worker or the coordinator, by kill -9 — each
/// chunk is created, and paid for, once, and the job's cost is what the stand-in billed; a 429 storm consumes no
/// attempt; a cancelled prediction's billed time is in the job's cost.
/// </summary>
public sealed class PayOnceEndToEndTests
{
    private const string Wan = "wan-2.1-i2v-480p";

    // Four independent chunks (no continuity, hard cuts, no end card or audio): they run side by side over both workers.
    private static void FourChunks(JobRequest r) =>
        (r.Model, r.Transition, r.EndCard, r.Continuity, r.Audio, r.Resolution) = (Wan, "cut", false, Continuity.None, false, Resolution._480P);

    [Fact]
    public async Task WorkerKilledMidPrediction_JobCompletes_EachChunkCreatedOnce_CostIsWhatReplicateBilled()
    {
        // Predictions run 4 s: long enough to kill a worker in the middle of one.
        await using var replicate = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ProcessingFor = TimeSpan.FromSeconds(4) });
        await using var farm = await LocalFarm.StartAsync("payonce-kill-worker", ReplicateFarm(replicate));
        var job = (await farm.SubmitAsync("a 20 second showcase for a lamp", FourChunks)).Job;

        // A chunk whose prediction exists (journalled by the coordinator) and is still running: kill its worker — once
        // every chunk running there is journalled. A prediction whose create was sent but whose id the worker had not
        // reported yet cannot be found again (Replicate has no idempotency key): that window is the one case a kill
        // can pay twice, and this test is about the journal, so it kills outside it.
        var chunks = new Dictionary<string, TaskStatus>();
        var seen = await farm.WatchUntilAsync(job.JobId, e =>
        {
            if (e.TaskUpdated?.Task is not { Kind: TaskKind.Chunk } task)
            {
                return false;
            }

            chunks[task.TaskId] = task;
            return task is { State: TaskState.Running, ProviderRequestId.Length: > 0 }
                && chunks.Values.Where(t => t.State == TaskState.Running && t.WorkerId == task.WorkerId).All(t => t.ProviderRequestId.Length > 0);
        });
        var victim = seen[^1].TaskUpdated.Task;
        var prediction = replicate.Predictions.Single(p => p.Id == victim.ProviderRequestId);
        var runningAtKill = !prediction.IsTerminal; // the kill follows at once
        farm.Worker(int.Parse(victim.WorkerId["worker-".Length..])).Kill();
        var events = await farm.WatchAsync(job.JobId);
        var done = await farm.GetJobAsync(job.JobId);

        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}\n{farm.Logs()}");
        Assert.True(runningAtKill, "the prediction had ended before the kill: the test did not kill mid-prediction");
        Assert.Equal(4, done.Plan.Chunks.Count);
        Assert.Equal(done.Plan.Chunks.Count, replicate.Creations); // one prediction per chunk: the killed one was resumed
        Assert.All(replicate.Predictions, p => Assert.Equal("succeeded", p.Status));
        var rerun = done.Tasks.Single(t => t.TaskId == victim.TaskId);
        Assert.True(rerun.Attempt >= 2 && rerun.WorkerId != victim.WorkerId, $"{victim.TaskId} attempt {rerun.Attempt} on {rerun.WorkerId}");
        Assert.Equal(victim.ProviderRequestId, rerun.ProviderRequestId);
        Assert.Contains($"replicate prediction {victim.ProviderRequestId} resumed", farm.Workers.Single(w => w.Name != victim.WorkerId).Output);
        Assert.Equal(replicate.BilledTotalUsd, done.CostUsd, 6);
        Assert.Equal(4 * 5 * 0.09, done.CostUsd, 6);
        Assert.Equal(done.CostUsd, events.Last(e => e.StateChanged is not null).StateChanged.CostUsd, 6);
    }

    [Fact]
    public async Task CoordinatorKilledMidPrediction_JobCompletes_EachChunkCreatedOnce_CostIsWhatReplicateBilled()
    {
        await using var replicate = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ProcessingFor = TimeSpan.FromSeconds(4) });
        await using var farm = await LocalFarm.StartAsync("payonce-kill-coordinator", ReplicateFarm(replicate));
        var job = (await farm.SubmitAsync("a 20 second showcase for a lamp", FourChunks)).Job;
        var seen = await farm.WatchUntilAsync(job.JobId, e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Running, ProviderRequestId.Length: > 0 });
        var interrupted = seen[^1].TaskUpdated.Task;
        var prediction = replicate.Predictions.Single(p => p.Id == interrupted.ProviderRequestId);

        var runningAtCrash = !prediction.IsTerminal; // the kill follows at once
        await farm.RestartCoordinatorAsync(crash: true);
        await farm.WatchAsync(job.JobId);
        var done = await farm.GetJobAsync(job.JobId);

        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}\n{farm.Logs()}");
        Assert.True(runningAtCrash, "the prediction had ended before the crash: the test did not crash mid-prediction");
        Assert.Equal(done.Plan.Chunks.Count, replicate.Creations);
        Assert.Equal(interrupted.ProviderRequestId, done.Tasks.Single(t => t.TaskId == interrupted.TaskId).ProviderRequestId);
        Assert.Equal(replicate.BilledTotalUsd, done.CostUsd, 6);
        Assert.Equal(4 * 5 * 0.09, done.CostUsd, 6);
    }

    [Fact]
    public async Task ThrottleStorm_ConsumesNoAttempt_TheJobShowsIt_AndCompletesAfterTheWindow()
    {
        await using var replicate = await ReplicateStandIn.StartAsync();
        // One attempt per task: a 429 that consumed one would fail the job.
        await using var farm = await LocalFarm.StartAsync("payonce-throttle", ReplicateFarm(replicate, coordinator: new() { ["Scheduling:MaxAttempts"] = "1" }));
        replicate.ThrottleCreatesFor(TimeSpan.FromMinutes(2), retryAfterSeconds: 2);

        var job = (await farm.SubmitAsync("a 20 second showcase for a lamp", FourChunks)).Job;
        await replicate.WaitUntilAsync(s => s.ThrottledCreates >= 1, TimeSpan.FromSeconds(60), "a throttled create");
        var firstThrottle = replicate.Creates[0].At;
        replicate.ThrottleCreatesFor(TimeSpan.FromSeconds(3), retryAfterSeconds: 2); // the storm goes on a little, then ends
        var events = await farm.WatchAsync(job.JobId);
        var done = await farm.GetJobAsync(job.JobId);

        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}\n{farm.Logs()}");
        Assert.All(done.Tasks.Where(t => t.Kind == TaskKind.Chunk), t => Assert.Equal(0, t.Failures));
        var paused = events.Where(e => e.ProviderPaused is not null).Select(e => e.ProviderPaused).ToList();
        Assert.NotEmpty(paused);
        Assert.All(paused, p => Assert.Equal((Wan, ProviderPauseReason.Throttled), (p.Model, p.Reason)));
        // Nothing was created before the first Retry-After ran out: the farm waited instead of hammering.
        Assert.All(replicate.Predictions, p => Assert.True(p.CreatedAt - firstThrottle >= TimeSpan.FromSeconds(1.9), $"created {(p.CreatedAt - firstThrottle).TotalSeconds:0.00} s after the first 429"));
        Assert.Equal(done.Plan.Chunks.Count, replicate.Creations);
        Assert.Equal(replicate.BilledTotalUsd, done.CostUsd, 6);
    }

    [Fact]
    public async Task Cancel_TheCancelledPredictionsBilledTime_IsInTheJobsCost()
    {
        await using var replicate = await ReplicateStandIn.StartAsync();
        replicate.Script = (_, _) => new PredictionScript(PredictionOutcome.Never);
        await using var farm = await LocalFarm.StartAsync("payonce-cancel", ReplicateFarm(replicate, workers: 1));
        var job = (await farm.SubmitAsync("a 5 second showcase for a lamp", FourChunks)).Job;
        await farm.WatchUntilAsync(job.JobId, e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Running, ProviderRequestId.Length: > 0 });
        await replicate.WaitUntilAsync(s => s.Predictions.Any(p => p.PredictSeconds > 1), TimeSpan.FromSeconds(30), "a prediction running for a second");

        var cancelled = (await farm.Jobs.CancelJobAsync(new CancelJobRequest { JobId = job.JobId }, deadline: DateTime.UtcNow.AddSeconds(30))).Job;
        await replicate.WaitUntilAsync(s => s.Predictions.All(p => p.IsTerminal), TimeSpan.FromSeconds(30), "the prediction's cancel");
        await Poll.UntilAsync(async () => (await farm.GetJobAsync(job.JobId)).CostUsd > 0, TimeSpan.FromSeconds(30), "the cancelled prediction's cost in the job");
        var done = await farm.GetJobAsync(job.JobId);

        Assert.Equal(JobState.Cancelled, cancelled.State);
        var prediction = Assert.Single(replicate.Predictions);
        Assert.Equal(("canceled", "client"), (prediction.Status, prediction.CanceledBy));
        Assert.True(prediction.PredictSeconds > 1);
        Assert.Equal(prediction.PredictSeconds * 0.001525, done.CostUsd, 6);
        Assert.Equal(replicate.BilledTotalUsd, done.CostUsd, 6);
        Assert.Equal(done.CostUsd, done.Tasks.Single(t => t.TaskId == "chunk-0").WastedCostUsd, 6);
        Assert.Equal(JobState.Cancelled, done.State);

        // The spend that produced nothing is counted by model and reason.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"{farm.CoordinatorHttpAddress}/metrics");
        Assert.Contains($"videogen_provider_wasted_cost_usd_total{{model=\"{Wan}\",reason=\"job_ended\"}}", metrics);
    }

    private static FarmOptions ReplicateFarm(ReplicateStandIn replicate, int workers = 2, Dictionary<string, string>? coordinator = null) => new()
    {
        Workers = workers,
        Coordinator = coordinator ?? [],
        Worker = _ => new()
        {
            ["Worker:Models"] = "procedural-i2v,procedural-image,wan-2.1-i2v-480p,wan-2.1-t2v-480p",
            ["Replicate:BaseUrl"] = replicate.BaseUrl,
            ["Replicate:ApiToken"] = replicate.Options.ApiToken,
            ["Replicate:WaitSeconds"] = "1",
            ["Replicate:PollSeconds"] = "0.1",
            ["Replicate:PollMaxSeconds"] = "0.5",
        },
    };
}
