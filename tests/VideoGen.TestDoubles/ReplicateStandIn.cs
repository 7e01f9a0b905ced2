using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VideoGen.TestDoubles;

/// <summary>Settings of a <see cref="ReplicateStandIn"/>.</summary>
public sealed record ReplicateStandInOptions
{
    /// <summary>The only token the stand-in accepts (<c>Authorization: Bearer</c>).</summary>
    public string ApiToken { get; init; } = "r8_standin_token";

    /// <summary>Length of the clip every succeeded video prediction returns.</summary>
    public double ClipSeconds { get; init; } = 5;

    public int Fps { get; init; } = 16;

    /// <summary>wan-2.1 480p really returns 832x480; the worker normalises it to the catalog's 854x480.</summary>
    public int Width { get; init; } = 832;

    public int Height { get; init; } = 480;

    /// <summary>
    /// Input field of an upscaler prediction: a create that carries it (a <c>data:video/…</c> URI) needs no prompt, and its
    /// output is the input clip made larger with FFmpeg by <see cref="UpscaleFactor"/> (lucataco/real-esrgan-video's field).
    /// </summary>
    public string UpscaleInput { get; init; } = "video_path";

    /// <summary>How much an upscaler prediction enlarges the clip (<c>scale=iw*F:ih*F</c>).</summary>
    public int UpscaleFactor { get; init; } = 2;

    /// <summary>Time a new prediction spends in <c>starting</c>.</summary>
    public TimeSpan StartingFor { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Time a prediction spends in <c>processing</c> before its outcome.</summary>
    public TimeSpan ProcessingFor { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// What a succeeded video prediction is billed per second of its output (<see cref="ClipSeconds"/>): an official
    /// model priced by output, as wan-2.1 is ($0.09/s at 480p).
    /// </summary>
    public double OutputPricePerSecondUsd { get; init; } = 0.09;

    /// <summary>What a canceled prediction is billed per second it ran (<c>metrics.predict_time</c>): the hardware's price.</summary>
    public double RuntimePricePerSecondUsd { get; init; } = 0.001525;
}

/// <summary>How a new prediction will end.</summary>
public enum PredictionOutcome
{
    Succeed,
    Fail,

    /// <summary>Stays <c>processing</c> until cancelled (by the client or its <c>Cancel-After</c> deadline).</summary>
    Never,
}

/// <summary>The fate of one prediction, chosen when it is created.</summary>
public sealed record PredictionScript(
    PredictionOutcome Outcome = PredictionOutcome.Succeed,
    string? Error = null,
    TimeSpan? StartingFor = null,
    TimeSpan? ProcessingFor = null,
    string? OutputFile = null);

/// <summary>One HTTP request the stand-in received.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
}

/// <summary>A prediction as the stand-in holds it.</summary>
public sealed class StandInPrediction
{
    internal StandInPrediction(string id, string model, JsonObject input, PredictionScript script, DateTimeOffset created)
    {
        Id = id;
        Model = model;
        Input = input;
        Script = script;
        CreatedAt = created;
    }

    public string Id { get; }

    /// <summary><c>owner/name</c> of the model, or <c>deployments/owner/name</c>.</summary>
    public string Model { get; }

    public JsonObject Input { get; }

    public PredictionScript Script { get; }

    public DateTimeOffset CreatedAt { get; }

    public string Status { get; internal set; } = "starting";

    public string? Error { get; internal set; }

    public string? Output { get; internal set; }

    /// <summary>For an upscaler prediction: the upscaled clip the stand-in made from the input.</summary>
    public string? OutputPath { get; internal set; }

    /// <summary>True when the create carried the upscaler's video input.</summary>
    public bool IsUpscale { get; internal init; }

    public DateTimeOffset? CompletedAt { get; internal set; }

    /// <summary>When it began <c>processing</c> (the model ran from then on); null while starting, or aborted.</summary>
    public DateTimeOffset? StartedAt { get; internal set; }

    /// <summary>
    /// <c>metrics.predict_time</c>: seconds it has been processing (fixed once it ended); 0 when it never ran.
    /// </summary>
    public double PredictSeconds => FixedPredictSeconds ?? (StartedAt is { } s ? Math.Round((DateTimeOffset.UtcNow - s).TotalSeconds, 6) : 0);

