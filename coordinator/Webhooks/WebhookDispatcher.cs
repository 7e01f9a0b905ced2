using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Persistence;

namespace VideoGen.Coordinator.Webhooks;

/// <summary>
/// Sends the outbox's due callbacks: POST of the stored JSON body with the Standard Webhooks headers (the same webhook-id on
/// every attempt, a fresh timestamp and signature). A 2xx answer delivers it; anything else (another status, a timeout, a
/// refused connection) schedules a retry with exponential backoff (<see cref="WebhookOptions.InitialBackoffSeconds"/> doubling
/// up to <see cref="WebhookOptions.MaxBackoffSeconds"/>, ±10 % jitter) until <see cref="WebhookOptions.GiveUpAfterHours"/> after
/// the event. Every attempt is recorded in the store, so a restarted coordinator carries on where the last one stopped.
/// Redirects are not followed (they could lead outside the allowed hosts).
/// </summary>
public sealed partial class WebhookDispatcher : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private readonly IJobStore _store;
    private readonly WebhookPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _log;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    // Attempts recorded lately (id → attempts, when): a poll that read a row before its attempt was recorded must not
    // send it again at once.
    private readonly ConcurrentDictionary<string, (int Attempts, long AtMs)> _recorded = new(StringComparer.Ordinal);
    private readonly int _concurrency;

    private readonly Leadership.Leadership? _leadership;

    public WebhookDispatcher(IJobStore store, WebhookPolicy policy, JobEventHub hub, TimeProvider time, ILogger<WebhookDispatcher> log, Leadership.Leadership? leadership = null)
    {
        _leadership = leadership;
        _store = store;
        _policy = policy;
        _time = time;
        _log = log;
        _concurrency = Math.Max(1, policy.Options.Concurrency);
        _slots = new SemaphoreSlim(_concurrency);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = TimeSpan.FromSeconds(Math.Max(0.1, policy.Options.TimeoutSeconds)),
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("VideoGen-Webhooks/1");
        // New events may owe callbacks: look at once instead of at the next poll.
        hub.Published += _ => Wake();
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Only the leader delivers (a standby would deliver the same outbox rows a second time).
        await (_leadership?.Leading ?? Task.CompletedTask).WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (var (id, recorded) in _recorded)
                {
                    if (recorded.AtMs < nowMs - 60_000)
                    {
                        _recorded.TryRemove(id, out _);
                    }
                }

                foreach (var delivery in _store.DueWebhooks(nowMs, 256))
                {
                    if (!_inFlight.TryAdd(delivery.Id, 0))
                    {
                        continue; // its attempt is still running
                    }

                    if (_recorded.TryGetValue(delivery.Id, out var seen) && seen.Attempts > delivery.Attempts)
                    {
                        _inFlight.TryRemove(delivery.Id, out _);
                        continue; // read before its last attempt was recorded
                    }

                    await _slots.WaitAsync(stoppingToken);
                    _ = Task.Run(() => AttemptAsync(delivery, stoppingToken), CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The store is briefly unavailable: try again at the next poll.
                LogPollFailed(_log, ex);
            }

            try
            {
                await _wake.WaitAsync(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // Let the attempts in flight finish (their requests are cancelled with the host): take back every slot.
        for (var i = 0; i < _concurrency; i++)
        {
            if (!await _slots.WaitAsync(TimeSpan.FromSeconds(15)))
            {
                break;
            }
        }
    }

    private async Task AttemptAsync(WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        try
        {
            var attempt = delivery.Attempts + 1;
            var outcome = await SendAsync(delivery, stoppingToken);
            if (outcome is null)
            {
                Record(delivery.Id, attempt, null, "delivered");
                LogDelivered(_log, delivery.Id, delivery.Type, delivery.JobId, attempt);
                return;
            }

            if (stoppingToken.IsCancellationRequested)
            {
                return; // shutting down mid-attempt: the next coordinator makes it again
            }

            var now = _time.GetUtcNow();
            var next = now + Backoff(attempt);
            var giveUpAt = DateTimeOffset.FromUnixTimeMilliseconds(delivery.CreatedAtMs).AddHours(_policy.Options.GiveUpAfterHours);
            if (next > giveUpAt || outcome.StartsWith("refused", StringComparison.Ordinal))
            {
                Record(delivery.Id, attempt, null, "gave up: " + outcome);
                LogGaveUp(_log, delivery.Id, delivery.JobId, attempt, outcome);
                return;
            }

            Record(delivery.Id, attempt, next.ToUnixTimeMilliseconds(), outcome);
            LogRetry(_log, delivery.Id, delivery.JobId, attempt, outcome, next);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAttemptFailed(_log, delivery.Id, ex);
        }
        finally
        {
            _inFlight.TryRemove(delivery.Id, out _);
            _slots.Release();
        }
    }

    private void Record(string id, int attempt, long? nextAttemptAtMs, string outcome)
    {
        _store.RecordWebhookAttempt(id, attempt, nextAttemptAtMs, outcome);
        _recorded[id] = (attempt, _time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>One POST; null when delivered, else what went wrong ("500", "timeout", "refused: …").</summary>
    private async Task<string?> SendAsync(WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        if (!_policy.Allows(delivery.Url, out var reason))
        {
            return "refused: the URL " + reason;
        }

        if (_policy.KeyFor(delivery.Tenant) is not { } key)
        {
            return "refused: no signing secret for tenant " + delivery.Tenant;
        }

        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.Id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSigner.Sign(key, delivery.Id, timestamp, delivery.Body));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stoppingToken);
            return response.IsSuccessStatusCode ? null : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (TaskCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return "timeout";
        }
        catch (HttpRequestException ex)
        {
            return "error: " + ex.Message;
        }
    }

    /// <summary>Delay after the <paramref name="attempt"/>-th failed attempt: initial × 2^(attempt-1), capped, ±10 % jitter.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var o = _policy.Options;
        var seconds = Math.Min(o.MaxBackoffSeconds, o.InitialBackoffSeconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromSeconds(seconds * (0.9 + (0.2 * Random.Shared.NextDouble())));
    }

    public override void Dispose()
    {
        base.Dispose();
        _http.Dispose();
        _slots.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(1, LogLevel.Information, "webhook {Id} ({Type}) of job {JobId} delivered on attempt {Attempt}")]
    private static partial void LogDelivered(ILogger logger, string id, string type, string jobId, int attempt);

    [LoggerMessage(2, LogLevel.Warning, "webhook {Id} of job {JobId}: attempt {Attempt} answered {Outcome}; next attempt at {Next:o}")]
    private static partial void LogRetry(ILogger logger, string id, string jobId, int attempt, string outcome, DateTimeOffset next);

    [LoggerMessage(3, LogLevel.Error, "webhook {Id} of job {JobId} given up after {Attempt} attempts: {Outcome}")]
    private static partial void LogGaveUp(ILogger logger, string id, string jobId, int attempt, string outcome);

    [LoggerMessage(4, LogLevel.Warning, "webhook outbox poll failed")]
    private static partial void LogPollFailed(ILogger logger, Exception ex);

    [LoggerMessage(5, LogLevel.Error, "webhook {Id}: recording the attempt failed")]
    private static partial void LogAttemptFailed(ILogger logger, string id, Exception ex);
}

public static class WebhookRegistration
{
    /// <summary>Coordinator:Webhooks options, the URL policy and the outbox dispatcher.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section)
            .Validate(o => o.InitialBackoffSeconds > 0 && o.MaxBackoffSeconds >= o.InitialBackoffSeconds && o.GiveUpAfterHours > 0 && o.TimeoutSeconds > 0 && o.Concurrency > 0,
                "Coordinator:Webhooks: InitialBackoffSeconds > 0, MaxBackoffSeconds >= InitialBackoffSeconds, GiveUpAfterHours > 0, TimeoutSeconds > 0, Concurrency > 0")
            .Validate(o => o.AllowedNetworks.All(n => string.IsNullOrWhiteSpace(n) || System.Net.IPNetwork.TryParse(n.Trim(), out _)),
                "Coordinator:Webhooks:AllowedNetworks: every entry must be a CIDR range, e.g. 203.0.113.0/24")
            .Validate(o => (o.Secret.Length == 0 || WebhookSigner.Key(o.Secret) is not null) && o.TenantSecrets.Values.All(s => WebhookSigner.Key(s) is not null),
                "Coordinator:Webhooks:Secret / TenantSecrets: each secret must be \"whsec_\" + base64 of 24 to 64 random bytes")
            .ValidateOnStart();
        services.AddSingleton<WebhookPolicy>();
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}
