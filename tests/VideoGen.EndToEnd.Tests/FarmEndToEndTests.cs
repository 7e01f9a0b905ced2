using Google.Rpc;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #2 end to end: a coordinator and two workers as separate processes, a gRPC client, real FFmpeg.
/// </summary>
public sealed class FarmEndToEndTests
{
    private const string ShowcasePrompt = "A 30 second product showcase for a titanium smartwatch";

    [Fact]
    public async Task ThirtySecondShowcase_IsA30sMp4OfSixChunks_ContinuousAcrossCuts_MadeByBothWorkers()
    {
        await using var farm = await LocalFarm.StartAsync("showcase");
        var submitted = (await farm.SubmitAsync(ShowcasePrompt)).Job;

        // Watch, disconnect after a few events, resume from the last sequence seen.
        var first = await farm.WatchAsync(submitted.JobId, take: 5);
        var rest = await farm.WatchAsync(submitted.JobId, afterSequence: first[^1].Sequence);
        var events = first.Concat(rest).ToList();
        var job = await farm.GetJobAsync(submitted.JobId);

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal(Enumerable.Range(1, (int)job.LastSequence).Select(i => (long)i), events.Select(e => e.Sequence));

        // The finished ad: 30.0 s (±1 frame) of H.264 at the default 720p. The raw cut joins six 5 s chunks: the chunks
        // reach 28 s (the end card's last 2.5 s, entered with a 0.5 s dissolve), the dissolves at the three beat boundaries
        // overlap the takes by 0.5 s each and the two continuous chunks drop a repeated frame each.
        var final = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.InRange(final.DurationSeconds, 30 - 1 / 24.0, 30 + 1 / 24.0);
        Assert.Equal(("h264", 1280, 720, 24.0), (final.Codec, final.Width, final.Height, final.Fps));
        Assert.Equal(30.0, job.OutputDurationSeconds, 1);
        var video = LocalFarm.RawCutPath(farm, job);
        var info = await Media.ProbeAsync(video);
        Assert.Equal(("h264", 854, 480), (info.Codec, info.Width, info.Height));
        var chunks = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).OrderBy(t => t.Index).ToList();
        Assert.Equal(6, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(5.0, c.MediaSeconds, 1));

