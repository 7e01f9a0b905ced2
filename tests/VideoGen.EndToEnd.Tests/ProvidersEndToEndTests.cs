using System.Security.Cryptography;
using Amazon.S3.Model;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #6 end to end: real farms (coordinator and workers as processes) whose workers call the Replicate
/// provider against a local stand-in of the predictions API, or store artifacts in a real S3-compatible server;
/// cost accounting and budgets as a client sees them.
/// </summary>
public sealed class ProvidersEndToEndTests
{
    private const string Wan = "wan-2.1-i2v-480p";

    [Fact]
    public async Task ThirtySecondJob_OnWan21ThroughReplicate_Costs270_SixClipsOf5sAt009()
    {
        await using var replicate = await ReplicateStandIn.StartAsync();
        await using var farm = await LocalFarm.StartAsync("replicate-30s", ReplicateFarm(replicate));

        // Hard cuts: this test is about billing six 5 s clips (transitions would add a seventh for their overlap).
        var submitted = (await farm.SubmitAsync("a 30 second product showcase for a titanium smartwatch", r => (r.Model, r.Transition) = (Wan, "cut"))).Job;
        var events = await farm.WatchAsync(submitted.JobId);
        var job = await farm.GetJobAsync(submitted.JobId);

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal(6, replicate.Predictions.Count);
        Assert.All(replicate.Predictions, p => Assert.Equal(("wavespeedai/wan-2.1-i2v-480p", "succeeded"), (p.Model, p.Status)));
        Assert.All(replicate.Predictions, p => Assert.StartsWith("data:image/png;base64,", p.Input["image"]!.GetValue<string>()));
        Assert.All(replicate.Creates, r => Assert.Equal($"Bearer {replicate.Options.ApiToken}", r.Header("Authorization")));

        // $2.70 = 6 chunks × 5 s × $0.09, in the job, in each chunk and in the last progress event.
        Assert.Equal(2.70, job.CostUsd, 6);
        var chunks = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).ToList();
        Assert.All(chunks, c => Assert.Equal((5.0, 0.45), (Math.Round(c.MediaSeconds, 2), Math.Round(c.CostUsd, 4))));
        Assert.Equal(2.70, events.Last(e => e.TaskUpdated is not null).TaskUpdated.JobCostUsd, 6);
        Assert.Equal(2.70, events.Last(e => e.StateChanged is not null).StateChanged.CostUsd, 6);

