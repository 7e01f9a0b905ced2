using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.TestDoubles;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Models.Replicate;
using VideoGen.Errors;
using VideoGen.Worker.Services;
using VideoGen.Worker.Storage;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Tests.Replicate;

/// <summary>
/// The upscaler model through the Replicate provider and the upscale executor, against the stand-in, which makes a
/// real upscaled MP4 (FFmpeg <c>scale=iw*2:ih*2</c>) from the clip it was sent as a data: URI.
/// </summary>
public sealed class ReplicateUpscalerTests : IAsyncLifetime
{
    private const string Upscaler = "real-esrgan-video";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly TempFolder _folder = new();
    private ReplicateStandIn _standIn = null!;

    public async Task InitializeAsync() => _standIn = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ClipSeconds = 1 });

    public async Task DisposeAsync()
    {
        await _standIn.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Upscale_SendsTheClipAsADataUri_StoresTheModelsOutputAtTheMastersSize_ChargesProbedSecondsTimesPrice()
    {
        using var services = Services();
        var (store, clipUri, clip) = await StoredClipAsync();
        var work = Work(clipUri);

        var result = await Executor(services, store).RunAsync(work, WorkDirectory(), new Reporter(), Timeout());

        // The create: the catalog's model route, the clip as a data: URI in the configured field, no prompt.
        var create = Assert.Single(_standIn.Creates);
        Assert.Equal("/v1/models/lucataco/real-esrgan-video/predictions", create.Path);
        var input = create.Json!["input"]!;
        var sent = input["video_path"]!.GetValue<string>();
        Assert.StartsWith("data:video/mp4;base64,", sent);
        Assert.Equal(await File.ReadAllBytesAsync(clip), Convert.FromBase64String(sent["data:video/mp4;base64,".Length..]));
        Assert.Null(input["prompt"]);

        // The stand-in returned 1708x960 (2x of 854x480); the executor normalised it to the master's 1920x1080, same frames.
        var prediction = Assert.Single(_standIn.Predictions);
        var returned = await MediaProbe.ProbeAsync(prediction.OutputPath!, Timeout());
        Assert.Equal((1708, 960), (returned.Width, returned.Height));
        Assert.Equal(store.PathOf("jobs/j/upscaled/2.mp4"), new Uri(result.OutputUri).LocalPath);
        var upscaled = await MediaProbe.ProbeAsync(new Uri(result.OutputUri).LocalPath, Timeout());
        var original = await MediaProbe.ProbeAsync(clip, Timeout());
        Assert.Equal((1920, 1080, 16.0), (upscaled.Width, upscaled.Height, upscaled.Fps));
        Assert.Equal(original.DurationSeconds, upscaled.DurationSeconds, 3);
        Assert.Equal(upscaled.DurationSeconds, result.MediaSeconds, 6);
        Assert.Equal(upscaled.DurationSeconds * work.PricePerSecondUsd, result.CostUsd, 9);
        Assert.True(result.CostUsd > 0);
    }

    [Fact]
    public async Task Upscale_ServerErrorsOnCreateAndWhilePolling_AreRetried_OnePrediction()
    {
        _standIn.FailNextCreates(1, status: 503);
        _standIn.FailNextGets(2, status: 500);
        using var services = Services(new() { ["Replicate:WaitSeconds"] = "0" });
        var (store, clipUri, _) = await StoredClipAsync();

        var result = await Executor(services, store).RunAsync(Work(clipUri), WorkDirectory(), new Reporter(), Timeout());

        Assert.Equal(2, _standIn.Creates.Count); // the 503 (nothing created), then the create that went through
        var prediction = Assert.Single(_standIn.Predictions);
        Assert.Equal("succeeded", prediction.Status);
        Assert.True(_standIn.Requests.Count(r => r.Method == "GET" && r.Path == $"/v1/predictions/{prediction.Id}") >= 3, "the two 500s and a good poll");
        Assert.Equal((1920, 1080), await SizeAsync(result.OutputUri));
    }

    [Fact]
    public async Task Upscale_FailedPrediction_IsRetryable()
    {
        _standIn.Script = (_, _) => new PredictionScript(PredictionOutcome.Fail, "CUDA out of memory");
        using var services = Services();
        var (store, clipUri, _) = await StoredClipAsync();

        var failure = await Assert.ThrowsAsync<TransientTaskException>(() => Executor(services, store).RunAsync(Work(clipUri), WorkDirectory(), new Reporter(), Timeout()));

        Assert.Contains("CUDA out of memory", failure.Message);
    }

    [Fact(Timeout = 90_000)]
    public async Task RunTask_Upscale_StreamBrokenMidPrediction_NextAttemptAttaches_OnePredictionPaidOnce()
    {
        var token = Timeouts.After(80);
        // Long enough that the first stream is broken while the prediction processes (its end needs no signal from here).
        _standIn.Script = (_, _) => new PredictionScript(ProcessingFor: TimeSpan.FromSeconds(2));
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Models"] = $"procedural-i2v,{Upscaler}",
            ["Replicate:BaseUrl"] = _standIn.BaseUrl,
            ["Replicate:ApiToken"] = _standIn.Options.ApiToken,
            ["Replicate:WaitSeconds"] = "0",
            ["Replicate:PollSeconds"] = "0.05",
            ["Replicate:PollMaxSeconds"] = "0.2",
        }, token);
        var (_, clipUri, _) = await StoredClipAsync(worker.StorageRoot);
        var request = Request(clipUri);

        using var firstCancellation = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var first = worker.Client.RunTask(request, cancellationToken: firstCancellation.Token);
        Assert.True(await first.ResponseStream.MoveNext(token));
        Assert.False(first.ResponseStream.Current.Accepted.Resumed);
        await _standIn.WaitUntilAsync(s => s.Predictions.Count == 1, TimeSpan.FromSeconds(30), "the upscaler prediction's create");
        await firstCancellation.CancelAsync(); // the coordinator went away: the upscale goes on

        var again = request.Clone();
        again.Attempt = 2;
        using var second = worker.Client.RunTask(again, cancellationToken: token);
        var events = new List<TaskEvent>();
        await foreach (var e in second.ResponseStream.ReadAllAsync(token))
        {
            events.Add(e);
        }

        Assert.True(events[0].Accepted.Resumed);
        Assert.Equal(1, events[0].Accepted.StartedByAttempt);
        var completed = events[^1].Completed;
        Assert.NotNull(completed);
        Assert.EndsWith("jobs/j/upscaled/2.mp4", completed.OutputUri);
        Assert.Equal(completed.MediaSeconds * 0.02, completed.CostUsd, 9);
        Assert.Equal((1920, 1080), await SizeAsync(completed.OutputUri));
        Assert.Single(_standIn.Predictions);
        Assert.Single(_standIn.Creates);
    }

    public static TheoryData<string, Action<UpscaleTask>> BadUpscales() => new()
    {
        { "upscale.model", t => t.Model = "" },
        { "upscale.model", t => t.Model = "wan-2.1-i2v-480p" },
        { "upscale.video_uri", t => t.VideoUri = "not a uri" },
        { "upscale.width_pixels", t => t.WidthPixels = 1921 },
        { "upscale.height_pixels", t => t.HeightPixels = 0 },
        { "upscale.fps", t => t.Fps = 0 },
        { "upscale.output_key", t => t.OutputKey = "../escape.mp4" },
        { "upscale.price_per_second_usd", t => t.PricePerSecondUsd = -1 },
    };

    [Theory]
    [MemberData(nameof(BadUpscales))]
    public void Mapper_BadUpscaleTask_InvalidArgumentNamingTheField(string field, Action<UpscaleTask> change)
    {
        using var services = Services();
        var request = Request("file:///tmp/clip.mp4");
        change(request.Upscale);

        var error = Assert.Throws<RequestValidationException>(() => TaskRequestMapper.ToWork(request, services.GetRequiredService<ModelRegistry>()));

        Assert.StartsWith(field + ": ", error.Message);
        Assert.Equal(field, Assert.Single(error.Violations).Field);
    }

    [Fact]
    public void Mapper_ValidUpscaleTask_MapsEveryField()
    {
        using var services = Services();

        var work = Assert.IsType<UpscaleWork>(TaskRequestMapper.ToWork(Request("file:///tmp/clip.mp4"), services.GetRequiredService<ModelRegistry>()));

        Assert.Equal(new UpscaleWork("j", "upscale-2", 1, 2, Upscaler, "file:///tmp/clip.mp4", 1920, 1080, 16, "jobs/j/upscaled/2.mp4", 0.02), work);
        Assert.Equal("upscale", work.Kind);
    }

    [Fact]
    public void Validation_AnUpscalerOfAProviderWithoutUpscalers_FailsAtStart()
    {
        var catalog = new ModelCatalog([new ModelSpec { Name = "p", Provider = "procedural" }, new ModelSpec { Name = "u", Provider = "procedural", Kind = "upscaler" }], "p");
        using var services = new ServiceCollection()
            .AddSingleton<IModelProvider>(new ProceduralModelProvider(null!, null!))
            .BuildServiceProvider();
        var validator = new WorkerOptionsValidator(catalog, services);

        var result = validator.Validate(null, new WorkerOptions { Models = ["p", "u"] });

        Assert.Contains(result.Failures!, f => f.Contains("upscaler 'u'") && f.Contains("runs no upscalers"));
    }

    private static RunTaskRequest Request(string videoUri) => new()
    {
        JobId = "j",
        TaskId = "upscale-2",
        Attempt = 1,
        Upscale = new UpscaleTask
        {
            ChunkIndex = 2,
            Model = Upscaler,
            VideoUri = videoUri,
            WidthPixels = 1920,
            HeightPixels = 1080,
            Fps = 16,
            OutputKey = "jobs/j/upscaled/2.mp4",
            PricePerSecondUsd = 0.02,
        },
    };

    private static UpscaleWork Work(string clipUri) => new("j", "upscale-2", 1, 2, Upscaler, clipUri, 1920, 1080, 16, "jobs/j/upscaled/2.mp4", 0.02);

    /// <summary>A 1 s 854x480 16 fps chunk (the stand-in's own test clip) stored in a local artifact store, as a chunk task leaves it.</summary>
    /// <summary>A 1 s clip stored as chunk 2 under <paramref name="root"/> (a worker reads only its own storage root).</summary>
    private async Task<(LocalFolderArtifactStore Store, string Uri, string Path)> StoredClipAsync(string? root = null)
    {
        var clip = _folder.File("chunk.mp4");
        await FfmpegProbe.RunAsync(Timeout(), "-f", "lavfi", "-i", "testsrc=duration=1:size=854x480:rate=16", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", clip);
        var store = new LocalFolderArtifactStore(root ?? _folder.File("artifacts"));
        var uri = await store.PutAsync("jobs/j/chunks/2.mp4", clip, "video/mp4", Timeout());
        return (store, uri, clip);
    }

    private string WorkDirectory()
    {
        var directory = _folder.File($"work-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return directory;
    }

    private static async Task<(int, int)> SizeAsync(string uri)
    {
        var info = await MediaProbe.ProbeAsync(new Uri(uri).LocalPath, Timeout());
        return (info.Width, info.Height);
    }

    private ServiceProvider Services(Dictionary<string, string?>? overrides = null) =>
        ReplicateTestServices.Build(_standIn, [Upscaler], overrides, s => s.AddSingleton<ModelRegistry>());

    private static UpscaleExecutor Executor(IServiceProvider services, IArtifactStore store) =>
        new(services.GetRequiredService<ModelRegistry>(), store, services.GetRequiredService<FfmpegRunner>());

    private static CancellationToken Timeout() => new CancellationTokenSource(Bound).Token;

    private sealed class Reporter : ITaskReporter
    {
        public ValueTask ProgressAsync(double fraction, string step, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void TryProgress(double fraction, string step)
        {
        }

        public ValueTask ArtifactAsync(ArtifactKind kind, string uri, long sizeBytes, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
