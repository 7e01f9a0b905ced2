using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VideoGen.TestDoubles;

/// <summary>One request the OpenAI stand-in received.</summary>
public sealed record OpenAiRequest(string Path, JsonNode Body, string Authorization);

/// <summary>
/// A local HTTP server that speaks the OpenAI wire format the farm uses — <c>POST /v1/chat/completions</c>,
/// <c>POST /v1/images/generations</c> and <c>POST /v1/audio/speech</c> (which answers the audio's bytes) — so the real SDK runs unchanged against it: Kestrel on 127.0.0.1 and a free
/// port, one scripted answer per attempt, every request recorded.
/// </summary>
public sealed class OpenAiStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private OpenAiStandIn(WebApplication app) => _app = app;

    /// <summary>The requests received, in order.</summary>
    public ConcurrentQueue<OpenAiRequest> Requests { get; } = new();

    public int Attempts => Requests.Count;

    /// <summary>The base URL to configure the SDK with (ends in /v1).</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Starts a server that answers attempt n (from 1) with <paramref name="respond"/>.</summary>
    public static async Task<OpenAiStandIn> StartAsync(Func<HttpContext, int, CancellationToken, Task> respond)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new OpenAiStandIn(app);
        async Task Handle(HttpContext context)
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var request = new OpenAiRequest(context.Request.Path.Value ?? "", body!, context.Request.Headers.Authorization.ToString());
            context.Items[typeof(OpenAiRequest)] = request;
            server.Requests.Enqueue(request);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server._stopping.Token);
            try
            {
                await respond(context, server.Requests.Count, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                // The client gave up (its timeout) or the test is over: nothing to answer.
            }
        }

        app.MapPost("/v1/chat/completions", Handle);
        app.MapPost("/v1/images/generations", Handle);
        app.MapPost("/v1/audio/speech", Handle);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/') + "/v1";
        return server;
    }

    /// <summary>The request being answered, for a <c>respond</c> callback that answers by what was asked.</summary>
    public static OpenAiRequest RequestOf(HttpContext context) => (OpenAiRequest)context.Items[typeof(OpenAiRequest)]!;

    /// <summary>A <c>chat.completion</c> body whose message carries <paramref name="content"/> or <paramref name="refusal"/>.</summary>
    public static string Completion(string? content, string? refusal = null, string finishReason = "stop") => new JsonObject
    {
        ["id"] = "chatcmpl-test",
        ["object"] = "chat.completion",
        ["created"] = 1_700_000_000,
        ["model"] = "test-model",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content, ["refusal"] = refusal },
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 100, ["completion_tokens"] = 50, ["total_tokens"] = 150 },
    }.ToJsonString();

    /// <summary>The body gpt-image-1 answers with: the PNG as <c>b64_json</c>.</summary>
    public static string Generated(byte[] png) => new JsonObject
    {
        ["created"] = 1_713_833_628,
        ["data"] = new JsonArray(new JsonObject { ["b64_json"] = Convert.ToBase64String(png) }),
        ["usage"] = new JsonObject
        {
            ["total_tokens"] = 100,
            ["input_tokens"] = 50,
            ["output_tokens"] = 50,
            ["input_tokens_details"] = new JsonObject { ["text_tokens"] = 10, ["image_tokens"] = 40 },
        },
    }.ToJsonString();

    /// <summary>An OpenAI error body.</summary>
    public static string Error(string message, string type, string? code = null) =>
        JsonSerializer.Serialize(new { error = new { message, type, param = (string?)null, code } });

    /// <summary>
    /// Answers <c>/v1/audio/speech</c> as the API does: the audio file's bytes (<c>response_format: wav</c> → a WAV whose
    /// sizes are 0xFFFFFFFF placeholders, as OpenAI streams it), here a tone of <paramref name="seconds"/> at 24 kHz mono.
    /// </summary>
    public static async Task WriteSpeechAsync(HttpContext context, double seconds, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "audio/wav";
        await context.Response.Body.WriteAsync(Wav.Tone(seconds, 24_000, channels: 1, frequencyHz: 1800, streamed: true), cancellationToken);
    }

    public static async Task WriteJsonAsync(HttpContext context, int status, string body, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(bounded.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
