using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>
/// The subset of Replicate's predictions API the worker uses: create (model or deployment, with
/// <c>Prefer: wait</c> and <c>Cancel-After</c>), get, cancel, and output downloads. Every call retries 429 (after
/// its <c>Retry-After</c>), transient 5xx and network errors with backoff; a 4xx that another try cannot fix
/// becomes a <see cref="PermanentTaskException"/>, retries used up a <see cref="TransientTaskException"/>.
/// </summary>
public sealed class ReplicateClient
{
    /// <summary>Name of the <see cref="HttpClient"/> for API calls (base address, token, timeout).</summary>
    public const string ApiClient = "replicate";

    /// <summary>Name of the <see cref="HttpClient"/> for output downloads (no token: outputs live on another host).</summary>
    public const string FilesClient = "replicate-files";

    private ReplicateOptions Options => _settings.Value;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IHttpClientFactory _http;
    private readonly IOptions<ReplicateOptions> _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ReplicateClient(IHttpClientFactory http, IOptions<ReplicateOptions> options, TimeProvider time, ILogger<ReplicateClient> logger)
    {
        _http = http;
        _settings = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Creates a prediction of <paramref name="target"/> (<c>models/owner/name</c> or <c>deployments/owner/name</c>).
    /// Only answers that show nothing was created (502, 503, 504, network errors before a response) are retried, so a
    /// retry never pays twice. A 429 is not waited out here: it becomes a <see cref="ProviderThrottledException"/> at
    /// once, so that the coordinator pauses the model farm-wide for its <c>Retry-After</c> instead of every worker
    /// holding a slot while it waits.
    /// </summary>
    public Task<ReplicatePrediction> CreateAsync(string target, JsonObject input, CancellationToken cancellationToken) =>
        SendAsync(
            "create",
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, $"v1/{target}/predictions")
                {
                    Content = JsonContent.Create(new JsonObject { ["input"] = input.DeepClone() }),
                };
                if (Options.WaitSeconds > 0)
                {
                    request.Headers.TryAddWithoutValidation("Prefer", $"wait={Options.WaitSeconds}");
                }

                if (Options.CancelAfterSeconds > 0)
                {
                    request.Headers.TryAddWithoutValidation("Cancel-After", $"{Options.CancelAfterSeconds}s");
                }

                return request;
            },
            status => status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
            cancellationToken);

    /// <summary>How long a 429 without a usable <c>Retry-After</c> pauses the model.</summary>
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(10);

    /// <summary>The prediction's current state.</summary>
    public Task<ReplicatePrediction> GetAsync(string id, CancellationToken cancellationToken) =>
        SendAsync("get", () => new HttpRequestMessage(HttpMethod.Get, $"v1/predictions/{Uri.EscapeDataString(id)}"), IsRetryable, cancellationToken);

    /// <summary>Cancels the prediction (idempotent on Replicate's side).</summary>
    public Task<ReplicatePrediction> CancelAsync(string id, CancellationToken cancellationToken) =>
        SendAsync("cancel", () => new HttpRequestMessage(HttpMethod.Post, $"v1/predictions/{Uri.EscapeDataString(id)}/cancel"), IsRetryable, cancellationToken);

    /// <summary>Downloads <paramref name="url"/> to <paramref name="path"/> (atomically: a temporary file, then a rename).</summary>
    public async Task DownloadAsync(string url, string path, CancellationToken cancellationToken)
    {
        var client = _http.CreateClient(FilesClient);
        for (var retry = 0; ; retry++)
        {
            var temporary = $"{path}.{Guid.NewGuid():N}.part";
            try
            {
                using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    await using (var destination = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                    {
                        await response.Content.CopyToAsync(destination, cancellationToken);
                    }

                    File.Move(temporary, path, overwrite: true);
                    return;
                }

                if (!IsRetryable(response.StatusCode) || retry >= Options.MaxRetries)
                {
                    // Outputs are deleted about an hour after a prediction: a 404 here will not heal.
                    throw new TransientTaskException($"Replicate output download {url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                }

                await DelayAsync("download", (int)response.StatusCode, retry, RetryAfter(response), cancellationToken);
            }
            catch (HttpRequestException ex) when (retry < Options.MaxRetries)
            {
                await NetworkDelayAsync("download", ex, retry, cancellationToken);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TransientTaskException($"Replicate output download {url} timed out.", ex);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }
        }
    }

    private static bool IsRetryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    private async Task<ReplicatePrediction> SendAsync(
        string operation,
        Func<HttpRequestMessage> makeRequest,
        Func<HttpStatusCode, bool> retryable,
        CancellationToken cancellationToken)
    {
        var client = _http.CreateClient(ApiClient);
        for (var retry = 0; ; retry++)
        {
            HttpResponseMessage response;
            try
            {
                using var request = makeRequest();
                response = await client.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex) when (retry < Options.MaxRetries && (operation != "create" || ex.HttpRequestError == HttpRequestError.ConnectionError))
            {
                // For a create, only a failure to connect proves nothing was created.
                await NetworkDelayAsync(operation, ex, retry, cancellationToken);
                continue;
            }
            catch (HttpRequestException ex)
            {
                throw new ProviderUnavailableException($"Replicate {operation} failed: {ex.Message}", ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProviderUnavailableException($"Replicate {operation} timed out after {Options.RequestTimeoutSeconds} s.", ex);
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    var prediction = await response.Content.ReadFromJsonAsync<ReplicatePrediction>(Json, cancellationToken);
                    return prediction is { Id.Length: > 0 }
                        ? prediction
                        : throw new TransientTaskException($"Replicate {operation} answered {(int)response.StatusCode} without a prediction.");
                }

                var detail = await DetailAsync(response, cancellationToken);
                if (operation == "create" && response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    var wait = RetryAfter(response) ?? DefaultRetryAfter;
                    throw new ProviderThrottledException($"Replicate throttled the create (429, Retry-After {wait.TotalSeconds:0.#} s): {detail}", wait);
                }

                if (retryable(response.StatusCode) && retry < Options.MaxRetries)
                {
                    await DelayAsync(operation, (int)response.StatusCode, retry, RetryAfter(response), cancellationToken);
                    continue;
                }

                throw response.StatusCode switch
                {
                    HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity =>
                        new PermanentTaskException($"Replicate refused the input ({(int)response.StatusCode}): {detail}"),
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                        new PermanentTaskException($"Replicate refused the API token ({(int)response.StatusCode}): {detail} (check Replicate:ApiToken)"),
                    HttpStatusCode.NotFound when operation == "create" =>
                        new PermanentTaskException($"Replicate has no such model or deployment ({(int)response.StatusCode}): {detail}"),
                    HttpStatusCode.PaymentRequired =>
                        new PermanentTaskException($"Replicate refused to bill the account ({(int)response.StatusCode}): {detail}"),
                    >= HttpStatusCode.InternalServerError => new ProviderUnavailableException($"Replicate {operation} answered {(int)response.StatusCode}: {detail}"),
                    _ => new TransientTaskException($"Replicate {operation} answered {(int)response.StatusCode}: {detail}"),
                };
            }
        }
    }

    private Task DelayAsync(string operation, int status, int retry, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var delay = retryAfter ?? Backoff(retry);
        delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds, Options.RetryMaxSeconds));
        ReplicateLog.Retrying(_logger, operation, status, retry + 1, delay.TotalSeconds);
        return Task.Delay(delay, _time, cancellationToken);
    }

    private Task NetworkDelayAsync(string operation, Exception ex, int retry, CancellationToken cancellationToken)
    {
        var delay = Backoff(retry);
        ReplicateLog.NetworkRetry(_logger, ex, operation, retry + 1, delay.TotalSeconds);
        return Task.Delay(delay, _time, cancellationToken);
    }

    /// <summary>Exponential backoff with equal jitter: half the step fixed, half random.</summary>
    private TimeSpan Backoff(int retry)
    {
        var step = Math.Min(Options.RetryMaxSeconds, Options.RetryBaseSeconds * Math.Pow(2, retry));
        return TimeSpan.FromSeconds(step / 2 + Random.Shared.NextDouble() * step / 2);
    }

    /// <summary><c>Retry-After</c> as delta seconds or an HTTP date; null when absent.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The problem's <c>detail</c> (Replicate answers errors as JSON problems), else the body's start.</summary>
    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("detail", out var detail))
            {
                return detail.ValueKind == JsonValueKind.String ? detail.GetString()! : detail.GetRawText();
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 300 ? body[..300] : body.Length > 0 ? body : response.ReasonPhrase ?? "";
    }

    /// <summary>Configures the two named clients.</summary>
    internal static void Configure(HttpClient client, ReplicateOptions options, bool api)
    {
        if (api)
        {
            client.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
            client.Timeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiToken);
        }
        else
        {
            client.Timeout = TimeSpan.FromSeconds(options.DownloadTimeoutSeconds);
        }

        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("videogen-worker", "1.0"));
    }
}