    internal double? FixedPredictSeconds { get; set; }

    /// <summary>
    /// What Replicate bills for it once it ended (0 before): succeeded, its output; canceled, the time it ran; failed
    /// (a model error) and aborted (never ran), nothing. Set by the stand-in's own accounting.
    /// </summary>
    public double BilledUsd { get; internal set; }

    /// <summary>The <c>Cancel-After</c> deadline asked for at create, if any.</summary>
    public TimeSpan? CancelAfter { get; internal set; }

    /// <summary>Who ended a cancelled prediction: "client" (the cancel endpoint) or "deadline" (Cancel-After).</summary>
    public string? CanceledBy { get; internal set; }

    public bool IsTerminal => Status is "succeeded" or "failed" or "canceled" or "aborted";

    internal CancellationTokenSource Stop { get; } = new();

    internal TaskCompletionSource Terminal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// A local HTTP server that speaks the documented subset of Replicate's predictions API with real state:
/// create (model and deployment routes, <c>Prefer: wait</c>, <c>Cancel-After</c>), get, cancel, and the output
/// files it serves itself. Predictions move starting → processing → succeeded/failed on timers; one that never
/// finishes is ended by its <c>Cancel-After</c> deadline (canceled, or aborted while still starting). The next N
/// creates can be throttled (429 with <c>Retry-After</c>) and the next N gets can fail (503). Every request is
/// recorded for assertions. The output clip is a real MP4 made with FFmpeg at start.
/// </summary>
public sealed partial class ReplicateStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, StandInPrediction> _predictions = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private readonly ChangeSignal _changes = new();
    private int _throttleCreates;
    private int _throttleRetryAfterSeconds = 1;
    private int _failGets;
    private int _failGetsStatus = 503;
    private int _failCreates;
    private int _failCreatesStatus = 503;
    private DateTimeOffset _throttleUntil = DateTimeOffset.MinValue;
    private int _throttled;
    private int? _stormRetryAfterSeconds;

    private ReplicateStandIn(WebApplication app, string directory, ReplicateStandInOptions options)
    {
        _app = app;
        _directory = directory;
        Options = options;
        ClipPath = Path.Combine(directory, "output.mp4");
        ImagePath = Path.Combine(directory, "output.png");
    }

    public ReplicateStandInOptions Options { get; }

    /// <summary>The base URL to configure as <c>Replicate:BaseUrl</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The clip every succeeded video prediction returns.</summary>
    public string ClipPath { get; }

    /// <summary>A 1024x576 PNG for image predictions (<see cref="PredictionScript.OutputFile"/>).</summary>
    public string ImagePath { get; }

    /// <summary>
    /// Writes a WAV a music model might return (a stereo 32 kHz tone, as MusicGen answers with <c>output_format: wav</c>)
    /// and returns its path, for <see cref="PredictionScript.OutputFile"/>.
    /// </summary>
    public string WriteAudio(double seconds, int sampleRate = 32_000)
    {
        var path = Path.Combine(_directory, $"music-{Guid.NewGuid():N}.wav");
        File.WriteAllBytes(path, Wav.Tone(seconds, sampleRate, channels: 2, frequencyHz: 220));
        return path;
    }

    /// <summary>Chooses each new prediction's fate from its model and input; default: succeed.</summary>
    public Func<string, JsonObject, PredictionScript> Script { get; set; } = (_, _) => new PredictionScript();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>Create requests so far (including refused ones).</summary>
    public IReadOnlyList<RecordedRequest> Creates => Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/predictions", StringComparison.Ordinal)).ToArray();

    /// <summary>Every prediction created, oldest first.</summary>
    public IReadOnlyList<StandInPrediction> Predictions => _predictions.Values.OrderBy(p => p.CreatedAt).ToArray();

    /// <summary>Predictions created (creates answered 201): what a farm that pays once makes one of per task.</summary>
    public int Creations => _predictions.Count;

