using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.TestDoubles;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Models.Replicate;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Tests.Replicate;

/// <summary>
/// The Replicate provider, unchanged, against a local stand-in of the predictions API with real state
/// (<see cref="ReplicateStandIn"/>): every scenario goes through the provider's DI registration, its HTTP clients
/// and FFmpeg, and the assertions read what the stand-in recorded.
/// </summary>
public sealed class ReplicateProviderTests : IAsyncLifetime
{
    private const string I2V = "wan-2.1-i2v-480p";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly TempFolder _folder = new();
    private ReplicateStandIn _standIn = null!;

    public async Task InitializeAsync() =>
        _standIn = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ProcessingFor = TimeSpan.FromMilliseconds(1500) });

    public async Task DisposeAsync()
    {
        await _standIn.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Generate_WithStartImage_CreatesWithTokenPreferAndCancelAfter_PollsToSucceeded_AndNormalisesTheClip()
    {
        using var services = Services();
        var start = _folder.File("start.png");
        await FfmpegProbe.StartImageAsync(start, Timeout());
        var output = _folder.File("clip.mp4");
        var progress = new List<double>();

        var result = await VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(start, "a titanium watch on a desk", 5, 854, 480, 16, 42, output),
            new SyncProgress(progress.Add),
            Timeout());

        // The create: the model route, the token, both headers, the prompt, the seed and the image as a data: URI.
        var create = Assert.Single(_standIn.Creates);
        Assert.Equal("/v1/models/wavespeedai/wan-2.1-i2v-480p/predictions", create.Path);
        Assert.Equal($"Bearer {_standIn.Options.ApiToken}", create.Header("Authorization"));
        Assert.Equal("wait=1", create.Header("Prefer"));
        Assert.Equal("600s", create.Header("Cancel-After"));
        var input = create.Json!["input"]!;
        Assert.Equal("a titanium watch on a desk", input["prompt"]!.GetValue<string>());
        Assert.Equal(42, input["seed"]!.GetValue<long>());
        var image = input["image"]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", image);
        Assert.Equal(await File.ReadAllBytesAsync(start), Convert.FromBase64String(image["data:image/png;base64,".Length..]));

        // Prefer: wait=1 returned while it was processing; the provider polled it to the end and downloaded the output.
        var prediction = Assert.Single(_standIn.Predictions);
        Assert.Equal("succeeded", prediction.Status);
        Assert.Contains(_standIn.Requests, r => r.Method == "GET" && r.Path == $"/v1/predictions/{prediction.Id}");
        Assert.Contains(_standIn.Requests, r => r.Method == "GET" && r.Path.StartsWith($"/files/{prediction.Id}/", StringComparison.Ordinal));
        Assert.NotEmpty(progress);

        // 832x480 with B-frames in, the farm's clip encoding out: 854x480, 16 fps, 5 s, stitchable by stream copy.
        Assert.Equal(output, result.OutputPath);
        var clip = await MediaProbe.ProbeAsync(output, Timeout());
        Assert.Equal(("h264", 854, 480, 16.0), (clip.Codec, clip.Width, clip.Height, clip.Fps));
        Assert.InRange(clip.DurationSeconds, 4.95, 5.05);
        var procedural = _folder.File("procedural.mp4");
        await FfmpegRunner.Silent.RunAsync(ProceduralArguments.ImageToVideo(start, 5, 854, 480, 16, procedural), "generate", null, null, Timeout());
        Assert.Equal(await StreamParametersAsync(procedural), await StreamParametersAsync(output));
    }

    [Fact]
    public async Task Generate_WithoutStartImage_FallsBackToTheTextToVideoSibling()
    {
        using var services = Services();

        await VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "a lamp in a dark room", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout());

        var create = Assert.Single(_standIn.Creates);
        Assert.Equal("/v1/models/wavespeedai/wan-2.1-t2v-480p/predictions", create.Path);
        Assert.Null(create.Json!["input"]!["image"]);
    }

    [Fact]
    public async Task Generate_WithADeployment_CreatesOnTheDeploymentRoute()
    {
        using var services = Services(new() { [$"Replicate:Deployments:{I2V}"] = "acme/wan-i2v", ["Replicate:Inputs:wan-2.1-i2v-480p:fast_mode"] = "Balanced", ["Replicate:Inputs:wan-2.1-i2v-480p:num_frames"] = "81" });
        var start = _folder.File("start.png");
        await FfmpegProbe.StartImageAsync(start, Timeout());

        await VideoModel(services, I2V).GenerateAsync(new VideoGenerationRequest(start, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout());

        var create = Assert.Single(_standIn.Creates);
        Assert.Equal("/v1/deployments/acme/wan-i2v/predictions", create.Path);
        Assert.Equal("Balanced", create.Json!["input"]!["fast_mode"]!.GetValue<string>());
        Assert.Equal(81, create.Json!["input"]!["num_frames"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("NSFW content detected. Try running it again, or try a different prompt.", true)]
    [InlineData("E005: The input or output was flagged as sensitive.", true)]
    [InlineData("CUDA out of memory. Tried to allocate 2.00 GiB", false)]
    public async Task Generate_FailedPrediction_ContentRefusalIsPermanent_OtherFailuresTransient(string error, bool permanent)
    {
        _standIn.Script = (_, _) => new PredictionScript(PredictionOutcome.Fail, error);
        using var services = Services();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout()));

        Assert.IsType(permanent ? typeof(PermanentTaskException) : typeof(TransientTaskException), failure);
        Assert.Contains(error, failure.Message);
        Assert.Equal("failed", Assert.Single(_standIn.Predictions).Status);
    }

    [Fact]
    public async Task Generate_ValidationError_IsPermanent_AndNotRetried()
    {
        using var services = Services();

        var failure = await Assert.ThrowsAsync<PermanentTaskException>(() => VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout()));

        Assert.Contains("422", failure.Message);
        Assert.Contains("prompt is required", failure.Message);
        Assert.Single(_standIn.Creates);
        Assert.Empty(_standIn.Predictions);
    }

    [Fact]
    public async Task Generate_WrongToken_IsPermanent_NamingTheSetting()
    {
        using var services = Services(new() { ["Replicate:ApiToken"] = "r8_wrong" });

        var failure = await Assert.ThrowsAsync<PermanentTaskException>(() => VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout()));

        Assert.Contains("401", failure.Message);
        Assert.Contains("Replicate:ApiToken", failure.Message);
    }

    [Fact]
    public async Task Generate_Throttled_FailsAtOnce_WithTheProvidersRetryAfter_NothingCreated()
    {
        _standIn.ThrottleNextCreates(2, retryAfterSeconds: 3);
        using var services = Services();

        var failure = await Assert.ThrowsAsync<ProviderThrottledException>(() => VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout()));

        Assert.Equal(TimeSpan.FromSeconds(3), failure.RetryAfter);
        Assert.Contains("429", failure.Message);
        Assert.Single(_standIn.Creates);
        Assert.Empty(_standIn.Predictions);
    }

    [Fact]
    public async Task Generate_ServerErrorsOnCreatePastTheRetries_AreAnOutage_NothingCreated()
    {
        _standIn.FailNextCreates(10, status: 503);
        using var services = Services(new() { ["Replicate:MaxRetries"] = "1" });

        var failure = await Assert.ThrowsAsync<ProviderUnavailableException>(() => VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout()));

        Assert.Contains("503", failure.Message);
        Assert.Equal(2, _standIn.Creates.Count);
        Assert.Empty(_standIn.Predictions);
    }

    [Fact]
    public async Task Generate_TransientServerErrorsWhilePolling_AreRetried()
    {
        _standIn.FailNextGets(2);
        using var services = Services(new() { ["Replicate:WaitSeconds"] = "0" });

        await VideoModel(services, I2V).GenerateAsync(new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout());

        var create = Assert.Single(_standIn.Creates);
        Assert.Null(create.Header("Prefer"));
        var prediction = Assert.Single(_standIn.Predictions);
        Assert.Equal("succeeded", prediction.Status);
        Assert.True(_standIn.Requests.Count(r => r.Method == "GET" && r.Path.StartsWith("/v1/predictions/", StringComparison.Ordinal)) >= 3);
    }

    [Theory]
    [InlineData(0)] // cancelled while polling: the cancel goes out before the task ends
    [InlineData(5)] // cancelled while the create holds (Prefer: wait=5): the task ends at once, the cancel follows the create's answer
    public async Task Generate_Cancelled_EndsAtOnce_AndCancelsThePredictionOnReplicate(int waitSeconds)
    {
        _standIn.Script = (_, _) => new PredictionScript(PredictionOutcome.Never);
        using var services = Services(new() { ["Replicate:WaitSeconds"] = waitSeconds.ToString() });
        using var cancel = new CancellationTokenSource(Bound);

        var run = VideoModel(services, I2V).GenerateAsync(new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, cancel.Token);
        await _standIn.WaitUntilAsync(
            s => s.Predictions.Any(p => p.Status == "processing") && (waitSeconds > 0 || s.Requests.Any(r => r.Method == "GET")),
            Bound,
            "a processing prediction being waited on");
        var stopwatch = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Bound));
        // "At once": well before the create's 5 s hold or a poll would end it (a quiet machine takes
        // milliseconds; the bound leaves room for busy cores).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), $"the task took {stopwatch.Elapsed.TotalSeconds:0.00} s to stop");
        await _standIn.WaitUntilAsync(s => s.Predictions.Single().IsTerminal, TimeSpan.FromSeconds(waitSeconds + 5), "the prediction's cancel");
        var prediction = Assert.Single(_standIn.Predictions);
        Assert.Equal(("canceled", "client"), (prediction.Status, prediction.CanceledBy));
        var request = Assert.Single(_standIn.Requests, r => r.Path == $"/v1/predictions/{prediction.Id}/cancel");
        Assert.Equal("POST", request.Method);
        Assert.Equal($"Bearer {_standIn.Options.ApiToken}", request.Header("Authorization"));
    }

    [Fact]
    public async Task Generate_StuckPrediction_IsEndedByItsCancelAfterDeadline_AndFailsRetryable()
    {
        _standIn.Script = (_, _) => new PredictionScript(PredictionOutcome.Never);
        using var services = Services(new() { ["Replicate:CancelAfterSeconds"] = "2" });

        var failure = await Assert.ThrowsAsync<TransientTaskException>(() => VideoModel(services, I2V).GenerateAsync(
            new VideoGenerationRequest(null, "a lamp", 5, 854, 480, 16, 7, _folder.File("clip.mp4")), null, Timeout()));

        Assert.Contains("Cancel-After", failure.Message);
        Assert.Equal("2s", Assert.Single(_standIn.Creates).Header("Cancel-After"));
        var prediction = Assert.Single(_standIn.Predictions);
        Assert.Equal(("canceled", "deadline"), (prediction.Status, prediction.CanceledBy));
        Assert.InRange((prediction.CompletedAt!.Value - prediction.CreatedAt).TotalSeconds, 1.9, 5);
    }

    [Fact]
    public async Task Render_ImageModel_DownloadsAndNormalisesToAPngOfTheAskedSize()
    {
        _standIn.Script = (_, _) => new PredictionScript(OutputFile: _standIn.ImagePath);
        var spec = new ModelSpec { Name = "flux-schnell", Provider = "replicate", Kind = "image", ProviderModel = "black-forest-labs/flux-schnell" };
        using var services = Services();
        var png = _folder.File("storyboard.png");

        await services.GetRequiredService<ReplicateModelProvider>().CreateImageModel(spec).RenderAsync(
            new StoryboardImageRequest(0, "hero_shot", "the watch", "a titanium watch, studio light", "watch", "clean", 854, 480, png), Timeout());

        Assert.Equal("/v1/models/black-forest-labs/flux-schnell/predictions", Assert.Single(_standIn.Creates).Path);
        var pixels = await FfmpegProbe.PixelsAsync(png, Timeout());
        Assert.Equal(854 * 480 * 3, pixels.Length);
    }

    [Fact]
    public void Validation_ServingAReplicateModelWithoutAToken_FailsNamingTheKey()
    {
        var validator = new ReplicateOptionsValidator(ModelCatalog.Embedded(), Options.Create(new WorkerOptions { Models = [I2V] }));

        var result = validator.Validate(null, new ReplicateOptions { ApiToken = "", WaitSeconds = 61 });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Replicate:ApiToken") && f.Contains("REPLICATE_API_TOKEN") && f.Contains(I2V));
        Assert.Contains(result.Failures!, f => f.Contains("Replicate:WaitSeconds"));
        Assert.True(new ReplicateOptionsValidator(ModelCatalog.Embedded(), Options.Create(new WorkerOptions { Models = ["procedural-i2v"] }))
            .Validate(null, new ReplicateOptions()).Succeeded);
    }

    private ServiceProvider Services(Dictionary<string, string?>? overrides = null) =>
        ReplicateTestServices.Build(_standIn, [I2V, "wan-2.1-t2v-480p"], overrides, s => s.AddSingleton(sp => sp.GetServices<IModelProvider>().OfType<ReplicateModelProvider>().Single()));

    private static IVideoModel VideoModel(IServiceProvider services, string name) =>
        services.GetRequiredService<ReplicateModelProvider>().CreateVideoModel(ModelCatalog.Embedded().Models[name]);

    private static CancellationToken Timeout() => new CancellationTokenSource(Bound).Token;

    /// <summary>The stream parameters that must match for the concat demuxer's stream copy.</summary>
    private static async Task<string> StreamParametersAsync(string clip)
    {
        var start = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,profile,width,height,pix_fmt,r_frame_rate,time_base,has_b_frames,sample_aspect_ratio", "-of", "json", clip })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var json = await process.StandardOutput.ReadToEndAsync(Timeout());
        await process.WaitForExitAsync(Timeout());
        return JsonDocument.Parse(json).RootElement.GetProperty("streams")[0].GetRawText();
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
