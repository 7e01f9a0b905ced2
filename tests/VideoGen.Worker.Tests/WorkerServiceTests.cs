using System.Diagnostics;
using Google.Rpc;
using Grpc.Core;
using VideoGen.Catalog;
using VideoGen.Contracts;
using VideoGen.Contracts.V1;
using Microsoft.Extensions.DependencyInjection;
using VideoGen.Worker.Media;
using VideoGen.Worker.Services;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Tests;

public sealed class WorkerServiceTests
{
    internal static RunTaskRequest ChunkRequest(string startImageUri, double clipSeconds = 1, string job = "job-1", int index = 0, int attempt = 1) => new()
    {
        JobId = job,
        TaskId = $"chunk-{index}",
        Attempt = attempt,
        Chunk = new ChunkTask
        {
            ChunkIndex = index,
            Model = "procedural-i2v",
            Prompt = "slow orbit around the watch",
            StartImageUri = startImageUri,
            ClipSeconds = clipSeconds,
            WidthPixels = 854,
            HeightPixels = 480,
            Fps = 24,
            OutputKey = ArtifactKeys.Chunk(job, index),
            LastFrameKey = ArtifactKeys.LastFrame(job, index),
            Seed = 7,
            PricePerSecondUsd = 0.09,
        },
    };

