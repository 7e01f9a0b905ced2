using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VideoGen.TestDoubles;

/// <summary>Settings of a <see cref="ComfyUiStandIn"/>.</summary>
public sealed record ComfyUiStandInOptions
{
    /// <summary>The GPU <c>/system_stats</c> reports.</summary>
    public string GpuName { get; init; } = "cuda:0 NVIDIA Stand-in 24GB : cudaMallocAsync";

    public long VramTotalBytes { get; init; } = 24L << 30;

    /// <summary>Free memory reported while idle.</summary>
    public long VramFreeBytes { get; init; } = 22L << 30;

    /// <summary>Time one sampler step takes (a node with a <c>steps</c> input sends one <c>progress</c> message per step).</summary>
    public TimeSpan StepDelay { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Node types this server has; null: every type a workflow names.</summary>
    public IReadOnlySet<string>? NodeTypes { get; init; }

    /// <summary>Model files (inputs named <c>*_name</c>) this server does not have: a workflow naming one fails validation.</summary>
    public IReadOnlySet<string> MissingModelFiles { get; init; } = new HashSet<string>();
}

/// <summary>How the next execution ends.</summary>
public enum ComfyUiFault
{
    None,

    /// <summary>The sampler raises torch's OutOfMemoryError after its first step (an <c>execution_error</c>).</summary>
    OutOfMemory,
}

/// <summary>A prompt as the stand-in holds it.</summary>
public sealed class StandInComfyPrompt
{
    public required string PromptId { get; init; }

    public required int Number { get; init; }

    public required string ClientId { get; init; }

    public required JsonObject Prompt { get; init; }

    public required JsonObject ExtraData { get; init; }

    /// <summary>"pending", "running", "success", "error", "interrupted" or "deleted".</summary>
    public string Status { get; internal set; } = "pending";

    public DateTimeOffset QueuedAt { get; init; }

    public DateTimeOffset? StartedAt { get; internal set; }

    public DateTimeOffset? EndedAt { get; internal set; }

    /// <summary>Sampler steps done so far.</summary>
    public int StepsDone { get; internal set; }

    internal CancellationTokenSource Interrupt { get; } = new();

    internal ComfyUiFault Fault { get; init; }
}

/// <summary>
/// A local ComfyUI for tests: the documented HTTP and WebSocket API (<c>/upload/image</c>, <c>/prompt</c>,
/// <c>/queue</c>, <c>/interrupt</c>, <c>/history</c>, <c>/view</c>, <c>/system_stats</c>, <c>/ws?clientId=</c>) over
/// real state: a queue run by one executor in order, a history, progress per sampler step sent to the client id that
/// queued the prompt, interrupts, validation of node types and model files. The output node's clip is rendered with
/// FFmpeg from the uploaded start image at the workflow's width, height, length and fps. Faults: an out-of-memory
/// error, being unreachable (every connection is dropped).
/// </summary>
public sealed class ComfyUiStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly object _gate = new();
    private readonly Dictionary<string, StandInComfyPrompt> _prompts = new(StringComparer.Ordinal);
    private readonly List<StandInComfyPrompt> _pending = [];
    private readonly Dictionary<string, JsonObject> _history = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (WebSocket Socket, SemaphoreSlim Send)> _sockets = new(StringComparer.Ordinal);
    private readonly Channel<StandInComfyPrompt> _queue = Channel.CreateUnbounded<StandInComfyPrompt>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<DateTimeOffset> _interrupts = [];
    private readonly List<string> _requests = [];
    private readonly ChangeSignal _changes = new();
    private Task _executor = Task.CompletedTask;
    private ComfyUiFault _nextFault;
    private bool _reachable = true;
    private int _number;

    private ComfyUiStandIn(WebApplication app, string directory, ComfyUiStandInOptions options)
    {
        _app = app;
        _directory = directory;
        Options = options;
        Directory.CreateDirectory(InputDirectory);
        Directory.CreateDirectory(OutputDirectory);
    }

