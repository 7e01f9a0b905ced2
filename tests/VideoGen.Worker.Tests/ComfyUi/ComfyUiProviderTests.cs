using System.Diagnostics;
using System.Text.Json.Nodes;
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
using VideoGen.Worker.Models.ComfyUi;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Tests.ComfyUi;

/// <summary>
/// The ComfyUI provider, unchanged, against a local ComfyUI stand-in with real state (<see cref="ComfyUiStandIn"/>):
/// upload, queue, WebSocket progress, history and view, interrupt, re-finding an earlier attempt's prompt, and the
/// failures the scheduler acts on.
/// </summary>
public sealed class ComfyUiProviderTests : IAsyncLifetime
{
    private const string Wan = "wan-2.1-i2v-480p-comfyui";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly TempFolder _folder = new();
    private ComfyUiStandIn _standIn = null!;
    private string _start = "";

    public async Task InitializeAsync()
    {
        _standIn = await ComfyUiStandIn.StartAsync(new ComfyUiStandInOptions { MissingModelFiles = new HashSet<string> { "wan2.1_flf2v_720p_14B_fp16.safetensors" } });
        _start = _folder.File("start.png");
        await FfmpegProbe.StartImageAsync(_start, Timeout());
    }

    public async Task DisposeAsync()
    {
        await _standIn.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Generate_UploadsQueuesTheFilledWorkflow_FollowsWebSocketProgress_AndNormalisesTheClip()
    {
        using var services = Services();
        var progress = new List<double>();

        var result = await Model(services, Wan).GenerateAsync(Request("job-1/chunk-0"), new SyncProgress(progress.Add), Timeout());

        var prompt = Assert.Single(_standIn.Prompts);
        Assert.Equal("success", prompt.Status);
        Assert.Equal(ComfyUiVideoModel.ClientIdOf("job-1/chunk-0"), prompt.ClientId);
        Assert.Equal("job-1/chunk-0", prompt.ExtraData[ComfyUiVideoModel.TaskField]!.GetValue<string>());
        var nodes = prompt.Prompt;
        Assert.Equal(42L, nodes["11"]!["inputs"]!["seed"]!.GetValue<long>());
        Assert.Equal((848, 480, 81), (nodes["9"]!["inputs"]!["width"]!.GetValue<int>(), nodes["9"]!["inputs"]!["height"]!.GetValue<int>(), nodes["9"]!["inputs"]!["length"]!.GetValue<int>()));
        Assert.Equal(16, nodes["13"]!["inputs"]!["fps"]!.GetValue<int>());
        Assert.Equal("a titanium watch on a desk", nodes["6"]!["inputs"]!["text"]!.GetValue<string>());
        var image = nodes["5"]!["inputs"]!["image"]!.GetValue<string>();
        Assert.Contains(_standIn.Requests, r => r == "POST /upload/image");
        Assert.StartsWith("videogen-", image);

        // One progress report per sampler step came over the WebSocket, rising.
        Assert.True(progress.Count >= 20, $"{progress.Count} progress reports");
        Assert.Equal(progress.Order().ToList(), progress);
        Assert.Equal(1.0, progress[^1]);

        // 81 frames at 16 fps from the server, the catalog's 854x480 out.
        var clip = await MediaProbe.ProbeAsync(result.OutputPath, Timeout());
        Assert.Equal(("h264", 854, 480, 16.0), (clip.Codec, clip.Width, clip.Height, clip.Fps));
        Assert.InRange(clip.DurationSeconds, 81 / 16.0 - 0.07, 81 / 16.0 + 0.07);
        Assert.Contains(Wan, services.GetRequiredService<GpuServerState>().ToProto().LoadedModels);
    }

    [Fact]
    public async Task Generate_PromptQueuedByAnEarlierAttempt_IsFollowed_NotQueuedTwice()
    {
        using var services = Services();
        var client = services.GetRequiredService<ComfyUiModelProvider>().Client;

        // An earlier attempt of the task (a worker process that restarted) queued it and went away.
        var earlier = await client.QueuePromptAsync(
            WorkflowTemplate.Load(Path.Combine(AppContext.BaseDirectory, "workflows", "wan-2.1-i2v-480p.json"), "14")
                .Fill(new WorkflowValues("earlier", "", "none.png", null, 1, 81, 16, 848, 480)),
            ComfyUiVideoModel.ClientIdOf("job-2/chunk-3"),
            new JsonObject { [ComfyUiVideoModel.TaskField] = "job-2/chunk-3" },
            Timeout());
        var progress = new List<double>();

        var result = await Model(services, Wan).GenerateAsync(Request("job-2/chunk-3"), new SyncProgress(progress.Add), Timeout());

        Assert.Equal(earlier, Assert.Single(_standIn.Prompts).PromptId);
        Assert.True(File.Exists(result.OutputPath));
        Assert.NotEmpty(progress);

        // Once it finished, another attempt takes its output from the history.
        var again = await Model(services, Wan).GenerateAsync(Request("job-2/chunk-3") with { OutputPath = _folder.File("again.mp4") }, null, Timeout());
        Assert.Single(_standIn.Prompts);
        Assert.True(File.Exists(again.OutputPath));
    }

    [Fact]
    public async Task Cancel_InterruptsTheExecution_WithinASecond_AndTheAttemptEndsCancelled()
    {
        using var services = Services();
        using var cancel = new CancellationTokenSource();
        var generate = Model(services, Wan).GenerateAsync(Request("job-3/chunk-0"), null, cancel.Token);
        await _standIn.WaitUntilAsync(s => s.Prompts.Any(p => p.StepsDone >= 2), Bound, "two sampler steps");

        var cancelledAt = DateTimeOffset.UtcNow;
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generate.WaitAsync(Bound));
        await _standIn.WaitUntilAsync(s => s.Prompts.Single().Status == "interrupted", Bound, "the interrupt");
        var interrupt = Assert.Single(_standIn.Interrupts);
        Assert.True(interrupt - cancelledAt < TimeSpan.FromSeconds(1), $"interrupt {(interrupt - cancelledAt).TotalMilliseconds:0} ms after cancel");
        Assert.Contains(_standIn.Requests, r => r == "POST /queue");
        Assert.True(_standIn.Prompts.Single().StepsDone < 20);
    }

