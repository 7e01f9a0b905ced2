using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoGen.Worker.Models.ComfyUi;

/// <summary>The server refused a workflow (HTTP 400 from <c>POST /prompt</c>): a missing node type, a model file it does not have, a bad value.</summary>
public sealed class ComfyUiRejectedException(string errorType, string message, string details) : Exception(message)
{
    /// <summary>ComfyUI's <c>error.type</c>, e.g. "invalid_prompt", "prompt_outputs_failed_validation".</summary>
    public string ErrorType { get; } = errorType;

    /// <summary>The node errors, flattened to one line.</summary>
    public string Details { get; } = details;
}

/// <summary>The server could not be reached (connection refused or reset, a timeout, a 5xx).</summary>
public sealed class ComfyUiUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A prompt in the server's queue: its id and the <c>extra_data</c> it was queued with.</summary>
public sealed record QueuedPrompt(string PromptId, JsonObject? ExtraData, bool Running);

/// <summary>
/// ComfyUI's documented HTTP and WebSocket API, one call per method: <c>POST /upload/image</c>, <c>POST /prompt</c>,
/// <c>GET /queue</c>, <c>POST /queue</c> (delete), <c>POST /interrupt</c>, <c>GET /history</c>, <c>GET /view</c>,
/// <c>GET /system_stats</c> and <c>/ws?clientId=</c>. Network failures become <see cref="ComfyUiUnreachableException"/>.
/// </summary>
public sealed class ComfyUiClient
{
    /// <summary>The named HttpClient.</summary>
    public const string HttpClientName = "comfyui";

    private readonly HttpClient _http;
    private readonly Uri _baseUrl;

    public ComfyUiClient(HttpClient http, Uri baseUrl)
    {
        _http = http;
        _baseUrl = baseUrl;
    }

    /// <summary>The server's address.</summary>
    public Uri BaseUrl => _baseUrl;