    public ComfyUiStandInOptions Options { get; }

    /// <summary>The base URL to configure as <c>ComfyUI:BaseUrl</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    private string InputDirectory => Path.Combine(_directory, "input");

    private string OutputDirectory => Path.Combine(_directory, "output");

    /// <summary>Every prompt queued, oldest first.</summary>
    public IReadOnlyList<StandInComfyPrompt> Prompts
    {
        get
        {
            lock (_gate)
            {
                return _prompts.Values.OrderBy(p => p.Number).ToArray();
            }
        }
    }

    /// <summary>When each <c>POST /interrupt</c> arrived.</summary>
    public IReadOnlyList<DateTimeOffset> Interrupts
    {
        get
        {
            lock (_gate)
            {
                return [.. _interrupts];
            }
        }
    }

    /// <summary>"METHOD path" of every request, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<ComfyUiStandIn> StartAsync(ComfyUiStandInOptions? options = null, CancellationToken cancellationToken = default)
    {
        var directory = Path.Combine(Path.GetTempPath(), "videogen-comfyui-standin", Guid.NewGuid().ToString("N")[..12]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new ComfyUiStandIn(app, directory, options ?? new ComfyUiStandInOptions());
        standIn.Map(app);
        await app.StartAsync(cancellationToken);
        standIn.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        standIn._executor = Task.Run(() => standIn.ExecuteQueueAsync(standIn._stopping.Token));
        return standIn;
    }

    /// <summary>The next execution ends with <paramref name="fault"/>.</summary>
    public void FailNextExecution(ComfyUiFault fault)
    {
        lock (_gate)
        {
            _nextFault = fault;
        }
    }

    /// <summary>While false, every connection is dropped at once (the server is down), WebSockets included.</summary>
    public void SetReachable(bool reachable)
    {
        lock (_gate)
        {
            _reachable = reachable;
        }

        if (!reachable)
        {
            foreach (var (_, (socket, _)) in _sockets)
            {
                socket.Abort();
            }
        }

        Changed();
    }

    /// <summary>Waits (on the stand-in's own change signal, no polling) until <paramref name="condition"/> holds.</summary>
    public Task WaitUntilAsync(Func<ComfyUiStandIn, bool> condition, TimeSpan timeout, string what) =>
        _changes.WaitUntilAsync(() => condition(this), timeout, () => $"ComfyUI stand-in: {what} did not happen within {timeout.TotalSeconds} s; requests: {string.Join(", ", Requests.TakeLast(30))}");

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var p in Prompts)
        {
            await p.Interrupt.CancelAsync();
        }

        try
        {
            await _executor.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
            // stopping
        }

        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Changed() => _changes.Notify();