    [Fact]
    public async Task OutOfMemory_FailsRetryable_WithCauseOutOfMemory()
    {
        using var services = Services();
        _standIn.FailNextExecution(ComfyUiFault.OutOfMemory);

        var error = await Assert.ThrowsAsync<GpuTaskException>(() => Model(services, Wan).GenerateAsync(Request("job-4/chunk-0"), null, Timeout()));

        Assert.Equal(FailureCause.OutOfMemory, error.Cause);
        Assert.StartsWith("out of GPU memory", error.Message);
        var failed = ExecutionFailed.From(error);
        Assert.True(failed.Retryable);
        Assert.Equal(FailureCause.OutOfMemory, failed.Cause);
        Assert.Empty(services.GetRequiredService<GpuServerState>().ToProto().WithheldModels); // the model is fine, the memory was short
    }

    [Fact]
    public async Task MissingModelFile_WithholdsTheModelOnThisWorker_ButFailsRetryable()
    {
        using var services = Services(models: ["wan-2.1-flf2v-720p-comfyui"]);
        var model = Model(services, "wan-2.1-flf2v-720p-comfyui");

        var error = await Assert.ThrowsAsync<GpuTaskException>(() => model.GenerateAsync(Request("job-5/chunk-0"), null, Timeout()));

        Assert.Equal(FailureCause.ModelUnavailable, error.Cause);
        Assert.Contains("wan2.1_flf2v_720p_14B_fp16.safetensors", error.Message);
        Assert.True(ExecutionFailed.From(error).Retryable); // not the job's fault: another worker may have the file
        Assert.Equal(["wan-2.1-flf2v-720p-comfyui"], services.GetRequiredService<GpuServerState>().ToProto().WithheldModels);
        Assert.Empty(_standIn.Prompts);

        // The next chunk of that model fails at once, without a call.
        var requests = _standIn.Requests.Count;
        var next = await Assert.ThrowsAsync<GpuTaskException>(() => model.GenerateAsync(Request("job-5/chunk-1"), null, Timeout()));
        Assert.Equal(FailureCause.ModelUnavailable, next.Cause);
        Assert.Equal(requests, _standIn.Requests.Count);
    }

    [Fact]
    public async Task UnreachableServer_FailsWithServerUnreachable_AndMarksTheWorkerUnhealthy()
    {
        using var services = Services();
        _standIn.SetReachable(false);

        var error = await Assert.ThrowsAsync<GpuTaskException>(() => Model(services, Wan).GenerateAsync(Request("job-6/chunk-0"), null, Timeout()));

        Assert.Equal(FailureCause.ServerUnreachable, error.Cause);
        Assert.NotEmpty(services.GetRequiredService<GpuServerState>().UnhealthyReason);
    }

    private VideoGenerationRequest Request(string taskKey) =>
        new(_start, "a titanium watch on a desk", 5, 854, 480, 16, 42, _folder.File($"{taskKey.Replace('/', '-')}.mp4"), taskKey);

    private ServiceProvider Services(string[]? models = null)
    {
        var settings = new Dictionary<string, string?> { ["ComfyUI:BaseUrl"] = _standIn.BaseUrl, ["ComfyUI:ProbeSeconds"] = "0.2" };
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(ModelCatalog.Embedded());
        services.AddSingleton(FfmpegRunner.Silent);
        services.AddOptions<WorkerOptions>().Configure(o => o.Models = [.. models ?? [Wan]]);
        services.AddComfyUiProvider();
        var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IOptions<ComfyUiOptions>>().Value;
        return provider;
    }

    private static IVideoModel Model(IServiceProvider services, string name) =>
        services.GetRequiredService<ComfyUiModelProvider>().CreateVideoModel(ModelCatalog.Embedded().Models[name]);

    private static CancellationToken Timeout() => new CancellationTokenSource(Bound).Token;

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