    /// <summary>Uploads <paramref name="path"/> as <paramref name="name"/> into the server's input folder; returns the name <c>LoadImage</c> takes.</summary>
    public async Task<string> UploadImageAsync(string path, string name, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(path, cancellationToken));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "image", name);
        form.Add(new StringContent("true"), "overwrite");
        form.Add(new StringContent("input"), "type");
        var answer = await SendJsonAsync(HttpMethod.Post, "upload/image", form, "upload the start image", cancellationToken);
        var uploaded = answer?["name"]?.GetValue<string>() ?? name;
        var subfolder = answer?["subfolder"]?.GetValue<string>() ?? "";
        return subfolder.Length == 0 ? uploaded : $"{subfolder}/{uploaded}";
    }

    /// <summary>Queues <paramref name="prompt"/>; returns its prompt id. A refused workflow throws <see cref="ComfyUiRejectedException"/>.</summary>
    public async Task<string> QueuePromptAsync(JsonObject prompt, string clientId, JsonObject extraData, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["prompt"] = prompt, ["client_id"] = clientId, ["extra_data"] = extraData };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await SendAsync(HttpMethod.Post, "prompt", content, "queue the workflow", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            var json = TryParse(text);
            var error = json?["error"];
            var type = error?["type"]?.GetValue<string>() ?? "invalid_prompt";
            var message = error?["message"]?.GetValue<string>() ?? text;
            var details = error?["details"]?.GetValue<string>() ?? "";
            if (json?["node_errors"] is JsonObject nodes && nodes.Count > 0)
            {
                details = string.Join("; ", nodes.Select(n =>
                    $"node {n.Key} ({n.Value?["class_type"]}): " + string.Join(", ", (n.Value?["errors"] as JsonArray ?? []).Select(e => $"{e?["message"]} {e?["details"]}".Trim()))));
            }

            throw new ComfyUiRejectedException(type, message, details);
        }

        EnsureSuccess(response, text, "queue the workflow");
        return TryParse(text)?["prompt_id"]?.GetValue<string>()
            ?? throw new ComfyUiUnreachableException($"ComfyUI answered POST /prompt without a prompt_id: {text}");
    }

    /// <summary>The running and pending prompts.</summary>
    public async Task<IReadOnlyList<QueuedPrompt>> GetQueueAsync(CancellationToken cancellationToken)
    {
        var queue = await SendJsonAsync(HttpMethod.Get, "queue", null, "read the queue", cancellationToken);
        return [.. Items(queue?["queue_running"], running: true), .. Items(queue?["queue_pending"], running: false)];

        static IEnumerable<QueuedPrompt> Items(JsonNode? list, bool running) =>
            (list as JsonArray ?? []).OfType<JsonArray>().Where(i => i.Count > 1)
                .Select(i => new QueuedPrompt(i[1]!.GetValue<string>(), i.Count > 3 ? i[3] as JsonObject : null, running));
    }

    /// <summary>The history entry of <paramref name="promptId"/>, or null while it has none (still queued or running).</summary>
    public async Task<JsonObject?> GetHistoryAsync(string promptId, CancellationToken cancellationToken)
    {
        var history = await SendJsonAsync(HttpMethod.Get, $"history/{Uri.EscapeDataString(promptId)}", null, "read the history", cancellationToken);
        return history?[promptId] as JsonObject;
    }

    /// <summary>The <paramref name="maxItems"/> most recent history entries by prompt id.</summary>
    public async Task<JsonObject> GetRecentHistoryAsync(int maxItems, CancellationToken cancellationToken) =>
        await SendJsonAsync(HttpMethod.Get, $"history?max_items={maxItems}", null, "read the history", cancellationToken) as JsonObject ?? [];

    /// <summary>Downloads an output file (<c>GET /view</c>) to <paramref name="path"/>.</summary>
    public async Task DownloadAsync(string filename, string subfolder, string type, string path, CancellationToken cancellationToken)
    {
        var query = $"view?filename={Uri.EscapeDataString(filename)}&subfolder={Uri.EscapeDataString(subfolder)}&type={Uri.EscapeDataString(type)}";
        using var response = await SendAsync(HttpMethod.Get, query, null, "download the clip", cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            EnsureSuccess(response, await response.Content.ReadAsStringAsync(cancellationToken), "download the clip");
        }

        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file, cancellationToken);
    }

    /// <summary>Stops <paramref name="promptId"/> if it is executing (<c>POST /interrupt</c>) and removes it from the queue if it waits (<c>POST /queue</c>).</summary>
    public async Task CancelAsync(string promptId, CancellationToken cancellationToken)
    {
        var interrupt = JsonContent.Create(new JsonObject { ["prompt_id"] = promptId });
        var delete = JsonContent.Create(new JsonObject { ["delete"] = new JsonArray(promptId) });
        await Task.WhenAll(
            SendJsonAsync(HttpMethod.Post, "interrupt", interrupt, "interrupt the prompt", cancellationToken),
            SendJsonAsync(HttpMethod.Post, "queue", delete, "remove the prompt from the queue", cancellationToken));
    }

    /// <summary>The server's devices (<c>GET /system_stats</c>) and its start time when it reports one (to tell a restart).</summary>
    public async Task<(IReadOnlyList<GpuMemory> Gpus, string Identity)> GetSystemStatsAsync(CancellationToken cancellationToken)
    {
        var stats = await SendJsonAsync(HttpMethod.Get, "system_stats", null, "read system_stats", cancellationToken);
        var gpus = (stats?["devices"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(d => (d["type"]?.GetValue<string>() ?? "cuda") != "cpu")
            .Select(d => new GpuMemory(
                d["name"]?.GetValue<string>() ?? "gpu",
                d["index"]?.GetValue<int>() ?? 0,
                d["vram_total"]?.GetValue<long>() ?? 0,
                d["vram_free"]?.GetValue<long>() ?? 0))
            .ToList();
        var system = stats?["system"];
        var identity = $"{system?["comfyui_version"]}|{system?["python_version"]}|{system?["pid"]}";
        return (gpus, identity);
    }

    /// <summary>Opens <c>/ws?clientId=</c>: the server sends the executions of prompts queued with this client id to it.</summary>
    public async Task<ClientWebSocket> ConnectAsync(string clientId, CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(new Uri(_baseUrl, $"ws?clientId={Uri.EscapeDataString(clientId)}"));
        builder.Scheme = builder.Scheme == "https" ? "wss" : "ws";
        var socket = new ClientWebSocket();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_http.Timeout);
            await socket.ConnectAsync(builder.Uri, timeout.Token);
            return socket;
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            socket.Dispose();
            throw new ComfyUiUnreachableException($"ComfyUI at {_baseUrl} did not open its WebSocket: {ex.Message}", ex);
        }
    }

    /// <summary>The next JSON message of <paramref name="socket"/> (binary preview frames are skipped); null when it closed.</summary>
    public static async Task<JsonObject?> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }

            if (result.MessageType == WebSocketMessageType.Text && TryParse(Encoding.UTF8.GetString(message.ToArray())) is JsonObject json)
            {
                return json;
            }

            message.SetLength(0);
        }
    }

    private async Task<JsonNode?> SendJsonAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, content, what, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        EnsureSuccess(response, text, what);
        return TryParse(text);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, new Uri(_baseUrl, path)) { Content = content };
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ComfyUiUnreachableException($"ComfyUI at {_baseUrl} could not {what}: {ex.Message}", ex);
        }
    }

    private void EnsureSuccess(HttpResponseMessage response, string text, string what)
    {
        if ((int)response.StatusCode >= 500)
        {
            throw new ComfyUiUnreachableException($"ComfyUI at {_baseUrl} could not {what}: HTTP {(int)response.StatusCode} {Shorten(text)}");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"ComfyUI at {_baseUrl} refused to {what}: HTTP {(int)response.StatusCode} {Shorten(text)}");
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300];

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