    private static async Task<List<TaskEvent>> ReadAllAsync(AsyncServerStreamingCall<TaskEvent> call, CancellationToken cancellationToken)
    {
        var events = new List<TaskEvent>();
        await foreach (var taskEvent in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            events.Add(taskEvent);
        }

        return events;
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_Chunk_StreamsAcceptedProgressArtifactsThenCompleted()
    {
        var token = Timeouts.After(50);
        await using var worker = await WorkerTestHost.StartAsync(null, token);
        // Inputs live in the worker's storage (it reads nothing else).
        var startImage = Path.Combine(worker.StorageRoot, "jobs", "j", "storyboard", "0.png");
        Directory.CreateDirectory(Path.GetDirectoryName(startImage)!);
        await FfmpegProbe.StartImageAsync(startImage, token);

        using var call = worker.Client.RunTask(ChunkRequest(new Uri(startImage).AbsoluteUri, clipSeconds: 2), cancellationToken: token);
        var events = await ReadAllAsync(call, token);

        Assert.Equal(TaskEvent.EventOneofCase.Accepted, events[0].EventCase);
        Assert.Equal("test-worker", events[0].Accepted.WorkerId);
        Assert.False(events[0].Accepted.Resumed);
        Assert.Equal(1, events[0].Accepted.StartedByAttempt);
        Assert.Equal(TaskEvent.EventOneofCase.Completed, events[^1].EventCase);
        var middle = events.Skip(1).SkipLast(1).ToList();
        Assert.All(middle, e => Assert.Contains(e.EventCase, new[] { TaskEvent.EventOneofCase.Progress, TaskEvent.EventOneofCase.Artifact }));
        var fractions = middle.Where(e => e.Progress is not null).Select(e => e.Progress.Fraction).ToList();
        Assert.Equal(fractions.Order(), fractions);
        Assert.Equal(1.0, fractions[^1]);
        var steps = middle.Where(e => e.Progress is not null).Select(e => e.Progress.Step).Distinct().ToList();
        Assert.Equal(["model", "model_done", "last_frame", "upload"], steps);

        var artifacts = middle.Where(e => e.Artifact is not null).Select(e => e.Artifact).ToDictionary(a => a.Name);
        Assert.All(artifacts.Values, a => Assert.Equal(a.Name, ArtifactKinds.Name(a.Kind)));
        Assert.Equal([ArtifactKind.Clip, ArtifactKind.LastFrame], artifacts.Values.Select(a => a.Kind).Order());
        Assert.Equal(["clip", "last_frame"], artifacts.Keys.Order());
        var completed = events[^1].Completed;
        Assert.Equal(artifacts["clip"].Uri, completed.OutputUri);
        Assert.Equal(artifacts["last_frame"].Uri, completed.LastFrameUri);
        Assert.EndsWith(ArtifactKeys.Chunk("job-1", 0), completed.OutputUri);
        var clipPath = new Uri(completed.OutputUri).LocalPath;
        Assert.True(File.Exists(clipPath));
        Assert.True(File.Exists(new Uri(completed.LastFrameUri).LocalPath));
        Assert.Equal(new FileInfo(clipPath).Length, artifacts["clip"].SizeBytes);
        Assert.InRange(completed.MediaSeconds, 1.95, 2.05);
        Assert.Equal(completed.MediaSeconds * 0.09, completed.CostUsd, 6);
        Assert.True(completed.ModelSeconds > 0 && completed.ElapsedSeconds >= completed.ModelSeconds);
        Assert.Equal(2.0, (await MediaProbe.ProbeAsync(clipPath, token)).DurationSeconds, 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_StoryboardThenTextToVideoChunkThenStitch_ProducesTheFinalVideo()
    {
        var token = Timeouts.After(50);
        await using var worker = await WorkerTestHost.StartAsync(null, token);

        var storyboard = new RunTaskRequest
        {
            JobId = "job-2",
            TaskId = "storyboard-0",
            Storyboard = new StoryboardTask
            {
                Beat = new Beat { Index = 0, Name = "hook", ShotDescription = "macro" },
                Subject = "watch",
                WidthPixels = 854,
                HeightPixels = 480,
                OutputKey = ArtifactKeys.Storyboard("job-2", 0),
            },
        };
        var image = (await ReadAllAsync(worker.Client.RunTask(storyboard, cancellationToken: token), token))[^1];
        Assert.Equal(TaskEvent.EventOneofCase.Completed, image.EventCase);

        var first = (await ReadAllAsync(worker.Client.RunTask(ChunkRequest(image.Completed.OutputUri, 1, "job-2", 0), cancellationToken: token), token))[^1];
        var second = (await ReadAllAsync(worker.Client.RunTask(ChunkRequest("", 1, "job-2", 1), cancellationToken: token), token))[^1];
        Assert.Equal(TaskEvent.EventOneofCase.Completed, first.EventCase);
        Assert.Equal(TaskEvent.EventOneofCase.Completed, second.EventCase);

        var stitch = new RunTaskRequest
        {
            JobId = "job-2",
            TaskId = "stitch",
            Stitch = new StitchTask
            {
                ChunkUris = { first.Completed.OutputUri, second.Completed.OutputUri },
                DurationSeconds = 1.5,
                OutputKey = ArtifactKeys.Final("job-2"),
            },
        };
        var final = (await ReadAllAsync(worker.Client.RunTask(stitch, cancellationToken: token), token))[^1];

        Assert.Equal(TaskEvent.EventOneofCase.Completed, final.EventCase);
        Assert.InRange(final.Completed.MediaSeconds, 1.45, 1.55);
        Assert.EndsWith("jobs/job-2/final.mp4", final.Completed.OutputUri);
    }

    public static TheoryData<string, RunTaskRequest> MalformedTasks()
    {
        var valid = ChunkRequest("file:///tmp/start.png");
        RunTaskRequest With(Action<RunTaskRequest> change)
        {
            var copy = valid.Clone();
            change(copy);
            return copy;
        }

        return new TheoryData<string, RunTaskRequest>
        {
            { "job_id", With(r => r.JobId = "") },
            { "task_id", With(r => r.TaskId = "") },
            { "task", With(r => r.ClearTask()) },
            { "chunk.model", With(r => r.Chunk.Model = "") },
            { "chunk.model", With(r => r.Chunk.Model = "wan-2.1-i2v-480p") },
            { "chunk.output_key", With(r => r.Chunk.OutputKey = "") },
            { "chunk.output_key", With(r => r.Chunk.OutputKey = "../escape.mp4") },
            { "chunk.clip_seconds", With(r => r.Chunk.ClipSeconds = 0) },
            { "stitch.chunk_uris", With(r => r.Stitch = new StitchTask { DurationSeconds = 12, OutputKey = "jobs/j/final.mp4" }) },
            { "stitch.duration_seconds", With(r => r.Stitch = new StitchTask { ChunkUris = { "file:///a.mp4" }, OutputKey = "jobs/j/final.mp4" }) },
        };
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(MalformedTasks))]
    public async Task RunTask_MalformedTask_InvalidArgumentNamingTheField(string field, RunTaskRequest request)
    {
        var token = Timeouts.After(20);
        await using var worker = await WorkerTestHost.StartAsync(null, token);

        using var call = worker.Client.RunTask(request, cancellationToken: token);
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(call, token));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(field + ": ", error.Status.Detail);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.Equal(field, Assert.Single(badRequest!.FieldViolations).Field);
    }

    /// <summary>Chunk attempts this process's workers finished, whatever the outcome (the procedural model ran).</summary>
    internal static double ChunkRuns() =>
        new[] { "succeeded", "failed_retryable", "failed_permanent", "cancelled" }.Sum(o => Observability.WorkerMetrics.Tasks.WithLabels("chunk", o).Value);

    private static async Task<TaskEvent> NextAsync(AsyncServerStreamingCall<TaskEvent> call, CancellationToken cancellationToken)
    {
        Assert.True(await call.ResponseStream.MoveNext(cancellationToken), "the stream ended early");
        return call.ResponseStream.Current;
    }

    [Fact(Timeout = 30_000)]
    public async Task ATaskOrCancelFromAnOlderCoordinatorEpoch_IsRefusedAborted_WhileTheNewerLeadersRun()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "2" }, token);

        // The new leader (epoch 5) starts a task: from now on epoch 5 is the oldest this worker obeys.
        var current = ChunkRequest("");
        current.CoordinatorEpoch = 5;
        using var call = worker.Client.RunTask(current, cancellationToken: token);
        Assert.Equal(TaskEvent.EventOneofCase.Accepted, (await NextAsync(call, token)).EventCase);

        // The deposed leader (epoch 4) can neither start a task nor stop the new leader's.
        var stale = ChunkRequest("", index: 1);
        stale.CoordinatorEpoch = 4;
        using var staleCall = worker.Client.RunTask(stale, cancellationToken: token);
        var refused = await Assert.ThrowsAsync<RpcException>(() => staleCall.ResponseStream.MoveNext(token));
        Assert.Equal(StatusCode.Aborted, refused.StatusCode);
        Assert.Contains("epoch 4", refused.Status.Detail);
        var cancel = await Assert.ThrowsAsync<RpcException>(() => worker.Client.CancelTaskAsync(
            new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-0", Reason = "deposed", CoordinatorEpoch = 4 }, cancellationToken: token).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, cancel.StatusCode);
        Assert.Equal(["job-1/chunk-0#1"], (await worker.Client.GetWorkerStatusAsync(new GetWorkerStatusRequest(), cancellationToken: token)).RunningTasks);

        // The current epoch, a newer one and an unfenced coordinator (0) are obeyed.
        Assert.True((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-0", Reason = "done", CoordinatorEpoch = 6 }, cancellationToken: token)).Found);
        Assert.Equal(6, worker.Service<Membership.CoordinatorEpochs>().Highest);
        Assert.False((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-9", Reason = "x" }, cancellationToken: token)).Found);
    }

    [Fact(Timeout = 30_000)]
    public async Task CancelTask_MidTask_CutsTheModelCallShort_FreesTheSlot_AndEndsTheStreamFailedRetryable()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "1" }, token);

        using var call = worker.Client.RunTask(ChunkRequest(""), cancellationToken: token);
        Assert.Equal(TaskEvent.EventOneofCase.Accepted, (await NextAsync(call, token)).EventCase);
        Assert.Equal("model", (await NextAsync(call, token)).Progress.Step);
        Assert.Equal(["job-1/chunk-0#1"], (await worker.Client.GetWorkerStatusAsync(new GetWorkerStatusRequest(), cancellationToken: token)).RunningTasks);

        var stopwatch = Stopwatch.StartNew();
        var cancelled = await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-0", Reason = "job cancelled" }, cancellationToken: token);
        var elapsed = stopwatch.Elapsed;

        Assert.True(cancelled.Found);
        // The model waits 60 s: returning within seconds means the call was cut short (about a
        // millisecond on a quiet machine; the bound leaves room for busy cores).
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"CancelTask returned after {elapsed}");
        Assert.Empty(worker.Service<WorkerCapacity>().RunningTasks);
        var failed = (await NextAsync(call, token)).Failed;
        Assert.NotNull(failed);
        Assert.True(failed.Retryable);
        Assert.Equal("cancelled: job cancelled", failed.Reason);
        Assert.False(await call.ResponseStream.MoveNext(token));

        // The only slot is free again: another task is accepted, and runs anew (nothing was kept).
        using var next = worker.Client.RunTask(ChunkRequest("", index: 1), cancellationToken: token);
        Assert.False((await NextAsync(next, token)).Accepted.Resumed);
        Assert.True((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-1" }, cancellationToken: token)).Found);
        Assert.False((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-0" }, cancellationToken: token)).Found);
        Assert.False((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-9", TaskId = "chunk-0" }, cancellationToken: token)).Found);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_CallBrokenMidTask_TaskGoesOn_AndTheNextAttemptAttachesToIt()
    {
        var token = Timeouts.After(50);
        var clock = new GatedClock(TimeSpan.FromSeconds(60));
        var logs = new LogSignals();
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "1" }, token,
            services => services.AddSingleton<TimeProvider>(clock).AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var runsBefore = ChunkRuns();

        using var firstCancellation = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var first = worker.Client.RunTask(ChunkRequest(""), cancellationToken: firstCancellation.Token);
        var accepted = (await NextAsync(first, token)).Accepted;
        Assert.False(accepted.Resumed);
        Assert.Equal(1, accepted.StartedByAttempt);
        Assert.Equal("model", (await NextAsync(first, token)).Progress.Step);
        await clock.NextModelWaitAsync(token);

        // The coordinator goes away mid-task: the stream detaches, the task (and its slot) stay.
        await firstCancellation.CancelAsync();
        await logs.WaitForAsync(302, "attempt 1 of job-1/chunk-0 detached", token);
        Assert.Equal(["job-1/chunk-0#1"], worker.Service<WorkerCapacity>().RunningTasks);

        using var second = worker.Client.RunTask(ChunkRequest("", attempt: 2), cancellationToken: token);
        var resumed = (await NextAsync(second, token)).Accepted;
        Assert.True(resumed.Resumed);
        Assert.Equal(1, resumed.StartedByAttempt);
        Assert.Equal("test-worker", resumed.WorkerId);
        Assert.Equal("model", (await NextAsync(second, token)).Progress.Step);

        clock.Advance(TimeSpan.FromSeconds(60));
        var events = await ReadAllAsync(second, token);

        var completed = events[^1].Completed;
        Assert.NotNull(completed);
        Assert.EndsWith(ArtifactKeys.Chunk("job-1", 0), completed.OutputUri);
        Assert.True(File.Exists(new Uri(completed.OutputUri).LocalPath));
        Assert.Equal(["clip", "last_frame"], events.Where(e => e.Artifact is not null).Select(e => e.Artifact.Name).Order());
        Assert.Equal(1, ChunkRuns() - runsBefore);
        Assert.Equal(0, clock.PendingModelWaits);
        Assert.Empty(worker.Service<WorkerCapacity>().RunningTasks);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_AfterTheExecutionFinished_GetsItsResultAtOnce_WithoutASlot()
    {
        var token = Timeouts.After(50);
        var clock = new GatedClock(TimeSpan.FromSeconds(60));
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "1" }, token,
            services => services.AddSingleton<TimeProvider>(clock));
        var runsBefore = ChunkRuns();

        using var first = worker.Client.RunTask(ChunkRequest(""), cancellationToken: token);
        var reading = ReadAllAsync(first, token);
        await clock.NextModelWaitAsync(token);
        clock.Advance(TimeSpan.FromSeconds(60));
        var original = (await reading)[^1].Completed;
        Assert.NotNull(original);

        // The only slot is taken by another task, parked in its model call.
        using var busy = worker.Client.RunTask(ChunkRequest("", index: 1), cancellationToken: token);
        Assert.False((await NextAsync(busy, token)).Accepted.Resumed);
        await clock.NextModelWaitAsync(token);

        var events = await ReadAllAsync(worker.Client.RunTask(ChunkRequest("", attempt: 3), cancellationToken: token), token);

        Assert.True(events[0].Accepted.Resumed);
        Assert.Equal(1, events[0].Accepted.StartedByAttempt);
        Assert.Equal(original, events[^1].Completed);
        Assert.Equal(["clip", "last_frame"], events.Where(e => e.Artifact is not null).Select(e => e.Artifact.Name).Order());
        Assert.Equal(1, ChunkRuns() - runsBefore);
        Assert.True((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-1" }, cancellationToken: token)).Found);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_AfterTheRetention_RunsTheTaskAnew()
    {
        var token = Timeouts.After(50);
        var clock = new GatedClock(TimeSpan.FromSeconds(60));
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:ResultRetentionSeconds"] = "300" }, token,
            services => services.AddSingleton<TimeProvider>(clock));

        using var first = worker.Client.RunTask(ChunkRequest(""), cancellationToken: token);
        var reading = ReadAllAsync(first, token);
        await clock.NextModelWaitAsync(token);
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.NotNull((await reading)[^1].Completed);

        clock.Advance(TimeSpan.FromSeconds(299));
        var kept = await ReadAllAsync(worker.Client.RunTask(ChunkRequest("", attempt: 2), cancellationToken: token), token);
        Assert.True(kept[0].Accepted.Resumed);
        Assert.NotNull(kept[^1].Completed);

        clock.Advance(TimeSpan.FromSeconds(1));
        using var third = worker.Client.RunTask(ChunkRequest("", attempt: 3), cancellationToken: token);
        var accepted = (await NextAsync(third, token)).Accepted;

        Assert.False(accepted.Resumed);
        Assert.Equal(3, accepted.StartedByAttempt);
        await clock.NextModelWaitAsync(token);
        Assert.True((await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-0" }, cancellationToken: token)).Found);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunTask_FailureDelivered_IsNotKept_SoARetryRunsAnew()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?> { ["Procedural:FailureMode"] = "transient" }, token);
        var runsBefore = ChunkRuns();

        var first = await ReadAllAsync(worker.Client.RunTask(ChunkRequest(""), cancellationToken: token), token);
        var retry = await ReadAllAsync(worker.Client.RunTask(ChunkRequest("", attempt: 2), cancellationToken: token), token);

        Assert.NotNull(first[^1].Failed);
        Assert.False(retry[0].Accepted.Resumed);
        Assert.Equal(2, retry[0].Accepted.StartedByAttempt);
        Assert.NotNull(retry[^1].Failed);
        Assert.Equal(2, ChunkRuns() - runsBefore);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunTask_AllSlotsBusy_ResourceExhausted()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "1" }, token);
        using var busy = worker.Client.RunTask(ChunkRequest("", index: 0), cancellationToken: token);
        Assert.True(await busy.ResponseStream.MoveNext(token));

        using var second = worker.Client.RunTask(ChunkRequest("", index: 1), cancellationToken: token);
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(second, token));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "chunk-0" }, cancellationToken: token);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunTask_WhileDraining_FailedPrecondition()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(null, token);

        var drained = await worker.Client.DrainAsync(new DrainRequest(), cancellationToken: token);
        using var call = worker.Client.RunTask(ChunkRequest(""), cancellationToken: token);
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(call, token));

        Assert.Equal(0, drained.RunningTasks);
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.True((await worker.Client.GetWorkerStatusAsync(new GetWorkerStatusRequest(), cancellationToken: token)).Draining);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("permanent", false)]
    [InlineData("transient", true)]
    public async Task RunTask_ModelFails_TaskFailedWithRetryableByKind(string mode, bool retryable)
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?> { ["Procedural:FailureMode"] = mode }, token);

        var events = await ReadAllAsync(worker.Client.RunTask(ChunkRequest(""), cancellationToken: token), token);

        Assert.Equal(TaskEvent.EventOneofCase.Accepted, events[0].EventCase);
        var failed = events[^1].Failed;
        Assert.NotNull(failed);
        Assert.Equal(retryable, failed.Retryable);
        Assert.Contains(mode, failed.Reason);
        Assert.DoesNotContain("   at ", failed.Reason);
        Assert.Empty(worker.Service<WorkerCapacity>().RunningTasks);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunTask_MissingStartImage_FailsRetryable()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(null, token);

        var missing = new Uri(Path.Combine(worker.StorageRoot, "jobs", "j", "storyboard", "missing.png")).AbsoluteUri;
        var events = await ReadAllAsync(worker.Client.RunTask(ChunkRequest(missing), cancellationToken: token), token);

        Assert.True(events[^1].Failed.Retryable);
        Assert.Contains("does not exist", events[^1].Failed.Reason);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrpcHealth_IsServing_UntilTheWorkerDrains_ThenNotServing()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(null, token);
        var health = new Grpc.Health.V1.Health.HealthClient(worker.Channel);

        var before = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), cancellationToken: token);
        await worker.Client.DrainAsync(new DrainRequest(), cancellationToken: token);
        var after = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), cancellationToken: token);

        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, before.Status);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, after.Status);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("file:///etc/passwd")]
    [InlineData("file:///tmp/../etc/passwd")]
    [InlineData("https://example.com/start.png")]
    [InlineData("s3://bucket/jobs/j/start.png")]
    public async Task RunTask_InputOutsideTheWorkersStorage_FailsPermanentlyWithTheReason(string uri)
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(null, token);

        var events = await ReadAllAsync(worker.Client.RunTask(ChunkRequest(uri), cancellationToken: token), token);

        Assert.False(events[^1].Failed.Retryable);
        Assert.Contains("only", events[^1].Failed.Reason);
        Assert.Contains("storage", events[^1].Failed.Reason);
    }

    [Fact(Timeout = 30_000)]
    public async Task GetWorkerStatus_ReportsIdentityModelsAndSlots_AndHttpEndpointServesMetricsAndHealth()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?> { ["Worker:Slots"] = "3" }, token);

        var status = await worker.Client.GetWorkerStatusAsync(new GetWorkerStatusRequest(), cancellationToken: token);
        using var http = new HttpClient { BaseAddress = new Uri(worker.Endpoints.HttpAddress) };
        var metrics = await http.GetStringAsync("/metrics", token);
        var health = await http.GetAsync("/healthz", token);

        Assert.Equal("test-worker", status.WorkerId);
        Assert.Equal(3, status.Slots);
        Assert.Equal(["procedural-i2v", "procedural-flf2v", "procedural-extend", "procedural-image", "espeak-ng", "ffmpeg-bed"], status.Models);
        Assert.False(status.Draining);
        Assert.Contains("videogen_worker_slots 3", metrics);
        Assert.Contains("videogen_worker_tasks_total", metrics);
        Assert.True(health.IsSuccessStatusCode);
        Assert.NotEqual(worker.Endpoints.GrpcAddress, worker.Endpoints.HttpAddress);
        Assert.Equal(worker.Endpoints.GrpcAddress, worker.Endpoints.AdvertisedAddress);
    }
}