    /// <summary>Creates answered 429 so far.</summary>
    public int ThrottledCreates
    {
        get
        {
            lock (_gate)
            {
                return _throttled;
            }
        }
    }

    /// <summary>What the account was billed in all, in US dollars: the sum of every ended prediction's <see cref="StandInPrediction.BilledUsd"/>.</summary>
    public double BilledTotalUsd
    {
        get
        {
            lock (_gate)
            {
                return _predictions.Values.Sum(p => p.BilledUsd);
            }
        }
    }

    public static async Task<ReplicateStandIn> StartAsync(ReplicateStandInOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ReplicateStandInOptions();
        var directory = Path.Combine(Path.GetTempPath(), "videogen-replicate-standin", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new ReplicateStandIn(app, directory, options);
        standIn.Map(app);

        await Task.WhenAll(
            Ffmpeg(cancellationToken, "-f", "lavfi", "-i", string.Create(CultureInfo.InvariantCulture, $"testsrc=duration={options.ClipSeconds}:size={options.Width}x{options.Height}:rate={options.Fps}"),
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", standIn.ClipPath),
            Ffmpeg(cancellationToken, "-f", "lavfi", "-i", "testsrc2=size=1024x576:rate=1", "-frames:v", "1", "-update", "1", standIn.ImagePath));
        await app.StartAsync(cancellationToken);
        standIn.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return standIn;
    }

    /// <summary>The next <paramref name="count"/> creates answer 429 with <c>Retry-After: <paramref name="retryAfterSeconds"/></c>.</summary>
    public void ThrottleNextCreates(int count, int retryAfterSeconds)
    {
        lock (_gate)
        {
            (_throttleCreates, _throttleRetryAfterSeconds) = (count, retryAfterSeconds);
        }
    }

    /// <summary>
    /// A 429 storm: every create until <paramref name="window"/> from now answers 429 with a <c>Retry-After</c> of
    /// <paramref name="retryAfterSeconds"/>, or else of the seconds left in the storm (rounded up), as an account at its
    /// rate limit does. A zero window ends a storm.
    /// </summary>
    public void ThrottleCreatesFor(TimeSpan window, int? retryAfterSeconds = null)
    {
        lock (_gate)
        {
            (_throttleUntil, _stormRetryAfterSeconds) = (DateTimeOffset.UtcNow + window, retryAfterSeconds);
        }
    }

    /// <summary>The next <paramref name="count"/> creates answer <paramref name="status"/> (503 by default): an outage; nothing is created.</summary>
    public void FailNextCreates(int count, int status = 503)
    {
        lock (_gate)
        {
            (_failCreates, _failCreatesStatus) = (count, status);
        }
    }

    /// <summary>The next <paramref name="count"/> prediction gets answer <paramref name="status"/> (503 by default).</summary>
    public void FailNextGets(int count, int status = 503)
    {
        lock (_gate)
        {
            (_failGets, _failGetsStatus) = (count, status);
        }
    }

    /// <summary>Waits (on the stand-in's own change signal, no polling) until <paramref name="condition"/> holds.</summary>
    public Task WaitUntilAsync(Func<ReplicateStandIn, bool> condition, TimeSpan timeout, string what) =>
        _changes.WaitUntilAsync(() => condition(this), timeout, () => $"Replicate stand-in: {what} did not happen within {timeout.TotalSeconds} s; requests: {string.Join(", ", Requests.Select(r => $"{r.Method} {r.Path}"))}");

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var prediction in _predictions.Values)
        {
            await prediction.Stop.CancelAsync();
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

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            context.Items["body"] = body;
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            lock (_gate)
            {
                _requests.Add(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", headers, body, DateTimeOffset.UtcNow));
            }

            Pulse();
            if (context.Request.Path.StartsWithSegments("/v1") && context.Request.Headers.Authorization.ToString() != $"Bearer {Options.ApiToken}")
            {
                await Problem(context, 401, "You did not pass a valid authentication token");
                return;
            }

            await next(context);
        });
        app.MapPost("/v1/models/{owner}/{name}/predictions", context => CreateAsync(context, $"{context.Request.RouteValues["owner"]}/{context.Request.RouteValues["name"]}"));
        app.MapPost("/v1/deployments/{owner}/{name}/predictions", context => CreateAsync(context, $"deployments/{context.Request.RouteValues["owner"]}/{context.Request.RouteValues["name"]}"));
        app.MapGet("/v1/predictions/{id}", GetAsync);
        app.MapPost("/v1/predictions/{id}/cancel", CancelAsync);
        app.MapGet("/files/{id}/{file}", FileAsync);
    }

