using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models.Replicate;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models.ComfyUi;

/// <summary>
/// A catalog video model run by the ComfyUI server beside the worker: upload the start (and end) image, fill the
/// model's workflow, queue it with a client id derived from the task (so an attempt after a worker restart finds the
/// prompt an earlier attempt queued and follows it instead of queueing it twice), follow its execution on the
/// WebSocket (<c>progress</c> → task progress; <c>execution_error</c> → a failure with a cause), fetch the output
/// node's clip through <c>/history</c> and <c>/view</c>, and bring it to the task's size and frame rate. Cancelling
/// interrupts the execution and removes the prompt from the queue.
/// </summary>
public sealed class ComfyUiVideoModel : IVideoModel
{
    /// <summary>The <c>extra_data</c> field that names the task a prompt belongs to.</summary>
    public const string TaskField = "videogen_task";

    private static readonly TimeSpan HistoryPoll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(2);

    private readonly ModelSpec _spec;
    private readonly WorkflowTemplate _workflow;
    private readonly ComfyUiClient _client;
    private readonly ComfyUiOptions _options;
    private readonly GpuServerState _state;
    private readonly FfmpegRunner _ffmpeg;
    private readonly ILogger _logger;

    public ComfyUiVideoModel(ModelSpec spec, WorkflowTemplate workflow, ComfyUiClient client, ComfyUiOptions options, GpuServerState state, FfmpegRunner ffmpeg, ILogger logger)
    {
        _spec = spec;
        _workflow = workflow;
        _client = client;
        _options = options;
        _state = state;
        _ffmpeg = ffmpeg;
        _logger = logger;
    }

    /// <summary>The client id of every attempt of <paramref name="taskKey"/>: the server sends a prompt's progress to the client id it was queued with.</summary>
    public static string ClientIdOf(string taskKey) =>
        "videogen-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(taskKey)))[..32];

    /// <summary>The size the model renders at: the task's, rounded down to multiples of 16 (what video diffusion models take).</summary>
    public static (int Width, int Height) RenderSize(int width, int height) => (Math.Max(16, width / 16 * 16), Math.Max(16, height / 16 * 16));

