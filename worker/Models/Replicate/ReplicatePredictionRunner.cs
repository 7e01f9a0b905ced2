using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>
/// Runs one prediction to its end: create, poll with growing intervals until it is terminal, download the
/// output. Stops spending when the task stops: a cancelled or failing wait cancels the prediction on Replicate,
/// and the <c>Cancel-After</c> header sent at create is the net under that (a worker that dies mid-prediction).
/// </summary>
public sealed class ReplicatePredictionRunner
{
    /// <summary>How long a best-effort cancel of an abandoned prediction may take.</summary>
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(5);

    // Error texts of a refused prompt or image: another attempt would be refused again (E005 is Replicate's
    // "flagged as sensitive" code).
    private static readonly string[] RefusalMarkers = ["nsfw", "content policy", "safety", "flagged", "sensitive", "inappropriate", "E005"];

    private readonly ReplicateClient _client;
    private readonly IOptions<ReplicateOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ReplicatePredictionRunner(ReplicateClient client, IOptions<ReplicateOptions> options, TimeProvider time, ILogger<ReplicatePredictionRunner> logger)
    {
        // Options are read when used, not here: providers are built while the worker's options are validated.
        _client = client;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The provider's settings.</summary>
    public ReplicateOptions Options => _options.Value;

    /// <summary>
    /// Runs a prediction of <paramref name="spec"/> with <paramref name="input"/> (plus the model's configured
    /// extra inputs) and downloads its first output URL to <paramref name="outputPath"/>. Progress (0..1) is
    /// reported at every poll, which also keeps the task's lease alive during a long prediction.
    /// </summary>
    public async Task RunAsync(ModelSpec spec, JsonObject input, string outputPath, Action<double>? progress, CancellationToken cancellationToken)
    {
        foreach (var (name, value) in Options.Inputs.GetValueOrDefault(spec.Name) ?? [])
        {
            input[name] = Scalar(value);
        }

        var target = Options.Deployments.TryGetValue(spec.Name, out var deployment) ? $"deployments/{deployment}" : $"models/{spec.ProviderModel}";
        var started = _time.GetTimestamp();
        var journal = ProviderJournal.Current;

        // An earlier attempt of this task (on a worker that died, or before a requeue) started a prediction: resume it
        // rather than pay for another, unless Replicate says it will produce nothing.
        var prediction = journal?.ResumeRequestId is { } resumeId ? await TryResumeAsync(resumeId, journal, cancellationToken) : null;
        if (prediction is null)
        {
            // The create runs detached from the task's token: with Prefer: wait it may hold for up to a minute, and
            // abandoning it would lose the prediction's id, leaving it running (and billing) until Cancel-After.
            var create = _client.CreateAsync(target, input, CancellationToken.None);
            try
            {
                prediction = await create.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _ = CancelOnceCreatedAsync(create);
                throw;
            }

            ReplicateLog.Created(_logger, prediction.Id, spec.Name, prediction.Status);
        }

        // Journalled by the coordinator the moment it exists: a worker that dies from here on leaves it resumable.
        journal?.Started("replicate", prediction.Id);
        var interval = TimeSpan.FromSeconds(Options.PollSeconds);
        try
        {
            while (!prediction.IsTerminal)
            {
                progress?.Invoke(Estimate(prediction.Status, _time.GetElapsedTime(started).TotalSeconds, spec.ExpectedLatencySeconds));
                await Task.Delay(interval, _time, cancellationToken);
                interval = TimeSpan.FromSeconds(Math.Min(interval.TotalSeconds * 1.5, Options.PollMaxSeconds));
                prediction = await _client.GetAsync(prediction.Id, cancellationToken);
            }
        }
        catch (Exception)
        {
            // Cancelled, or Replicate unreachable past every retry: either way nobody will collect this output, unless
            // the task runs again and its next attempt resumes the prediction (the coordinator said to keep it).
            if (journal?.KeepOnCancel != true)
            {
                var cancelled = await CancelQuietlyAsync(prediction.Id);
                if (cancelled is { IsTerminal: true })
                {
                    journal?.Ended(Usage(cancelled));
                }
            }

            throw;
        }

        journal?.Ended(Usage(prediction));
        ReplicateLog.Finished(_logger, prediction.Id, prediction.Status, _time.GetElapsedTime(started).TotalSeconds);
        switch (prediction.Status)
        {
            case "succeeded":
                var url = prediction.FirstOutputUrl()
                    ?? throw new TransientTaskException($"Replicate prediction {prediction.Id} succeeded without an output URL.");
                await _client.DownloadAsync(url, outputPath, cancellationToken);
                progress?.Invoke(1);
                return;
            case "failed":
                var error = prediction.ErrorText;
                throw RefusalMarkers.Any(m => error.Contains(m, StringComparison.OrdinalIgnoreCase))
                    ? new PermanentTaskException($"Replicate refused the content (prediction {prediction.Id}): {error}")
                    : new TransientTaskException($"Replicate prediction {prediction.Id} failed: {error}");
            case "aborted":
                throw new TransientTaskException($"Replicate prediction {prediction.Id} was aborted before it started: its Cancel-After deadline ({Options.CancelAfterSeconds} s) passed while it queued.");
            default:
                throw new TransientTaskException($"Replicate prediction {prediction.Id} was canceled before it finished: its Cancel-After deadline ({Options.CancelAfterSeconds} s) passed, or it was canceled elsewhere.");
        }
    }

    /// <summary>
    /// The prediction <paramref name="id"/> when it can still deliver (starting, processing or succeeded); null when
    /// Replicate reports it failed, canceled or aborted, or does not know it, so that a new one is created.
    /// </summary>
    private async Task<ReplicatePrediction?> TryResumeAsync(string id, ProviderJournal journal, CancellationToken cancellationToken)
    {
        ReplicatePrediction prediction;
        try
        {
            prediction = await _client.GetAsync(id, cancellationToken);
        }
        catch (Exception ex) when (ex is PermanentTaskException or TransientTaskException)
        {
            ReplicateLog.ResumeRefused(_logger, id, "unknown to Replicate");
            return null; // 404: expired or never there
        }

        if (prediction.Status is "failed" or "canceled" or "aborted")
        {
            // It ran (and may have been billed) without anyone to collect it: count it, then pay for a new one.
            journal.Ended(Usage(prediction));
            ReplicateLog.ResumeRefused(_logger, id, prediction.Status);
            return null;
        }

        ReplicateLog.Resumed(_logger, id, prediction.Status);
        return prediction;
    }

    private static ProviderUsageReport Usage(ReplicatePrediction prediction) => new(prediction.Id, prediction.Status, prediction.PredictSeconds);

    /// <summary>0..1 for a running prediction: from its status and elapsed time against the model's expected latency.</summary>
    private static double Estimate(string status, double elapsedSeconds, double expectedSeconds) =>
        status == "starting" ? 0.05 : Math.Min(0.95, 0.1 + 0.85 * elapsedSeconds / Math.Max(1, expectedSeconds));

    private async Task CancelOnceCreatedAsync(Task<ReplicatePrediction> create)
    {
        try
        {
            var prediction = await create;
            if (!prediction.IsTerminal)
            {
                await CancelQuietlyAsync(prediction.Id);
            }
        }
        catch (Exception)
        {
            // The create failed: nothing runs, nothing to cancel.
        }
    }

    private async Task<ReplicatePrediction?> CancelQuietlyAsync(string id)
    {
        using var timeout = new CancellationTokenSource(CancelTimeout, _time);
        try
        {
            var cancelled = await _client.CancelAsync(id, timeout.Token);
            ReplicateLog.Cancelled(_logger, id, cancelled.Status);
            return cancelled;
        }
        catch (Exception ex)
        {
            ReplicateLog.CancelFailed(_logger, ex, id);
            return null;
        }
    }

    /// <summary>A configured input value as JSON: booleans and numbers as such, anything else as a string.</summary>
    private static JsonNode Scalar(string value) =>
        bool.TryParse(value, out var flag) ? JsonValue.Create(flag)
        : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer) ? JsonValue.Create(integer)
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number)
        : JsonValue.Create(value);
}