    private async Task CreateAsync(HttpContext context, string model)
    {
        int retryAfter;
        var failStatus = 0;
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            retryAfter = _throttleCreates > 0 ? _throttleRetryAfterSeconds
                : _throttleUntil > now ? _stormRetryAfterSeconds ?? (int)Math.Ceiling((_throttleUntil - now).TotalSeconds)
                : -1;
            if (_throttleCreates > 0)
            {
                _throttleCreates--;
            }

            if (retryAfter >= 0)
            {
                _throttled++;
            }
            else if (_failCreates > 0)
            {
                _failCreates--;
                failStatus = _failCreatesStatus;
            }
        }

        if (retryAfter >= 0)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            await Problem(context, 429, $"Request was throttled. Expected available in {retryAfter} second.");
            return;
        }

        if (failStatus > 0)
        {
            await Problem(context, failStatus, ReasonPhrases.GetReasonPhrase(failStatus));
            return;
        }

        JsonObject? input;
        try
        {
            input = JsonNode.Parse((string)context.Items["body"]!)?["input"] as JsonObject;
        }
        catch (JsonException)
        {
            input = null;
        }

        var video = input?[Options.UpscaleInput] as JsonValue;
        if (input is not null && video is not null)
        {
            if (video.GetValueKind() != JsonValueKind.String || !(video.GetValue<string>().StartsWith("data:video/", StringComparison.Ordinal) || video.GetValue<string>().StartsWith("http", StringComparison.Ordinal)))
            {
                await Problem(context, 422, $"- input.{Options.UpscaleInput}: Does not match format 'uri'");
                return;
            }
        }
        else if (input?["prompt"] is not JsonValue prompt || prompt.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(prompt.GetValue<string>()))
        {
            await Problem(context, 422, "- input: prompt is required", new JsonArray(new JsonObject { ["type"] = "required", ["field"] = "prompt", ["description"] = "prompt is required" }));
            return;
        }

        if (input["image"] is JsonValue image && !image.ToString().StartsWith("data:image/", StringComparison.Ordinal) && !image.ToString().StartsWith("http", StringComparison.Ordinal))
        {
            await Problem(context, 422, "- input.image: Does not match format 'uri'");
            return;
        }

        var script = Script(model, input);
        var prediction = new StandInPrediction(Guid.NewGuid().ToString("N")[..20], model, (JsonObject)input!.DeepClone(), script, DateTimeOffset.UtcNow) { IsUpscale = video is not null };
        _predictions[prediction.Id] = prediction;
        if (ParseDuration(context.Request.Headers["Cancel-After"].ToString()) is { } deadline)
        {
            prediction.CancelAfter = deadline;
            _ = EndAtDeadlineAsync(prediction, deadline);
        }

        _ = RunLifecycleAsync(prediction);
        Pulse();

        // Prefer: wait[=N] holds the answer until the prediction ends or N seconds pass (60 by default).
        var prefer = context.Request.Headers["Prefer"].ToString();
        if (WaitPattern().Match(prefer) is { Success: true } wait)
        {
            var seconds = wait.Groups[1].Success ? int.Parse(wait.Groups[1].Value, CultureInfo.InvariantCulture) : 60;
            try
            {
                await prediction.Terminal.Task.WaitAsync(TimeSpan.FromSeconds(seconds), context.RequestAborted);
            }
            catch (TimeoutException)
            {
            }
        }