    /// <inheritdoc />
    public async Task<VideoGenerationResult> GenerateAsync(VideoGenerationRequest request, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        if (_state.IsWithheld(_spec.Name, out var why))
        {
            throw new GpuTaskException($"This worker's ComfyUI cannot run {_spec.Name}: {why}", FailureCause.ModelUnavailable);
        }

        var started = Stopwatch.GetTimestamp();
        var taskKey = request.TaskKey ?? Guid.NewGuid().ToString("N");
        var clientId = ClientIdOf(taskKey);
        var workDirectory = Path.GetDirectoryName(Path.GetFullPath(request.OutputPath))!;
        try
        {
            using var socket = await _client.ConnectAsync(clientId, cancellationToken);
            var promptId = await FindEarlierAsync(taskKey, cancellationToken);
            if (promptId is null)
            {
                promptId = await QueueAsync(request, taskKey, clientId, cancellationToken);
            }
            else
            {
                ComfyUiLog.Resumed(_logger, promptId, taskKey);
            }

            JsonObject history;
            try
            {
                history = await FollowAsync(socket, promptId, progress, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await CancelOnServerAsync(promptId);
                throw;
            }

            var raw = Path.Combine(workDirectory, "comfyui-output.mp4");
            await DownloadOutputAsync(history, promptId, raw, cancellationToken);
            _state.Loaded(_spec.Name);
            await _ffmpeg.RunAsync(ProviderMediaArguments.NormaliseClip(raw, request.Width, request.Height, request.Fps, request.OutputPath), "normalise", null, null, cancellationToken);
            progress?.Report(1);
            return new VideoGenerationResult(request.OutputPath, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (ComfyUiUnreachableException ex)
        {
            _state.Unreachable(ex.Message);
            throw new GpuTaskException(ex.Message, FailureCause.ServerUnreachable, ex);
        }
    }

    private async Task<string> QueueAsync(VideoGenerationRequest request, string taskKey, string clientId, CancellationToken cancellationToken)
    {
        var stem = ClientIdOf(taskKey)["videogen-".Length..];
        string? image = null, endImage = null;
        if (request.StartImagePath is not null)
        {
            image = await _client.UploadImageAsync(request.StartImagePath, $"videogen-{stem}-start.png", cancellationToken);
        }

        if (request.EndImagePath is not null)
        {
            endImage = await _client.UploadImageAsync(request.EndImagePath, $"videogen-{stem}-end.png", cancellationToken);
        }

        // A first-and-last-frame workflow for a chunk without an end image ends where it starts (a loop that holds the shot).
        endImage ??= _workflow.Placeholders.Contains("end_image") ? image : null;
        if (image is null && _workflow.Placeholders.Contains("image"))
        {
            throw new PermanentTaskException($"Model {_spec.Name} (workflow {_workflow.Name}) needs a start image; this chunk has none.");
        }

        var (width, height) = RenderSize(request.Width, request.Height);
        var prompt = _workflow.Fill(new WorkflowValues(request.Prompt, _options.NegativePrompt, image, endImage, request.Seed, _spec.FramesPerClip, _spec.Fps, width, height));
        try
        {
            var promptId = await _client.QueuePromptAsync(prompt, clientId, new JsonObject { [TaskField] = taskKey, ["videogen_model"] = _spec.Name }, cancellationToken);
            ComfyUiLog.Queued(_logger, promptId, taskKey, _spec.Name);
            return promptId;
        }
        catch (ComfyUiRejectedException ex)
        {
            // A workflow the server refuses (a node type it lacks, a model file not in its folders) fails on this server
            // every time: the worker stops advertising the model; another worker may have what it needs.
            var reason = $"ComfyUI refused workflow {_workflow.Name} ({ex.ErrorType}): {ex.Message} {ex.Details}".Trim();
            _state.Withhold(_spec.Name, reason);
            ComfyUiLog.Withheld(_logger, _spec.Name, reason);
            throw new GpuTaskException(reason, FailureCause.ModelUnavailable, ex);
        }
    }

    /// <summary>A prompt an earlier attempt of this task queued on this server: still queued or running, or finished well.</summary>
    private async Task<string?> FindEarlierAsync(string taskKey, CancellationToken cancellationToken)
    {
        var queued = (await _client.GetQueueAsync(cancellationToken)).FirstOrDefault(q => q.ExtraData?[TaskField]?.GetValue<string>() == taskKey);
        if (queued is not null)
        {
            return queued.PromptId;
        }

        var history = await _client.GetRecentHistoryAsync(_options.HistorySearchItems, cancellationToken);
        foreach (var (promptId, entry) in history)
        {
            var extra = (entry?["prompt"] as JsonArray) is { Count: > 3 } prompt ? prompt[3] as JsonObject : null;
            if (extra?[TaskField]?.GetValue<string>() == taskKey && entry?["status"]?["status_str"]?.GetValue<string>() == "success")
            {
                return promptId;
            }
        }

        return null;
    }

    /// <summary>Follows <paramref name="promptId"/> until it finished well (its history entry) or failed (an exception with its cause).</summary>
    private async Task<JsonObject> FollowAsync(ClientWebSocket socket, string promptId, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(_options.ExecutionTimeoutSeconds));
        var messages = Channel.CreateUnbounded<JsonObject>();
        var pump = PumpAsync(socket, messages.Writer, deadline.Token);
        try
        {
            while (true)
            {
                // The WebSocket is the signal; the history is read when it is quiet (a prompt that finished before the
                // socket opened, a socket the server closed) and once done.
                if (await _client.GetHistoryAsync(promptId, deadline.Token) is { } done && Finished(done, promptId) is { } finished)
                {
                    return finished;
                }

                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                quiet.CancelAfter(HistoryPoll);
                try
                {
                    while (await messages.Reader.WaitToReadAsync(quiet.Token))
                    {
                        while (messages.Reader.TryRead(out var message))
                        {
                            if (Handle(message, promptId, progress))
                            {
                                quiet.Cancel(); // finished: read the history now
                            }
                        }
                    }

                    await Task.Delay(HistoryPoll, deadline.Token); // socket closed: poll the history
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await CancelOnServerAsync(promptId);
            throw new TransientTaskException($"ComfyUI did not finish prompt {promptId} within {_options.ExecutionTimeoutSeconds} s.");
        }
        finally
        {
            deadline.Cancel();
            await pump;
        }
    }

    /// <summary>Handles one WebSocket message; true when <paramref name="promptId"/> finished.</summary>
    private bool Handle(JsonObject message, string promptId, IProgress<double>? progress)
    {
        var data = message["data"] as JsonObject;
        if (data?["prompt_id"]?.GetValue<string>() is { } id && id != promptId)
        {
            return false;
        }

        switch (message["type"]?.GetValue<string>())
        {
            case "progress" when Number(data?["max"]) > 0:
                progress?.Report(0.9 * Math.Clamp(Number(data!["value"]) / Number(data["max"]), 0, 1));
                return false;
            case "executing" when data is not null && data.ContainsKey("node") && data["node"] is null && data.ContainsKey("prompt_id"):
            case "execution_success" when data is not null:
                return true;
            case "execution_error" when data is not null:
                throw Classify(data, promptId);
            case "execution_interrupted" when data is not null:
                throw new TransientTaskException($"ComfyUI prompt {promptId} was interrupted on the server (node {data["node_id"]}).");
            default:
                return false;
        }
    }

    private static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : 0;

    /// <summary>The history entry when <paramref name="promptId"/> finished well; throws when it finished with an error; null while it runs.</summary>
    private JsonObject? Finished(JsonObject entry, string promptId)
    {
        var status = entry["status"];
        var statusText = status?["status_str"]?.GetValue<string>();
        if (statusText == "success" || (statusText is null && entry["outputs"] is JsonObject { Count: > 0 }))
        {
            return entry;
        }

        if (statusText != "error")
        {
            return null;
        }

        foreach (var message in status?["messages"] as JsonArray ?? [])
        {
            if (message is JsonArray { Count: 2 } pair && pair[1] is JsonObject data)
            {
                switch (pair[0]?.GetValue<string>())
                {
                    case "execution_error":
                        throw Classify(data, promptId);
                    case "execution_interrupted":
                        throw new TransientTaskException($"ComfyUI prompt {promptId} was interrupted on the server.");
                }
            }
        }

        throw new TransientTaskException($"ComfyUI prompt {promptId} ended with an error.");
    }

    /// <summary>An <c>execution_error</c> as a failure the scheduler can act on.</summary>
    private Exception Classify(JsonObject error, string promptId)
    {
        var type = error["exception_type"]?.GetValue<string>() ?? "";
        var text = error["exception_message"]?.GetValue<string>()?.Trim() ?? "";
        var node = $"{error["node_type"]} (node {error["node_id"]})";
        if (type.Contains("OutOfMemory", StringComparison.OrdinalIgnoreCase) || text.Contains("out of memory", StringComparison.OrdinalIgnoreCase))
        {
            var free = _state.Gpus.Count == 0 ? "" : $" ({_state.Gpus.Max(g => g.FreeBytes) / (1024.0 * 1024 * 1024):0.#} GiB free)";
            return new GpuTaskException($"out of GPU memory{free} running {_spec.Name} in {node}: {text}", FailureCause.OutOfMemory);
        }

        if (type.Contains("FileNotFound", StringComparison.OrdinalIgnoreCase))
        {
            var reason = $"ComfyUI is missing a file for {_spec.Name} in {node}: {text}";
            _state.Withhold(_spec.Name, reason);
            ComfyUiLog.Withheld(_logger, _spec.Name, reason);
            return new GpuTaskException(reason, FailureCause.ModelUnavailable);
        }

        return new TransientTaskException($"ComfyUI prompt {promptId} failed in {node}: {type}: {text}");
    }

    private async Task DownloadOutputAsync(JsonObject history, string promptId, string path, CancellationToken cancellationToken)
    {
        var outputs = history["outputs"]?[_workflow.OutputNode] as JsonObject
            ?? throw new TransientTaskException($"ComfyUI prompt {promptId} has no output from node {_workflow.OutputNode} (the catalog's outputNode of {_spec.Name}).");

        // SaveVideo lists its file under "images" (with "animated"), VideoHelperSuite's VHS_VideoCombine under "gifs".
        var file = new[] { "videos", "gifs", "images" }
            .SelectMany(k => outputs[k] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(f => f["filename"] is not null)
            ?? throw new TransientTaskException($"ComfyUI prompt {promptId}: node {_workflow.OutputNode} produced no file.");
        await _client.DownloadAsync(
            file["filename"]!.GetValue<string>(),
            file["subfolder"]?.GetValue<string>() ?? "",
            file["type"]?.GetValue<string>() ?? "output",
            path,
            cancellationToken);
    }

    private async Task CancelOnServerAsync(string promptId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CancelTimeout);
            await _client.CancelAsync(promptId, timeout.Token);
            ComfyUiLog.Interrupted(_logger, promptId);
        }
        catch (Exception ex)
        {
            ComfyUiLog.InterruptFailed(_logger, promptId, ex.Message);
        }
    }

    private static async Task PumpAsync(ClientWebSocket socket, ChannelWriter<JsonObject> writer, CancellationToken cancellationToken)
    {
        try
        {
            while (await ComfyUiClient.ReceiveAsync(socket, cancellationToken) is { } message)
            {
                writer.TryWrite(message);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // A closed or aborted socket: the follower falls back to the history.
        }
        finally
        {
            writer.TryComplete();
        }
    }
}
