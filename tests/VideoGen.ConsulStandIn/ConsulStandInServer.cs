using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VideoGen.ConsulStandIn;

/// <summary>
/// The stand-in's HTTP server on 127.0.0.1: Consul's agent and health endpoints over a <see cref="ConsulStandInState"/>,
/// plus <c>/_standin/*</c> controls for tests (force a check's status, read the requests received).
/// </summary>
public sealed class ConsulStandInServer : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    private readonly WebApplication _app;

    private ConsulStandInServer(WebApplication app, ConsulStandInState state)
    {
        _app = app;
        State = state;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(address);
    }

    public ConsulStandInState State { get; }

    /// <summary>E.g. <c>http://127.0.0.1:8500/</c>.</summary>
    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>
    /// Starts a server on 127.0.0.1:<paramref name="port"/> (0: a free port) over <paramref name="state"/> (a new one when
    /// null). With <paramref name="token"/> set, every Consul request must carry it in <c>X-Consul-Token</c> (as with ACLs on), else 403.
    /// </summary>
    public static async Task<ConsulStandInServer> StartAsync(ConsulStandInState? state = null, int port = 0, string? token = null, CancellationToken cancellationToken = default)
    {
        state ??= new ConsulStandInState();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        Map(app, state, token);
        await app.StartAsync(cancellationToken);
        return new ConsulStandInServer(app, state);
    }

    /// <summary>Stops serving (pending blocking queries are cut off, as when the agent goes away); the state lives on.</summary>
    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }

    private static void Map(WebApplication app, ConsulStandInState state, string? token)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            request.EnableBuffering();
            var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
            request.Body.Position = 0;
            var sent = request.Headers["X-Consul-Token"].FirstOrDefault();
            var recorded = new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", body, sent);

            // Reads (blocking queries) are recorded when they arrive, so a test can wait for a query to be pending;
            // writes once applied, so a test that waited for a register/pass/deregister sees its effect.
            var isWrite = !HttpMethods.IsGet(request.Method);
            if (!isWrite)
            {
                state.Record(recorded);
            }

            try
            {
                if (token is not null && !request.Path.StartsWithSegments("/_standin") && sent != token)
                {
                    context.Response.StatusCode = 403;
                    await context.Response.WriteAsync("ACL not found", context.RequestAborted);
                    return;
                }

                await next(context);
            }
            catch (ConsulError error)
            {
                context.Response.StatusCode = error.Status;
                await context.Response.WriteAsync(error.Message, context.RequestAborted);
            }
            finally
            {
                if (isWrite)
                {
                    state.Record(recorded);
                }
            }
        });

        app.MapPut("/v1/agent/service/register", async (HttpRequest request) =>
        {
            var node = await JsonNode.ParseAsync(request.Body) as JsonObject ?? throw new ConsulError(400, "Request decode failed: expected an object");
            state.Register(node);
            return Results.Ok();
        });
        app.MapPut("/v1/agent/service/deregister/{id}", (string id) =>
        {
            state.Deregister(id);
            return Results.Ok();
        });
        foreach (var (verb, status) in new[] { ("pass", "passing"), ("warn", "warning"), ("fail", "critical") })
        {
            app.MapPut($"/v1/agent/check/{verb}/{{checkId}}", (string checkId, string? note) =>
            {
                state.UpdateTtl(checkId, status, note);
                return Results.Ok();
            });
        }

        app.MapGet("/v1/health/service/{service}", async (HttpContext context, string service) =>
        {
            var query = context.Request.Query;
            if (query["dc"].FirstOrDefault() is { Length: > 0 } dc && dc != ConsulStandInState.Datacenter)
            {
                throw new ConsulError(500, "No path to datacenter");
            }

            // "?passing" (no value) and "?passing=true" both filter; "?passing=false" does not.
            var passing = query.ContainsKey("passing") && query["passing"].FirstOrDefault() is null or "" or "true" or "1";
            if (query["index"].FirstOrDefault() is { Length: > 0 } indexText)
            {
                if (!ulong.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    throw new ConsulError(400, $"Invalid index: {indexText}");
                }

                var wait = query["wait"].FirstOrDefault() is { Length: > 0 } w ? GoDurationParser.Parse(w, "wait") : DefaultWait;
                wait = wait > MaxWait ? MaxWait : wait;
                wait += wait / 16 * Random.Shared.NextDouble(); // Consul's documented jitter
                using var cut = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
                try
                {
                    await state.WaitForChangeAsync(service, index, wait, cut.Token);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    context.Abort(); // the agent went away mid-query
                    return;
                }
            }

            var (entries, newIndex) = state.Health(service, passing);
            context.Response.Headers["X-Consul-Index"] = newIndex.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["X-Consul-KnownLeader"] = "true";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(entries.ToJsonString(), context.RequestAborted);
        });

        // ---- test controls ----
        app.MapPut("/_standin/checks/{checkId}/force", (string checkId, string? status) =>
        {
            status ??= "critical";
            if (status is not ("passing" or "warning" or "critical"))
            {
                throw new ConsulError(400, $"status must be passing, warning or critical, got {status}");
            }

            state.Force(checkId, status);
            return Results.Ok();
        });
        app.MapDelete("/_standin/checks/{checkId}/force", (string checkId) =>
        {
            state.Unforce(checkId);
            return Results.Ok();
        });
        app.MapGet("/_standin/requests", () => Results.Json(state.Requests));
        app.MapGet("/_standin/services", () => Results.Json(state.ServiceIds));
    }
}