        await Write(context, 201, prediction);
    }

    private async Task GetAsync(HttpContext context)
    {
        bool fail;
        int failStatus;
        lock (_gate)
        {
            (fail, failStatus) = (_failGets > 0, _failGetsStatus);
            if (fail)
            {
                _failGets--;
            }
        }

        if (fail)
        {
            await Problem(context, failStatus, ReasonPhrases.GetReasonPhrase(failStatus));
            return;
        }

        if (!_predictions.TryGetValue((string)context.Request.RouteValues["id"]!, out var prediction))
        {
            await Problem(context, 404, "Not found.");
            return;
        }

        await Write(context, 200, prediction);
    }

    private async Task CancelAsync(HttpContext context)
    {
        if (!_predictions.TryGetValue((string)context.Request.RouteValues["id"]!, out var prediction))
        {
            await Problem(context, 404, "Not found.");
            return;
        }

        End(prediction, p =>
        {
            p.Status = "canceled";
            p.CanceledBy = "client";
        });
        await Write(context, 200, prediction);
    }

    private async Task FileAsync(HttpContext context)
    {
        if (!_predictions.TryGetValue((string)context.Request.RouteValues["id"]!, out var prediction) || prediction.Status != "succeeded")
        {
            context.Response.StatusCode = 404;
            return;
        }

        var file = prediction.OutputPath ?? prediction.Script.OutputFile ?? ClipPath;
        context.Response.ContentType = Path.GetExtension(file) switch
        {
            ".png" => "image/png",
            ".wav" => "audio/wav",
            ".mp3" => "audio/mpeg",
            _ => "video/mp4",
        };
        await context.Response.SendFileAsync(file, context.RequestAborted);
    }

    private async Task RunLifecycleAsync(StandInPrediction prediction)
    {
        var token = prediction.Stop.Token;
        try
        {
            await Task.Delay(prediction.Script.StartingFor ?? Options.StartingFor, token);
            Change(prediction, p => (p.Status, p.StartedAt) = ("processing", DateTimeOffset.UtcNow));
            if (prediction.Script.Outcome == PredictionOutcome.Never)
            {
                await Task.Delay(Timeout.Infinite, token);
            }

            var processing = Task.Delay(prediction.Script.ProcessingFor ?? Options.ProcessingFor, token);
            string? upscaleError = null;
            if (prediction.IsUpscale && prediction.Script.Outcome == PredictionOutcome.Succeed)
            {
                upscaleError = await UpscaleAsync(prediction, token);
            }

            await processing;
            End(prediction, p =>
            {
                if (p.Script.Outcome == PredictionOutcome.Fail || upscaleError is not null)
                {
                    p.Status = "failed";
                    p.Error = upscaleError ?? p.Script.Error ?? "Prediction failed.";
                }
                else
                {
                    p.Status = "succeeded";
                    p.Output = $"{BaseUrl}/files/{p.Id}/{Path.GetFileName(p.OutputPath ?? p.Script.OutputFile ?? ClipPath)}";
                }
            });
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Makes the upscaler's output: the input clip (a data: URI) scaled by <see cref="ReplicateStandInOptions.UpscaleFactor"/>; returns an error text when it cannot.</summary>
    private async Task<string?> UpscaleAsync(StandInPrediction prediction, CancellationToken cancellationToken)
    {
        var uri = prediction.Input[Options.UpscaleInput]!.GetValue<string>();
        var comma = uri.IndexOf(',', StringComparison.Ordinal);
        if (!uri.StartsWith("data:video/", StringComparison.Ordinal) || comma < 0 || !uri[..comma].EndsWith(";base64", StringComparison.Ordinal))
        {
            return $"{Options.UpscaleInput}: the stand-in reads base64 data: URIs only";
        }

        var input = Path.Combine(_directory, $"{prediction.Id}-input.mp4");
        var output = Path.Combine(_directory, $"{prediction.Id}-upscaled.mp4");
        await File.WriteAllBytesAsync(input, Convert.FromBase64String(uri[(comma + 1)..]), cancellationToken);
        try
        {
            var factor = Options.UpscaleFactor.ToString(CultureInfo.InvariantCulture);
            await Ffmpeg(cancellationToken, "-i", input, "-vf", $"scale=iw*{factor}:ih*{factor}:flags=lanczos", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", output);
        }
        catch (InvalidOperationException ex)
        {
            return $"upscale failed: {ex.Message[..Math.Min(200, ex.Message.Length)]}";
        }

        prediction.OutputPath = output;
        return null;
    }

    private async Task EndAtDeadlineAsync(StandInPrediction prediction, TimeSpan deadline)
    {
        try
        {
            await Task.Delay(deadline, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // As Replicate documents it: aborted when the deadline passes before the prediction runs, canceled while it runs.
        End(prediction, p =>
        {
            p.Status = p.Status == "starting" ? "aborted" : "canceled";
            p.CanceledBy = "deadline";
        });
    }

    private void Change(StandInPrediction prediction, Action<StandInPrediction> change)
    {
        lock (_gate)
        {
            if (!prediction.IsTerminal)
            {
                change(prediction);
            }
        }

        Pulse();
    }

    private void End(StandInPrediction prediction, Action<StandInPrediction> end)
    {
        var ended = false;
        lock (_gate)
        {
            if (!prediction.IsTerminal)
            {
                end(prediction);
                prediction.CompletedAt = DateTimeOffset.UtcNow;
                prediction.FixedPredictSeconds = prediction.StartedAt is { } started ? Math.Round((prediction.CompletedAt.Value - started).TotalSeconds, 6) : 0;
                prediction.BilledUsd = Bill(prediction);
                ended = true;
            }
        }

        if (ended)
        {
            prediction.Stop.Cancel();
            prediction.Terminal.TrySetResult();
            Pulse();
        }
    }

    /// <summary>The stand-in's billing: a succeeded video prediction by its output, a canceled one by the time it ran, the rest not at all.</summary>
    private double Bill(StandInPrediction p) => p.Status switch
    {
        "succeeded" => Options.ClipSeconds * Options.OutputPricePerSecondUsd,
        "canceled" => p.FixedPredictSeconds.GetValueOrDefault() * Options.RuntimePricePerSecondUsd,
        _ => 0,
    };

    private void Pulse() => _changes.Notify();

    private Task Write(HttpContext context, int status, StandInPrediction p)
    {
        JsonObject body;
        lock (_gate)
        {
            body = new JsonObject
            {
                ["id"] = p.Id,
                ["model"] = p.Model,
                ["version"] = "",
                ["input"] = p.Input.DeepClone(),
                ["logs"] = "",
                ["output"] = p.Output,
                ["data_removed"] = false,
                ["error"] = p.Error,
                ["status"] = p.Status,
                ["created_at"] = p.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
                ["started_at"] = p.StartedAt?.ToString("O", CultureInfo.InvariantCulture),
                ["metrics"] = p.StartedAt is null ? new JsonObject() : new JsonObject { ["predict_time"] = p.PredictSeconds },
                ["completed_at"] = p.CompletedAt?.ToString("O", CultureInfo.InvariantCulture),
                ["urls"] = new JsonObject
                {
                    ["get"] = $"{BaseUrl}/v1/predictions/{p.Id}",
                    ["cancel"] = $"{BaseUrl}/v1/predictions/{p.Id}/cancel",
                },
            };
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static Task Problem(HttpContext context, int status, string detail, JsonArray? invalidFields = null)
    {
        var body = new JsonObject { ["title"] = ReasonPhrases.GetReasonPhrase(status), ["detail"] = detail, ["status"] = status };
        if (invalidFields is not null)
        {
            body["invalid_fields"] = invalidFields;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    /// <summary>A <c>Cancel-After</c> value: Go-style durations such as <c>30s</c>, <c>1m</c>, <c>1h30m</c>, <c>500ms</c>.</summary>
    public static TimeSpan? ParseDuration(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var total = TimeSpan.Zero;
        var matches = DurationPart().Matches(value.Trim());
        if (matches.Sum(m => m.Length) != value.Trim().Length)
        {
            return null;
        }

        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                _ => TimeSpan.FromHours(n),
            };
        }

        return total;
    }

    private static async Task Ffmpeg(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-y" }.Concat(arguments))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg {string.Join(' ', arguments)} failed: {await stderr}");
        }
    }

    [GeneratedRegex(@"^\s*wait(?:=(\d+))?\s*$")]
    private static partial Regex WaitPattern();

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h)")]
    private static partial Regex DurationPart();
}