        // The provider's 832x480 clips were normalised, so the stitch joined them (854x480 at 16 fps), and the finish
        // made the 16 fps model's cut the farm's 24 fps at 720p.
        var raw = await Media.ProbeAsync(LocalFarm.RawCutPath(farm, job));
        Assert.Equal(("h264", 854, 480, 16.0), (raw.Codec, raw.Width, raw.Height, raw.Fps));
        var video = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.InRange(video.DurationSeconds, 30 - 1 / 24.0, 30 + 1 / 24.0);
        Assert.Equal(("h264", 1280, 720, 24.0), (video.Codec, video.Width, video.Height, video.Fps));
    }

    [Fact]
    public async Task ThirtyTwoSecondJob_IsChargedForThe35sGenerated_AndThePlanSaysSo()
    {
        await using var replicate = await ReplicateStandIn.StartAsync();
        await using var farm = await LocalFarm.StartAsync("replicate-32s", ReplicateFarm(replicate));

        // The model's arithmetic alone: hard cuts, no end card, every chunk from a reference (no repeated frames).
        var estimate = await farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Job = new JobRequest { Prompt = "a 32 second showcase for a lamp", Model = Wan, Transition = "cut", EndCard = false, Continuity = Continuity.None } });
        var job = await farm.RunAsync("a 32 second showcase for a lamp", r => (r.Model, r.Transition, r.EndCard, r.Continuity) = (Wan, "cut", false, Continuity.None));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal(3.15, estimate.CostUsd, 6);
        Assert.Equal(7, job.Plan.Chunks.Count);
        Assert.All(job.Plan.Chunks, c => Assert.Equal(5.0, c.GeneratedSeconds));
        Assert.Equal([5, 5, 5, 5, 5, 5, 2], job.Plan.Chunks.Select(c => c.UsedSeconds));
        Assert.Equal(7, replicate.Predictions.Count);
        Assert.Equal(3.15, job.CostUsd, 6); // 7 × 5 s × $0.09: the 3 s cut from the last clip were generated, so paid
        Assert.Equal(32.0, job.OutputDurationSeconds, 1);
    }

    [Fact]
    public async Task BudgetBelowTheEstimate_IsRefusedWithResourceExhausted_BeforeAnyMoneyIsSpent()
    {
        await using var replicate = await ReplicateStandIn.StartAsync();
        await using var farm = await LocalFarm.StartAsync("replicate-budget", ReplicateFarm(replicate, workers: 1));

        // Six 5 s clips at $0.09/s (the chunks reach 28 s: the end card takes the last 2.5 s, entered with a 0.5 s dissolve).
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            farm.SubmitAsync("a 30 second product showcase for a titanium smartwatch", r => (r.Model, r.MaxCostUsd) = (Wan, 2.69)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("$2.70", error.Status.Detail);
        Assert.Contains("$2.69", error.Status.Detail);
        Assert.Empty((await farm.Jobs.ListJobsAsync(new ListJobsRequest())).Jobs);
        Assert.Empty(replicate.Requests);
        Assert.Empty(Directory.GetFiles(farm.Directory, "*.mp4", SearchOption.AllDirectories));

        // The same job within its budget runs.
        var job = await farm.RunAsync("a 5 second showcase for a lamp", r => (r.Model, r.MaxCostUsd) = (Wan, 0.45));
        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal(0.45, job.CostUsd, 6);
    }

    [Fact]
    public async Task RunningJob_WhoseClipsCostMoreThanPlanned_IsStoppedBeforeItExceedsItsBudget()
    {
        // The model returns 6 s clips where the catalog plans 5 s: chunk 0 costs $0.54, not $0.45.
        await using var replicate = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ClipSeconds = 6 });
        await using var farm = await LocalFarm.StartAsync("replicate-overrun", ReplicateFarm(replicate, workers: 1));

        var job = await farm.RunAsync("a 10 second showcase for a lamp", r => (r.Model, r.MaxCostUsd, r.Continuity) = (Wan, 0.90, Continuity.Strict));

        Assert.Equal(JobState.Failed, job.State);
        Assert.StartsWith("budget:", job.Error);
        Assert.Contains("max_cost_usd $0.90", job.Error);
        Assert.Single(replicate.Predictions); // chunk 1 ($0.54 spent + $0.45 planned > $0.90) was never paid for
        Assert.Equal(0.54, job.CostUsd, 6);
        Assert.True(job.CostUsd <= 0.90);
        Assert.Equal(TaskState.Cancelled, job.Tasks.Single(t => t.TaskId == "chunk-1").State);
    }

    [Fact]
    public async Task TwelveSecondJob_WithS3Storage_PutsEveryArtifactInTheBucket_AndItsPresignedUrlDownloads()
    {
        await using var s3 = await S3TestServer.StartAsync("videogen-e2e");
        await using var farm = await LocalFarm.StartAsync("s3-farm", new FarmOptions { Workers = 2, Worker = _ => s3.WorkerSettings(prefix: "farm") });

        var job = await farm.RunAsync("a 12 second showcase for a lamp");

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal($"s3://{s3.Bucket}/farm/jobs/{job.JobId}/final.mp4", job.OutputUri);
        Assert.All(job.Tasks.Where(t => t.Kind == TaskKind.Chunk), t => Assert.Equal($"s3://{s3.Bucket}/farm/jobs/{job.JobId}/chunks/{t.Index}.mp4", t.OutputUri));

        // Everything is in the bucket under the one key scheme, and nothing went to the local folder.
        using var client = s3.CreateClient();
        var keys = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = s3.Bucket, Prefix = $"farm/jobs/{job.JobId}/" })).S3Objects.Select(o => o.Key).ToHashSet();
        Assert.Contains($"farm/jobs/{job.JobId}/final.mp4", keys);
        Assert.Superset(job.Plan.Chunks.SelectMany(c => new[] { $"farm/jobs/{job.JobId}/chunks/{c.Index}.mp4", $"farm/jobs/{job.JobId}/chunks/{c.Index}.last.png" }).ToHashSet(), keys);
        Assert.False(Directory.Exists(Path.Combine(farm.ArtifactsRoot, "jobs", job.JobId)));

        // Job.output_url is a presigned GET: no credentials, the bucket's bytes, 12 s of video.
        Assert.StartsWith($"{s3.ServiceUrl}/{s3.Bucket}/farm/jobs/{job.JobId}/final.mp4?", job.OutputUrl);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var downloaded = Path.Combine(farm.Directory, "downloaded.mp4");
        await File.WriteAllBytesAsync(downloaded, await http.GetByteArrayAsync(job.OutputUrl));
        using var stored = await client.GetObjectAsync(s3.Bucket, $"farm/jobs/{job.JobId}/final.mp4");
        using var memory = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(memory);
        Assert.Equal(SHA256.HashData(memory.ToArray()), SHA256.HashData(await File.ReadAllBytesAsync(downloaded)));
        var video = await Media.ProbeAsync(downloaded);
        Assert.InRange(video.DurationSeconds, 11.95, 12.05);
    }

    private static FarmOptions ReplicateFarm(ReplicateStandIn replicate, int workers = 2) => new()
    {
        Workers = workers,
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
