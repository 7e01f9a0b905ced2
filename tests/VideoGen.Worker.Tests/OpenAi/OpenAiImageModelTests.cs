using Grpc.Core;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Contracts;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Models.OpenAi;

using VideoGen.TestDoubles;

namespace VideoGen.Worker.Tests.OpenAi;

/// <summary>
/// The "openai" storyboard provider: a real worker (gRPC, task runner, storage) and the real OpenAI SDK against a
/// local server speaking <c>POST /v1/images/generations</c>.
/// </summary>
public sealed class OpenAiImageModelTests : IAsyncLifetime
{
    private const string Key = "sk-test-images";

    // A solid colour the test can find again after scaling: 0x3366CC.
    private const int R = 0x33, G = 0x66, B = 0xCC;

    private readonly TempFolder _folder = new();
    private byte[] _png = [];

    public async Task InitializeAsync()
    {
        // What gpt-image-1 returns for a landscape request: a 1536x1024 PNG, made by the real ffmpeg.
        var png = _folder.File("generated.png");
        await FfmpegProbe.RunAsync(Timeouts.After(30), "-y", "-f", "lavfi", "-i", "color=c=0x3366CC:s=1536x1024", "-frames:v", "1", "-update", "1", png);
        _png = await File.ReadAllBytesAsync(png);
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task Storyboard_WithGptImage1_SendsTheBeatsPrompt_AndStoresAPngOfTheTasksSize()
    {
        var token = Timeouts.After(50);
        await using var images = await OpenAiStandIn.StartAsync((context, _, ct) => OpenAiStandIn.WriteJsonAsync(context, 200, OpenAiStandIn.Generated(_png), ct));
        await using var worker = await WorkerTestHost.StartAsync(Settings(images), token);

        var events = await RunAsync(worker, StoryboardRequest(), token);

        // The request: the SDK's wire format, our model, key, size and a prompt built from the beat.
        var request = Assert.Single(images.Requests);
        Assert.Equal($"Bearer {Key}", request.Authorization);
        Assert.Equal("gpt-image-1", request.Body["model"]!.GetValue<string>());
        Assert.Equal("1536x1024", request.Body["size"]!.GetValue<string>());
        Assert.Equal("medium", request.Body["quality"]!.GetValue<string>());
        Assert.Null(request.Body["response_format"]); // gpt-image-1 rejects it: it always answers b64_json
        var prompt = request.Body["prompt"]!.GetValue<string>();
        Assert.Contains("a clear hero image presenting a new store opening", prompt);
        Assert.Contains("a new store opening", prompt);
        Assert.Contains("bold graphic look", prompt);

        // The result: completed at the catalog's price per image, a PNG of exactly 854x480.
        var completed = events[^1].Completed;
        Assert.True(completed is not null, $"storyboard did not complete: {events[^1]}");
        Assert.Equal(0.063, completed.CostUsd, 6);
        Assert.EndsWith(ArtifactKeys.Storyboard("job-openai", 1), completed.OutputUri);
        var stored = new Uri(completed.OutputUri).LocalPath;
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(stored, token))[..4]);
        var info = await MediaProbe.ProbeAsync(stored, token);
        Assert.Equal((854, 480), (info.Width, info.Height));

        // Scaled to fit (1536x1024 → 720x480) and centred: the generated colour in the middle, black bars on the sides.
        var pixels = await FfmpegProbe.PixelsAsync(stored, token);
        Assert.Equal(854 * 480 * 3, pixels.Length);
        (int R, int G, int B) At(int x, int y) => (pixels[((y * 854) + x) * 3], pixels[((y * 854) + x) * 3 + 1], pixels[((y * 854) + x) * 3 + 2]);
        foreach (var (x, y) in new[] { (427, 240), (80, 10), (773, 470) })
        {
            var (r, g, b) = At(x, y);
            Assert.True(Math.Abs(r - R) <= 6 && Math.Abs(g - G) <= 6 && Math.Abs(b - B) <= 6, $"pixel ({x},{y}) is ({r},{g},{b}), not the generated colour");
        }