        // Both workers ran chunks, and independent chunks overlapped in time.
        var chunkWorkers = events.Where(e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Succeeded })
            .Select(e => e.TaskUpdated.Task.WorkerId).Distinct().Order().ToArray();
        Assert.Equal(["worker-1", "worker-2"], chunkWorkers);
        var overlapping = chunks.SelectMany(a => chunks.Where(b => b.Index > a.Index && a.StartedAt.ToDateTime() < b.FinishedAt.ToDateTime() && b.StartedAt.ToDateTime() < a.FinishedAt.ToDateTime())).Count();
        Assert.True(overlapping > 0, "no two chunks ran at the same time");

        // Continuity, in the raw cut (every chunk at full length): a continuous chunk starts where the previous one ended;
        // a reference chunk starts from its beat's storyboard.
        var frames = Path.Combine(farm.Directory, "frames");
        Directory.CreateDirectory(frames);
        var fps = (int)Math.Round(info.Fps);
        foreach (var plan in job.Plan.Chunks.Where(c => c.Index > 0))
        {
            var cut = (int)Math.Round(plan.Index * job.Plan.ClipSeconds * fps);
            var firstFrame = await Media.FrameAsync(video, cut, Path.Combine(frames, $"{plan.Index}-first.png"));
            if (plan.IsReference)
            {
                var storyboard = Path.Combine(farm.ArtifactsRoot, "jobs", job.JobId, "storyboard", $"{plan.BeatIndex}.png");
                var ssim = await Media.SsimAsync(firstFrame, storyboard);
                Assert.True(ssim >= 0.95, $"chunk {plan.Index} starts from storyboard {plan.BeatIndex} with SSIM {ssim}");
            }
            else
            {
                var lastBefore = await Media.FrameAsync(video, cut - 1, Path.Combine(frames, $"{plan.Index}-before.png"));
                var ssim = await Media.SsimAsync(lastBefore, firstFrame);
                Assert.True(ssim >= 0.95, $"cut into continuous chunk {plan.Index}: SSIM {ssim}");
            }
        }

        // Beats start from visibly different storyboards.
        var boards = job.Plan.Chunks.Where(c => c.IsReference).Select(c => c.BeatIndex).Distinct()
            .Select(b => Path.Combine(farm.ArtifactsRoot, "jobs", job.JobId, "storyboard", $"{b}.png")).ToList();
        for (var a = 0; a < boards.Count; a++)
        {
            for (var b = a + 1; b < boards.Count; b++)
            {
                var ssim = await Media.SsimAsync(boards[a], boards[b]);
                Assert.True(ssim < 0.9, $"storyboards {a} and {b} look alike (SSIM {ssim})");
            }
        }
    }

    [Fact]
    public async Task BadInput_GetsInvalidArgumentNamingTheField_UnknownJobsNotFound_AndTheFarmKeepsServing()
    {
        await using var farm = await LocalFarm.StartAsync("bad-input", new FarmOptions { Workers = 1 });

        async Task ExpectInvalid(string field, Action<JobRequest> configure)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => farm.SubmitAsync("a showcase", configure));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Contains(field, error.Status.Detail);
            var badRequest = error.GetRpcStatus()!.GetDetail<BadRequest>();
            Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
        }

        await ExpectInvalid("job.prompt", r => r.Prompt = "");
        await ExpectInvalid("job.prompt", r => r.Prompt = new string('a', 10_000));
        await ExpectInvalid("job.duration_seconds", r => r.DurationSeconds = 0);
        await ExpectInvalid("job.duration_seconds", r => r.DurationSeconds = -3);
        await ExpectInvalid("job.duration_seconds", r => r.DurationSeconds = 601);
        await ExpectInvalid("job.template", r => r.Template = "cooking_show");
        await ExpectInvalid("job.model", r => r.Model = "sora-9000");
        await ExpectInvalid("job.continuity", r => r.Continuity = (Continuity)99);

        var badToken = await Assert.ThrowsAsync<RpcException>(() => farm.Jobs.ListJobsAsync(new ListJobsRequest { PageToken = "20" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badToken.StatusCode);
        Assert.Contains(badToken.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "page_token");

        foreach (var call in new Func<Task>[]
                 {
                     () => farm.Jobs.GetJobAsync(new GetJobRequest { JobId = "job-nope" }).ResponseAsync,
                     () => farm.Jobs.CancelJobAsync(new CancelJobRequest { JobId = "job-nope" }).ResponseAsync,
                     () => farm.WatchAsync("job-nope"),
                 })
        {
            Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(call)).StatusCode);
        }

        var job = await farm.RunAsync("a 5 second showcase for a lamp");
        Assert.Equal(JobState.Succeeded, job.State);
    }

    [Fact]
    public async Task Estimate_ReturnsPlanCostAndWallTimeFromTheRegisteredWorkers_WithoutStartingAJob()
    {
        await using var farm = await LocalFarm.StartAsync("estimate", new FarmOptions { Workers = 2 });

        var estimate = await farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Job = new JobRequest { Prompt = ShowcasePrompt } });

        // Beats at 0, 6, 15 and 24 s, the end card from 27.5 s; chunk starts 0, 5, 9.458, 14.458, 18.917, 23.417 (each new
        // take 0.5 s early for its dissolve, each continuous chunk one frame early for the frame it repeats).
        Assert.Equal(6, estimate.Plan.Chunks.Count);
        Assert.Equal([0, 5, 9.458, 14.458, 18.917, 23.417], estimate.Plan.Chunks.Select(c => c.StartSeconds).ToArray());
        Assert.Equal([0, 2, 4, 5], estimate.Plan.Chunks.Where(c => c.IsReference).Select(c => c.Index).ToArray());
        Assert.True(estimate.FinishSeconds > 0 && estimate.FinishSeconds < estimate.ExpectedWallSeconds);
        Assert.Equal(2, estimate.Workers);
        Assert.Equal(0, estimate.CostUsd); // the procedural model is free
        Assert.True(estimate.ExpectedWallSeconds > 0);
        Assert.Empty((await farm.Jobs.ListJobsAsync(new ListJobsRequest())).Jobs);
        var workers = (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest())).Workers;
        Assert.All(workers, w => Assert.Equal(0, w.TasksSucceeded + w.RunningTasks));
    }

    [Fact]
    public async Task Submit_SameRequestIdTwice_CreatesOneJob()
    {
        await using var farm = await LocalFarm.StartAsync("idempotent", new FarmOptions { Workers = 1 });

        var first = await farm.SubmitAsync("a 5 second showcase for a lamp", requestId: "client-req-1");
        var second = await farm.SubmitAsync("a 5 second showcase for a lamp", requestId: "client-req-1");

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(first.Job.JobId, second.Job.JobId);
        var listed = await farm.Jobs.ListJobsAsync(new ListJobsRequest());
        Assert.Single(listed.Jobs);
    }

    [Fact]
    public async Task Cancel_RunningJob_StopsItsTasksOnTheWorkers_AndEndsCancelled()
    {
        // A slow model keeps tasks running long enough to cancel them mid-flight.
        await using var farm = await LocalFarm.StartAsync("cancel", new FarmOptions
        {
            Workers = 2,
            Worker = _ => new() { ["Procedural:LatencySeconds"] = "60" },
        });
        var job = (await farm.SubmitAsync("a 20 second showcase for a lamp")).Job;
        await farm.WatchUntilAsync(job.JobId, e => e.TaskUpdated?.Task.State == TaskState.Running);

        var workers = (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest())).Workers;
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var cancelled = (await farm.Jobs.CancelJobAsync(new CancelJobRequest { JobId = job.JobId })).Job;

        Assert.Equal(JobState.Cancelled, cancelled.State);
        // A task that finished before the cancel arrived (a storyboard, on a busy machine) keeps
        // its result; every other task ends cancelled, and none is left waiting or running. No
        // chunk can have finished: each one waits 60 s for the model.
        Assert.All(cancelled.Tasks, t => Assert.True(t.State is TaskState.Cancelled or TaskState.Succeeded, $"task {t.TaskId} ended {t.State}"));
        Assert.All(cancelled.Tasks.Where(t => t.Kind is TaskKind.Chunk or TaskKind.Stitch), t => Assert.Equal(TaskState.Cancelled, t.State));
        foreach (var worker in workers)
        {
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(worker.Address);
            var client = new WorkerService.WorkerServiceClient(channel);
            await Poll.UntilAsync(
                async () => (await client.GetWorkerStatusAsync(new GetWorkerStatusRequest())).RunningTasks.Count == 0,
                TimeSpan.FromSeconds(30),
                $"{worker.WorkerId} still runs tasks of the cancelled job");
        }

        // The model's 60 s latency was cut short: the workers stopped the running calls instead of
        // letting them finish (on a quiet machine within a second; the bound leaves room for a busy one).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"tasks stopped {stopwatch.Elapsed.TotalMilliseconds:0} ms after the cancel");
        var events = await farm.WatchAsync(job.JobId);
        Assert.Equal(JobState.Cancelled, events[^1].StateChanged.State);
    }
}