    private void Map(WebApplication app)
    {
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            bool reachable;
            lock (_gate)
            {
                reachable = _reachable;
                _requests.Add($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            }

            if (!reachable)
            {
                context.Abort();
                return;
            }

            await next(context);
            Changed();
        });

        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            var clientId = context.Request.Query["clientId"].FirstOrDefault() ?? Guid.NewGuid().ToString("N");
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var entry = (socket, new SemaphoreSlim(1, 1));
            _sockets[clientId] = entry; // a reconnect with the same client id replaces the old socket, as ComfyUI does
            await SendAsync(clientId, "status", new JsonObject { ["status"] = StatusObject(), ["sid"] = clientId });
            var buffer = new byte[1024];
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var result = await socket.ReceiveAsync(buffer, _stopping.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
            finally
            {
                _sockets.TryRemove(new KeyValuePair<string, (WebSocket, SemaphoreSlim)>(clientId, entry));
            }
        });

        app.MapGet("/system_stats", () => Results.Json(new JsonObject
        {
            ["system"] = new JsonObject { ["os"] = "posix", ["comfyui_version"] = "0.3.43-standin", ["python_version"] = "3.12.3", ["pytorch_version"] = "2.7.1+cu128", ["embedded_python"] = false, ["argv"] = new JsonArray("main.py") },
            ["devices"] = new JsonArray(new JsonObject
            {
                ["name"] = Options.GpuName,
                ["type"] = "cuda",
                ["index"] = 0,
                ["vram_total"] = Options.VramTotalBytes,
                ["vram_free"] = Options.VramFreeBytes,
                ["torch_vram_total"] = Options.VramTotalBytes,
                ["torch_vram_free"] = Options.VramFreeBytes,
            }),
        }));

        app.MapPost("/upload/image", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            var file = form.Files["image"];
            if (file is null)
            {
                return Results.BadRequest();
            }

            var name = Path.GetFileName(file.FileName);
            await using (var stream = File.Create(Path.Combine(InputDirectory, name)))
            {
                await file.CopyToAsync(stream);
            }

            return Results.Json(new JsonObject { ["name"] = name, ["subfolder"] = "", ["type"] = form["type"].FirstOrDefault() ?? "input" });
        });

        app.MapPost("/prompt", async (HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body) as JsonObject;
            if (body?["prompt"] is not JsonObject prompt)
            {
                return Results.Json(new JsonObject { ["error"] = new JsonObject { ["type"] = "no_prompt", ["message"] = "No prompt provided", ["details"] = "", ["extra_info"] = new JsonObject() }, ["node_errors"] = new JsonObject() }, statusCode: 400);
            }

            if (Validate(prompt) is { } invalid)
            {
                return Results.Json(invalid, statusCode: 400);
            }

            var extra = body["extra_data"] as JsonObject ?? [];
            var clientId = body["client_id"]?.GetValue<string>() ?? "";
            extra["client_id"] = clientId;
            StandInComfyPrompt queued;
            lock (_gate)
            {
                queued = new StandInComfyPrompt
                {
                    PromptId = Guid.NewGuid().ToString(),
                    Number = _number++,
                    ClientId = clientId,
                    Prompt = (JsonObject)prompt.DeepClone(),
                    ExtraData = (JsonObject)extra.DeepClone(),
                    QueuedAt = DateTimeOffset.UtcNow,
                    Fault = _nextFault,
                };
                _nextFault = ComfyUiFault.None;
                _prompts[queued.PromptId] = queued;
                _pending.Add(queued);
            }

            _queue.Writer.TryWrite(queued);
            return Results.Json(new JsonObject { ["prompt_id"] = queued.PromptId, ["number"] = queued.Number, ["node_errors"] = new JsonObject() });
        });

        app.MapGet("/queue", () =>
        {
            lock (_gate)
            {
                var running = _prompts.Values.Where(p => p.Status == "running").Select(Item);
                var pending = _pending.Where(p => p.Status == "pending").Select(Item);
                return Results.Json(new JsonObject { ["queue_running"] = new JsonArray([.. running]), ["queue_pending"] = new JsonArray([.. pending]) });
            }
        });

        app.MapPost("/queue", async (HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            lock (_gate)
            {
                foreach (var id in (body?["delete"] as JsonArray ?? []).Select(n => n?.GetValue<string>()))
                {
                    if (id is not null && _prompts.TryGetValue(id, out var p) && p.Status == "pending")
                    {
                        p.Status = "deleted";
                        _pending.Remove(p);
                    }
                }

                if (body?["clear"]?.GetValue<bool>() == true)
                {
                    foreach (var p in _pending)
                    {
                        p.Status = "deleted";
                    }

                    _pending.Clear();
                }
            }

            return Results.Ok();
        });

        app.MapPost("/interrupt", async (HttpRequest request) =>
        {
            var body = request.ContentLength is > 0 ? await JsonNode.ParseAsync(request.Body) : null;
            var target = body?["prompt_id"]?.GetValue<string>();
            StandInComfyPrompt? running;
            lock (_gate)
            {
                _interrupts.Add(DateTimeOffset.UtcNow);
                running = _prompts.Values.FirstOrDefault(p => p.Status == "running" && (target is null || p.PromptId == target));
            }

            if (running is not null)
            {
                await running.Interrupt.CancelAsync();
            }

            return Results.Ok();
        });

        app.MapGet("/history", (int? max_items) =>
        {
            lock (_gate)
            {
                var entries = _prompts.Values.Where(p => _history.ContainsKey(p.PromptId)).OrderBy(p => p.Number).ToList();
                if (max_items is > 0)
                {
                    entries = entries.TakeLast(max_items.Value).ToList();
                }

                var result = new JsonObject();
                foreach (var p in entries)
                {
                    result[p.PromptId] = _history[p.PromptId].DeepClone();
                }

                return Results.Json(result);
            }
        });

        app.MapGet("/history/{id}", (string id) =>
        {
            lock (_gate)
            {
                return Results.Json(_history.TryGetValue(id, out var h) ? new JsonObject { [id] = h.DeepClone() } : new JsonObject());
            }
        });

        app.MapGet("/view", (string filename, string? subfolder, string? type) =>
        {
            var root = type == "input" ? InputDirectory : OutputDirectory;
            var path = Path.GetFullPath(Path.Combine(root, subfolder ?? "", Path.GetFileName(filename)));
            return path.StartsWith(root, StringComparison.Ordinal) && File.Exists(path)
                ? Results.File(path, filename.EndsWith(".mp4", StringComparison.Ordinal) ? "video/mp4" : "image/png")
                : Results.NotFound();
        });
    }

    private static JsonArray Item(StandInComfyPrompt p) =>
        new(p.Number, p.PromptId, p.Prompt.DeepClone(), p.ExtraData.DeepClone(), new JsonArray());

    private JsonObject StatusObject()
    {
        lock (_gate)
        {
            var remaining = _prompts.Values.Count(p => p.Status is "pending" or "running");
            return new JsonObject { ["exec_info"] = new JsonObject { ["queue_remaining"] = remaining } };
        }
    }

    /// <summary>ComfyUI's validation answers: an unknown node type, a model file not in its folders.</summary>
    private JsonObject? Validate(JsonObject prompt)
    {
        foreach (var (id, node) in prompt)
        {
            var type = node?["class_type"]?.GetValue<string>() ?? "";
            if (Options.NodeTypes is { } known && !known.Contains(type))
            {
                return new JsonObject
                {
                    ["error"] = new JsonObject { ["type"] = "invalid_prompt", ["message"] = $"Cannot execute because node {type} does not exist.", ["details"] = $"Node ID '#{id}'", ["extra_info"] = new JsonObject() },
                    ["node_errors"] = new JsonObject(),
                };
            }
        }

        foreach (var (id, node) in prompt)
        {
            foreach (var (input, value) in node?["inputs"] as JsonObject ?? [])
            {
                if (input.EndsWith("_name", StringComparison.Ordinal) && value is JsonValue v && v.TryGetValue<string>(out var file) && Options.MissingModelFiles.Contains(file))
                {
                    return new JsonObject
                    {
                        ["error"] = new JsonObject { ["type"] = "prompt_outputs_failed_validation", ["message"] = "Prompt outputs failed validation", ["details"] = "", ["extra_info"] = new JsonObject() },
                        ["node_errors"] = new JsonObject
                        {
                            [id] = new JsonObject
                            {
                                ["errors"] = new JsonArray(new JsonObject { ["type"] = "value_not_in_list", ["message"] = "Value not in list", ["details"] = $"{input}: '{file}' not in []", ["extra_info"] = new JsonObject() }),
                                ["dependent_outputs"] = new JsonArray(),
                                ["class_type"] = node!["class_type"]!.GetValue<string>(),
                            },
                        },
                    };
                }
            }
        }

        return null;
    }

    private async Task ExecuteQueueAsync(CancellationToken stopping)
    {
        await foreach (var prompt in _queue.Reader.ReadAllAsync(stopping))
        {
            lock (_gate)
            {
                if (prompt.Status != "pending")
                {
                    continue; // deleted from the queue
                }

                _pending.Remove(prompt);
                prompt.Status = "running";
                prompt.StartedAt = DateTimeOffset.UtcNow;
            }

            Changed();
            var messages = new JsonArray();
            async Task Emit(string type, JsonObject data)
            {
                messages.Add(new JsonArray(type, data.DeepClone()));
                await SendAsync(prompt.ClientId, type, data);
            }

            string status;
            JsonObject outputs = [];
            string? node = null;
            try
            {
                await Emit("execution_start", new JsonObject { ["prompt_id"] = prompt.PromptId, ["timestamp"] = Now() });
                await Emit("execution_cached", new JsonObject { ["nodes"] = new JsonArray(), ["prompt_id"] = prompt.PromptId, ["timestamp"] = Now() });
                using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping, prompt.Interrupt.Token);
                foreach (var (id, n) in prompt.Prompt)
                {
                    node = id;
                    await SendAsync(prompt.ClientId, "executing", new JsonObject { ["node"] = id, ["display_node"] = id, ["prompt_id"] = prompt.PromptId });
                    var inputs = n?["inputs"] as JsonObject ?? [];
                    if (inputs["steps"] is JsonValue stepsValue)
                    {
                        var steps = (int)stepsValue.GetValue<double>();
                        for (var i = 1; i <= steps; i++)
                        {
                            await Task.Delay(Options.StepDelay, run.Token);
                            if (prompt.Fault == ComfyUiFault.OutOfMemory)
                            {
                                throw new OutOfMemoryStandInException(id, n!["class_type"]!.GetValue<string>());
                            }

                            prompt.StepsDone = i;
                            await SendAsync(prompt.ClientId, "progress", new JsonObject { ["value"] = i, ["max"] = steps, ["prompt_id"] = prompt.PromptId, ["node"] = id });
                            Changed();
                        }
                    }

                    if (inputs.ContainsKey("filename_prefix"))
                    {
                        var output = await RenderAsync(prompt, inputs, run.Token);
                        outputs[id] = output;
                        await SendAsync(prompt.ClientId, "executed", new JsonObject { ["node"] = id, ["display_node"] = id, ["output"] = output.DeepClone(), ["prompt_id"] = prompt.PromptId });
                    }
                }

                await Emit("execution_success", new JsonObject { ["prompt_id"] = prompt.PromptId, ["timestamp"] = Now() });
                status = "success";
            }
            catch (OutOfMemoryStandInException oom)
            {
                await Emit("execution_error", new JsonObject
                {
                    ["prompt_id"] = prompt.PromptId,
                    ["node_id"] = oom.NodeId,
                    ["node_type"] = oom.NodeType,
                    ["executed"] = new JsonArray(),
                    ["exception_message"] = "Allocation on device 0 would exceed allowed memory. (out of memory)\nCurrently allocated     : 21.83 GiB\nRequested               : 1.27 GiB",
                    ["exception_type"] = "torch.OutOfMemoryError",
                    ["traceback"] = new JsonArray("  File \"execution.py\", line 349, in execute\n"),
                    ["current_inputs"] = new JsonObject(),
                    ["current_outputs"] = new JsonObject(),
                    ["timestamp"] = Now(),
                });
                status = "error";
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                await Emit("execution_interrupted", new JsonObject { ["prompt_id"] = prompt.PromptId, ["node_id"] = node, ["node_type"] = prompt.Prompt[node!]?["class_type"]?.GetValue<string>(), ["executed"] = new JsonArray(), ["timestamp"] = Now() });
                status = "interrupted";
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_gate)
            {
                prompt.Status = status;
                prompt.EndedAt = DateTimeOffset.UtcNow;
                _history[prompt.PromptId] = new JsonObject
                {
                    ["prompt"] = Item(prompt),
                    ["outputs"] = outputs,
                    ["status"] = new JsonObject { ["status_str"] = status == "success" ? "success" : "error", ["completed"] = status == "success", ["messages"] = messages },
                    ["meta"] = new JsonObject(),
                };
            }

            await SendAsync(prompt.ClientId, "executing", new JsonObject { ["node"] = null, ["prompt_id"] = prompt.PromptId });
            await SendAsync(prompt.ClientId, "status", new JsonObject { ["status"] = StatusObject() });
            Changed();
        }
    }

    /// <summary>The output node's clip: the workflow's frames at its fps and size, made from the uploaded start image with FFmpeg.</summary>
    private async Task<JsonObject> RenderAsync(StandInComfyPrompt prompt, JsonObject outputInputs, CancellationToken cancellationToken)
    {
        int Find(string name, int fallback) => prompt.Prompt.Select(n => n.Value?["inputs"]?[name]).OfType<JsonValue>()
            .Select(v => v.TryGetValue<double>(out var d) ? (int)d : (int?)null).FirstOrDefault(v => v is not null) ?? fallback;
        var (frames, fps, width, height) = (Find("length", 81), Find("fps", 16), Find("width", 832), Find("height", 480));
        var image = prompt.Prompt.Where(n => n.Value?["class_type"]?.GetValue<string>() == "LoadImage")
            .Select(n => n.Value?["inputs"]?["image"]?.GetValue<string>()).FirstOrDefault(n => n is not null);
        var prefix = outputInputs["filename_prefix"]?.GetValue<string>() ?? "ComfyUI";
        var subfolder = Path.GetDirectoryName(prefix) ?? "";
        var name = $"{Path.GetFileName(prefix)}_{prompt.Number:D5}_.mp4";
        Directory.CreateDirectory(Path.Combine(OutputDirectory, subfolder));
        var path = Path.Combine(OutputDirectory, subfolder, name);
        var scale = string.Create(CultureInfo.InvariantCulture, $"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},hue=h=t*30,format=yuv420p");
        var input = image is not null && File.Exists(Path.Combine(InputDirectory, image))
            ? new[] { "-loop", "1", "-framerate", fps.ToString(CultureInfo.InvariantCulture), "-i", Path.Combine(InputDirectory, image) }
            : ["-f", "lavfi", "-i", string.Create(CultureInfo.InvariantCulture, $"testsrc2=size={width}x{height}:rate={fps}")];
        await Ffmpeg(cancellationToken, [.. input, "-frames:v", frames.ToString(CultureInfo.InvariantCulture), "-vf", scale, "-r", fps.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path]);
        return new JsonObject
        {
            ["images"] = new JsonArray(new JsonObject { ["filename"] = name, ["subfolder"] = subfolder, ["type"] = "output" }),
            ["animated"] = new JsonArray(true),
        };
    }

    private async Task SendAsync(string clientId, string type, JsonObject data)
    {
        if (!_sockets.TryGetValue(clientId, out var entry))
        {
            return; // nobody listens for this client id: ComfyUI drops the message too
        }

        var bytes = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["data"] = data.DeepClone() }.ToJsonString());
        await entry.Send.WaitAsync();
        try
        {
            if (entry.Socket.State == WebSocketState.Open)
            {
                await entry.Socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
        }
        finally
        {
            entry.Send.Release();
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task Ffmpeg(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-y" }.Concat(arguments))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg {string.Join(' ', arguments)} failed: {await stderr}");
        }
    }

    private sealed class OutOfMemoryStandInException(string nodeId, string nodeType) : Exception("out of memory")
    {
        public string NodeId { get; } = nodeId;

        public string NodeType { get; } = nodeType;
    }
}
