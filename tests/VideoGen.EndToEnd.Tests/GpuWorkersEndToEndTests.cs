using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #18 end to end: a farm of two GPU workers, each driving its own ComfyUI stand-in (the documented HTTP and
/// WebSocket API, real queue, history, progress and interrupts, clips rendered with FFmpeg) through the comfyui
/// provider, placed by the coordinator from the GPUs and free memory the workers report.
/// </summary>
public sealed class GpuWorkersEndToEndTests
{
    private const string Wan = "wan-2.1-i2v-480p-comfyui";
    private const string Flf2v = "wan-2.1-flf2v-720p-comfyui";
    private const long GiB = 1L << 30;

    [Fact]
    public async Task ThirtySecondJob_Completes_WebSocketProgressReachesTheWatch_AndAnOutOfMemoryChunkMovesToTheRoomierGpu()
    {
        // Both GPUs hold the model (20 GiB); worker-2's has more free memory. worker-1's server runs out of memory on its
        // first execution.
        await using var comfy1 = await ComfyUiStandIn.StartAsync(new ComfyUiStandInOptions { VramFreeBytes = 21 * GiB });
        await using var comfy2 = await ComfyUiStandIn.StartAsync(new ComfyUiStandInOptions { VramFreeBytes = 23 * GiB });
        comfy1.FailNextExecution(ComfyUiFault.OutOfMemory);
        await using var farm = await LocalFarm.StartAsync("comfyui-30s", GpuFarm(comfy1, comfy2));

        var submitted = (await farm.SubmitAsync("a 30 second product showcase for a titanium smartwatch", r => (r.Model, r.Transition, r.Continuity) = (Wan, "cut", Continuity.None))).Job;
        var events = await farm.WatchAsync(submitted.JobId, timeout: TimeSpan.FromMinutes(5));
        var job = await farm.GetJobAsync(submitted.JobId);

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        var video = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.InRange(video.DurationSeconds, 30 - 1 / 24.0, 30 + 1 / 24.0);
        var chunks = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).ToList();
        Assert.Equal(6, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(81 / 16.0, c.MediaSeconds, 1));

        // Every chunk ran as a prompt on one of the two servers, once (plus the attempt that ran out of memory).
        var prompts = comfy1.Prompts.Concat(comfy2.Prompts).ToList();
        Assert.Equal(7, prompts.Count);
        Assert.Equal(6, prompts.Count(p => p.Status == "success"));
        Assert.All(prompts, p => Assert.StartsWith($"{job.JobId}/chunk-", p.ExtraData["videogen_task"]!.GetValue<string>()));

        // The chunk that ran out of memory on worker-1 (21 GiB free) was retried on worker-2 (23 GiB free).
        var oom = Assert.Single(prompts, p => p.Status == "error");
        Assert.Same(oom, comfy1.Prompts[0]);
        var moved = chunks.Single(c => oom.ExtraData["videogen_task"]!.GetValue<string>() == $"{job.JobId}/{c.TaskId}");
        Assert.Equal(("worker-2", 2, 1), (moved.WorkerId, moved.Attempt, moved.Failures));
        Assert.Contains(events, e => e.TaskUpdated?.Task is { } t && t.TaskId == moved.TaskId && t.Error.StartsWith("out of GPU memory", StringComparison.Ordinal));

