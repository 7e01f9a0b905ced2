using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VideoGen.TestDoubles;

/// <summary>
/// One POST the receiver got (its webhook-id, webhook-timestamp, webhook-signature and body), whether the signature held
/// "v1," + base64 HMAC-SHA256(key, "id.timestamp.body") (Standard Webhooks), the status answered, when, and which attempt of
/// that id it was (from 1).
/// </summary>
public sealed record WebhookCall(string Id, long Timestamp, string Signature, string Body, bool SignatureValid, int Answered, DateTimeOffset ReceivedAt, int AttemptOfId);

/// <summary>
/// A webhook endpoint as a customer would run one: Kestrel on 127.0.0.1 and a free port, verifying every request's Standard
/// Webhooks signature with the shared secret (its own HMAC code, independent of the coordinator's) and answering each
/// webhook-id's n-th attempt with a scripted status.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly byte[] _key;
    private readonly Func<string, int, int> _status;
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly List<WebhookCall> _calls = [];
    private readonly List<(Func<IReadOnlyList<WebhookCall>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    private WebhookReceiver(WebApplication app, byte[] key, Func<string, int, int> status)
    {
        _app = app;
        _key = key;
        _status = status;
    }

    /// <summary>The URL to give a job (…/hooks/videogen).</summary>
    public string Url { get; private set; } = "";

    public IReadOnlyList<WebhookCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>A fresh secret as the spec writes one: "whsec_" + base64 of 32 random bytes.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Starts a receiver for <paramref name="secret"/>; <paramref name="status"/>(webhook-id, attempt from 1) is the answer.</summary>
    public static async Task<WebhookReceiver> StartAsync(string secret, Func<string, int, int> status)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, Convert.FromBase64String(secret["whsec_".Length..]), status);
        app.MapPost("/hooks/videogen", receiver.HandleAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hooks/videogen";
        return receiver;
    }

    /// <summary>Completes when the calls received so far satisfy <paramref name="condition"/>; fails after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<WebhookCall>, bool> condition, TimeSpan timeout, string what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_calls))
            {
                return;
            }

            _waiters.Add((condition, done));
        }

        try
        {
            await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"webhook receiver: {what} not seen within {timeout.TotalSeconds} s; got {Calls.Count} calls: "
                + string.Join(", ", Calls.Select(c => $"{c.Id}#{c.AttemptOfId}={c.Answered}")));
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var id = context.Request.Headers["webhook-id"].ToString();
        var timestampText = context.Request.Headers["webhook-timestamp"].ToString();
        var signature = context.Request.Headers["webhook-signature"].ToString();
        var timestamp = long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : -1;
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{id}.{timestampText}.{body}")));
        var valid = id.Length > 0 && timestamp > 0 && signature.Split(' ').Any(s =>
            CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
        var attempt = _attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
        var status = valid ? _status(id, attempt) : StatusCodes.Status401Unauthorized;
        lock (_gate)
        {
            _calls.Add(new WebhookCall(id, timestamp, signature, body, valid, status, DateTimeOffset.UtcNow, attempt));
            foreach (var waiter in _waiters.ToList())
            {
                if (waiter.Condition(_calls))
                {
                    waiter.Done.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        context.Response.StatusCode = status;
    }

    public async ValueTask DisposeAsync()
    {
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(bounded.Token);
        await _app.DisposeAsync();
    }
}
