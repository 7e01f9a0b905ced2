using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoGen.Consul;

/// <summary>Consul answered with an error status (not a transport failure).</summary>
public sealed class ConsulException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// A small typed client of Consul's HTTP API (the documented subset VideoGen needs): agent service register and
/// deregister, TTL check updates, and blocking health queries. Transport failures surface as
/// <see cref="HttpRequestException"/> (or <see cref="TaskCanceledException"/> on a request timeout); error
/// statuses as <see cref="ConsulException"/>.
/// </summary>
public sealed class ConsulClient : IConsulClient, IDisposable
{
    /// <summary>Consul adds up to wait/16 of jitter to a blocking query; allow that plus the round trip.</summary>
    private static readonly TimeSpan QueryGrace = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = null, // Consul's JSON is PascalCase, as the records are named
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string _datacenter;

    /// <summary>A client of the agent at <see cref="ConsulOptions.ResolveAddress"/>, with its own <see cref="HttpClient"/>.</summary>
    public ConsulClient(ConsulOptions options)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttp: true)
    {
    }

    /// <summary>A client over <paramref name="http"/> (its timeout should be infinite: blocking queries bound themselves).</summary>
    public ConsulClient(HttpClient http, ConsulOptions options, bool ownsHttp = false)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        _http.BaseAddress ??= options.ResolveAddress();
        _datacenter = options.Datacenter;
        var token = options.ResolveToken();
        if (token.Length > 0)
        {
            _http.DefaultRequestHeaders.Remove("X-Consul-Token");
            _http.DefaultRequestHeaders.Add("X-Consul-Token", token);
        }
    }

    /// <summary>The agent's address.</summary>
    public Uri Address => _http.BaseAddress!;

    /// <summary><c>PUT /v1/agent/service/register</c>: registers (or replaces) a service on the local agent.</summary>
    public async Task RegisterServiceAsync(ServiceRegistration registration, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(WriteTimeout, cancellationToken);
        using var response = await _http.PutAsJsonAsync("v1/agent/service/register", registration, Json, timeout.Token);
        await EnsureSuccessAsync(response, timeout.Token);
    }

    /// <summary><c>PUT /v1/agent/service/deregister/{id}</c>; false when the agent did not know the service.</summary>
    public async Task<bool> DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(WriteTimeout, cancellationToken);
        using var response = await _http.PutAsync($"v1/agent/service/deregister/{Uri.EscapeDataString(serviceId)}", content: null, timeout.Token);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, timeout.Token);
        return true;
    }

    /// <summary>
    /// <c>PUT /v1/agent/check/{pass|warn|fail}/{checkId}?note=</c>: sets a TTL check's status and resets its TTL.
    /// False when the agent does not know the check (it was deregistered, or the agent restarted): register again.
    /// </summary>
    public async Task<bool> UpdateTtlAsync(string checkId, CheckStatus status, string? note, CancellationToken cancellationToken)
    {
        var verb = status switch
        {
            CheckStatus.Passing => "pass",
            CheckStatus.Warning => "warn",
            _ => "fail",
        };
        var path = $"v1/agent/check/{verb}/{Uri.EscapeDataString(checkId)}";
        if (!string.IsNullOrEmpty(note))
        {
            path += "?note=" + Uri.EscapeDataString(note);
        }

        using var timeout = Bounded(WriteTimeout, cancellationToken);
        using var response = await _http.PutAsync(path, content: null, timeout.Token);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        if (response.StatusCode == HttpStatusCode.InternalServerError)
        {
            // Consul before 1.11 answered an unknown check with 500 "Unknown check ID".
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (body.Contains("Unknown check", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            throw new ConsulException(response.StatusCode, $"Consul answered {(int)response.StatusCode}: {body}");
        }

        await EnsureSuccessAsync(response, timeout.Token);
        return true;
    }

    /// <summary>
    /// <c>GET /v1/health/service/{name}</c>: the instances of a service with their checks. With
    /// <paramref name="index"/> &gt; 0 it is a blocking query that returns when the result changes after that index
    /// or after <paramref name="wait"/>, whichever comes first (a return is no promise of a change).
    /// </summary>
    public async Task<HealthQueryResult> HealthServiceAsync(string service, bool passingOnly, ulong index, TimeSpan wait, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (passingOnly)
        {
            query.Add("passing=true");
        }

        if (_datacenter.Length > 0)
        {
            query.Add("dc=" + Uri.EscapeDataString(_datacenter));
        }

        if (index > 0)
        {
            query.Add("index=" + index.ToString(CultureInfo.InvariantCulture));
            query.Add("wait=" + GoDuration.Format(wait));
        }

        var path = $"v1/health/service/{Uri.EscapeDataString(service)}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        using var timeout = Bounded((index > 0 ? wait + wait / 16 : TimeSpan.Zero) + QueryGrace, cancellationToken);
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseContentRead, timeout.Token);
        await EnsureSuccessAsync(response, timeout.Token);
        var entries = await response.Content.ReadFromJsonAsync<List<ServiceHealthEntry>>(Json, timeout.Token) ?? [];
        var newIndex = response.Headers.TryGetValues("X-Consul-Index", out var values)
                       && ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : 0;
        return new HealthQueryResult(entries, newIndex);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static CancellationTokenSource Bounded(TimeSpan limit, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(limit);
        return cts;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new ConsulException(response.StatusCode, $"Consul answered {(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}");
        }
    }
}

/// <summary>The next blocking-query index per Consul's guidance: reset when it goes backwards, never 0.</summary>
public static class ConsulIndex
{
    /// <summary>The index to send next, given the one sent and the one answered.</summary>
    public static ulong Next(ulong sent, ulong answered) =>
        answered == 0 ? 1 : answered < sent ? 0 : answered;
}