        // The sampler's steps, sent on the ComfyUI WebSocket, arrived as progress in the client's watch: several distinct
        // fractions within the model step of one attempt (0.05 + 0.75 × 0.9 × step / 20).
        var fractions = events.Where(e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Running } t && t.Progress > 0.05 && t.Progress < 0.8)
            .GroupBy(e => (e.TaskUpdated.Task.TaskId, e.TaskUpdated.Task.Attempt))
            .Max(g => g.Select(e => e.TaskUpdated.Task.Progress).Distinct().Count());
        Assert.True(fractions >= 5, $"at most {fractions} distinct model progress values per attempt");

        // Both workers report their GPU, its memory and what their server holds loaded.
        var workers = (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest())).Workers;
        Assert.All(workers, w => Assert.Equal(24 * GiB, (long)Assert.Single(w.Resources.GpuDevices).TotalMemoryBytes));
        Assert.Contains(Wan, workers.Single(w => w.WorkerId == "worker-2").Resources.LoadedModels);
    }

    [Fact]
    public async Task ModelNeedingMoreVramThanAnyGpu_Waits_WithAClearReason_CancelInterruptsWithinASecond_AndAnUnreachableServerMakesItsWorkerUnhealthy()
    {
        // Slow sampler steps keep a chunk executing long enough to cancel it mid-flight.
        await using var comfy1 = await ComfyUiStandIn.StartAsync(new ComfyUiStandInOptions { StepDelay = TimeSpan.FromMilliseconds(500) });
        await using var comfy2 = await ComfyUiStandIn.StartAsync(new ComfyUiStandInOptions { StepDelay = TimeSpan.FromMilliseconds(500) });
        await using var farm = await LocalFarm.StartAsync("comfyui-wait-cancel", GpuFarm(comfy1, comfy2));

        // 1. The 720p first-and-last-frame model needs 40 GiB; the workers' GPUs have 24 GiB: its chunks wait and say why.
        var big = (await farm.SubmitAsync("a 10 second showcase for a lamp", r => (r.Model, r.Transition, r.Continuity) = (Flf2v, "cut", Continuity.None))).Job;
        var waiting = await farm.WatchUntilAsync(big.JobId, e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, WaitingReason.Length: > 0 }, TimeSpan.FromSeconds(90));
        var reason = $"{Flf2v} needs 40 GiB of GPU memory; the largest GPU of a worker serving it has 24 GiB";
        Assert.Equal(reason, waiting[^1].TaskUpdated.Task.WaitingReason);
        var stuck = await farm.GetJobAsync(big.JobId);
        var readyChunks = stuck.Tasks.Where(t => t.Kind == TaskKind.Chunk && t.State == TaskState.Ready).ToList();
        Assert.NotEmpty(readyChunks);
        Assert.All(readyChunks, t => Assert.Equal(reason, t.WaitingReason));
        Assert.Empty(comfy1.Prompts.Concat(comfy2.Prompts));
        await farm.Jobs.CancelJobAsync(new CancelJobRequest { JobId = big.JobId });

        // 2. Cancel reaches the executing prompt on the stand-in within a second: POST /interrupt, then it stops.
        var job = (await farm.SubmitAsync("a 10 second showcase for a lamp", r => (r.Model, r.Transition, r.Continuity) = (Wan, "cut", Continuity.None))).Job;
        await farm.WatchUntilAsync(job.JobId, e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Running, Progress: > 0.1 }, TimeSpan.FromSeconds(120));
        var cancelledAt = DateTimeOffset.UtcNow;
        await farm.Jobs.CancelJobAsync(new CancelJobRequest { JobId = job.JobId });
        var executing = comfy1.Prompts.Concat(comfy2.Prompts).Where(p => p.StartedAt is not null).ToList();
        Assert.NotEmpty(executing);
        foreach (var comfy in new[] { comfy1, comfy2 }.Where(c => c.Prompts.Any(p => p.StartedAt is not null)))
        {
            await comfy.WaitUntilAsync(c => c.Prompts.All(p => p.Status is "interrupted" or "success" or "deleted"), TimeSpan.FromSeconds(30), "the execution to stop");
            var interrupt = comfy.Interrupts[0];
            Assert.True(interrupt - cancelledAt < TimeSpan.FromSeconds(1), $"POST /interrupt {(interrupt - cancelledAt).TotalMilliseconds:0} ms after the cancel");
        }

        Assert.Contains(comfy1.Prompts.Concat(comfy2.Prompts), p => p.Status == "interrupted" && p.StepsDone < 20);

        // 3. A server that stops answering makes its worker unhealthy (no tasks) until it is back.
        comfy1.SetReachable(false);
        await Poll.UntilAsync(async () => (await Worker(farm, "worker-1")).WorkerState == WorkerState.Unhealthy, TimeSpan.FromSeconds(30), "worker-1 never became unhealthy");
        Assert.StartsWith("ComfyUI at", (await Worker(farm, "worker-1")).Resources.UnhealthyReason);
        comfy1.SetReachable(true);
        await Poll.UntilAsync(async () => (await Worker(farm, "worker-1")).WorkerState == WorkerState.Ready, TimeSpan.FromSeconds(30), "worker-1 never became ready again");
    }

    private static async Task<WorkerInfo> Worker(LocalFarm farm, string id) =>
        (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest(), deadline: DateTime.UtcNow.AddSeconds(30))).Workers.Single(w => w.WorkerId == id);

    private static FarmOptions GpuFarm(ComfyUiStandIn comfy1, ComfyUiStandIn comfy2) => new()
    {
        Workers = 2,
        Worker = i => new()
        {
            ["Worker:Models"] = $"procedural-i2v,procedural-image,{Wan},{Flf2v}",
            ["ComfyUI:BaseUrl"] = (i == 1 ? comfy1 : comfy2).BaseUrl,
            ["ComfyUI:ProbeSeconds"] = "0.5",
        },
    };
}