        foreach (var (x, y) in new[] { (5, 240), (848, 240), (60, 0) })
        {
            var (r, g, b) = At(x, y);
            Assert.True(r + g + b <= 9, $"pixel ({x},{y}) is ({r},{g},{b}), not the black padding");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Storyboard_ContentPolicy400_FailsPermanently_WithoutRetrying()
    {
        var token = Timeouts.After(50);
        await using var images = await OpenAiStandIn.StartAsync((context, _, ct) => OpenAiStandIn.WriteJsonAsync(context, 400,
            OpenAiStandIn.Error("Your request was rejected as a result of our safety system.", "image_generation_user_error", "moderation_blocked"), ct));
        await using var worker = await WorkerTestHost.StartAsync(Settings(images), token);

        var events = await RunAsync(worker, StoryboardRequest(), token);

        var failed = events[^1].Failed;
        Assert.True(failed is not null, $"storyboard did not fail: {events[^1]}");
        Assert.False(failed.Retryable);
        Assert.Contains("refused", failed.Reason);
        Assert.Contains("moderation_blocked", failed.Reason);
        Assert.Contains("safety system", failed.Reason);
        Assert.Single(images.Requests);
        Assert.False(File.Exists(Path.Combine(worker.StorageRoot, ArtifactKeys.Storyboard("job-openai", 1))));
    }

    [Fact(Timeout = 60_000)]
    public async Task Storyboard_500OnEveryCall_FailsRetryable_AfterTheSdksRetries()
    {
        var token = Timeouts.After(50);
        await using var images = await OpenAiStandIn.StartAsync((context, _, ct) => OpenAiStandIn.WriteJsonAsync(context, 500,
            OpenAiStandIn.Error("The server had an error while processing your request.", "server_error", null), ct));
        await using var worker = await WorkerTestHost.StartAsync(Settings(images, new() { ["OpenAI:MaxRetries"] = "2" }), token);

        var events = await RunAsync(worker, StoryboardRequest(), token);

        var failed = events[^1].Failed;
        Assert.True(failed is not null, $"storyboard did not fail: {events[^1]}");
        Assert.True(failed.Retryable);
        Assert.Contains("HTTP 500", failed.Reason);
        Assert.Contains("server had an error", failed.Reason);
        Assert.Equal(3, images.Requests.Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task Storyboard_NoAnswerInTime_FailsRetryable()
    {
        var token = Timeouts.After(50);
        await using var images = await OpenAiStandIn.StartAsync((_, _, ct) => Task.Delay(TimeSpan.FromSeconds(30), ct));
        await using var worker = await WorkerTestHost.StartAsync(Settings(images, new() { ["OpenAI:TimeoutSeconds"] = "1", ["OpenAI:MaxRetries"] = "0" }), token);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();

        var events = await RunAsync(worker, StoryboardRequest(), token);

        var failed = events[^1].Failed;
        Assert.True(failed is not null, $"storyboard did not fail: {events[^1]}");
        Assert.True(failed.Retryable);
        Assert.Contains("no image within 1 s", failed.Reason);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"took {stopwatch.Elapsed}");
    }

    [Fact(Timeout = 30_000)]
    public async Task StartUp_ServingGptImage1WithoutAKey_FailsNamingTheKey()
    {
        var token = Timeouts.After(25);
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Models"] = "procedural-i2v,gpt-image-1",
            ["OpenAI:ApiKey"] = "",
            ["OPENAI_API_KEY"] = "",
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => WorkerTestHost.StartAsync(settings, token));

        Assert.Contains("OpenAI:ApiKey", error.Message);
        Assert.Contains("gpt-image-1", error.Message);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartUp_WithoutAnOpenAiModel_NeedsNoKey_AndServesTheProceduralStoryboards()
    {
        var token = Timeouts.After(25);
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?> { ["OpenAI:ApiKey"] = "", ["OPENAI_API_KEY"] = "" }, token);

        var status = await worker.Client.GetWorkerStatusAsync(new GetWorkerStatusRequest(), cancellationToken: token);

        Assert.DoesNotContain("gpt-image-1", status.Models);
    }

    [Theory]
    [InlineData(854, 480, "1536x1024")]
    [InlineData(480, 854, "1024x1536")]
    [InlineData(512, 512, "1024x1024")]
    public void SizeFor_PicksTheGptImage1SizeOfTheClosestAspect(int width, int height, string expected) =>
        Assert.Equal(expected, OpenAiImageModel.SizeFor(width, height).ToString());

    [Fact]
    public void Prompt_CarriesImagePromptSubjectStyleAndFraming()
    {
        var prompt = OpenAiImageModel.Prompt(new StoryboardImageRequest(0, "hook", "fast push-in", "a bold visual.", "a bakery", "warm film look", 854, 480, "x.png"));

        Assert.StartsWith("a bold visual. Subject: a bakery. Style: warm film look. Framing: fast push-in. A single landscape still frame", prompt);
    }

    private static Dictionary<string, string?> Settings(OpenAiStandIn images, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Models"] = "procedural-i2v,procedural-image,gpt-image-1",
            ["OpenAI:BaseUrl"] = images.BaseUrl,
            ["OpenAI:ApiKey"] = Key,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    private static RunTaskRequest StoryboardRequest() => new()
    {
        JobId = "job-openai",
        TaskId = "storyboard-1",
        Attempt = 1,
        Storyboard = new StoryboardTask
        {
            Beat = new Beat
            {
                Index = 1,
                Name = "the_news",
                ShotDescription = "steady medium shot presenting a new store opening",
                ImagePrompt = "a clear hero image presenting a new store opening",
            },
            Subject = "a new store opening",
            Style = "bold graphic look, bright colours, energetic",
            WidthPixels = 854,
            HeightPixels = 480,
            OutputKey = ArtifactKeys.Storyboard("job-openai", 1),
            ImageModel = "gpt-image-1",
        },
    };

    private static async Task<List<TaskEvent>> RunAsync(WorkerTestHost worker, RunTaskRequest request, CancellationToken cancellationToken)
    {
        var events = new List<TaskEvent>();
        using var call = worker.Client.RunTask(request, cancellationToken: cancellationToken);
        await foreach (var taskEvent in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            events.Add(taskEvent);
        }

        Assert.NotEmpty(events);
        return events;
    }
}
