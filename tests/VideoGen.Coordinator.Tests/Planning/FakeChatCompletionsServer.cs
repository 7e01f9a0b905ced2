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

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>
/// A local HTTP server that speaks the OpenAI chat-completions wire format: Kestrel on
/// 127.0.0.1 and a free port, one scripted answer per attempt, every request body recorded.
/// </summary>
internal sealed class FakeChatCompletionsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private FakeChatCompletionsServer(WebApplication app) => _app = app;

    /// <summary>The request bodies the server received, in order.</summary>
    public ConcurrentQueue<JsonNode> Requests { get; } = new();

    public int Attempts => Requests.Count;

    /// <summary>The base URL to configure the SDK with (ends in /v1).</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Starts a server that answers attempt n (from 1) with <paramref name="respond"/>.</summary>
    public static async Task<FakeChatCompletionsServer> StartAsync(Func<HttpContext, int, CancellationToken, Task> respond)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeChatCompletionsServer(app);
        app.MapPost("/v1/chat/completions", async context =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            server.Requests.Enqueue(body!);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server._stopping.Token);
            try
            {
                await respond(context, server.Requests.Count, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                // The client gave up (its timeout) or the test is over: nothing to answer.
            }
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/') + "/v1";
        return server;
    }

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

    /// <summary>An OpenAI error body.</summary>
    public static string Error(string message, string type) =>
        JsonSerializer.Serialize(new { error = new { message, type, param = (string?)null, code = (string?)null } });

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
