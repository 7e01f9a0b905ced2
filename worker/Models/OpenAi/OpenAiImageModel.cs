using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FFMpegCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Images;
using VideoGen.Catalog;
using VideoGen.Worker.Media;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models.OpenAi;

/// <summary>
/// Storyboard images from OpenAI images (<c>gpt-image-1</c>) through the official SDK's <see cref="ImageClient"/>,
/// against OpenAI or any server that speaks <c>POST {BaseUrl}/images/generations</c>. The beat's image prompt,
/// subject, style and shot become the prompt; the returned base64 PNG is scaled to fit and padded with FFmpeg to the
/// task's exact width × height, so the chunk model starts from an image of the size it renders.
/// A request the API rejects (400: content policy, bad parameters) fails the task permanently; 429, 5xx, network
/// errors and timeouts (after the SDK's own retries) fail it as retryable.
/// </summary>
public sealed class OpenAiImageModel : IImageModel
{
    private readonly ImageClient _client;
    private readonly OpenAiOptions _options;
    private readonly FfmpegRunner _ffmpeg;
    private readonly ILogger _logger;

    public OpenAiImageModel(ModelSpec spec, OpenAiOptions options, FfmpegRunner ffmpeg, ILogger logger)
    {
        _options = options;
        _ffmpeg = ffmpeg;
        _logger = logger;
        ApiModel = string.IsNullOrWhiteSpace(spec.ProviderModel) ? options.ImageModel : spec.ProviderModel;
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(options.BaseUrl),
            NetworkTimeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
        };
        _client = new ImageClient(ApiModel, new ApiKeyCredential(options.ApiKey), clientOptions);
    }

    /// <summary>The model id sent to the API.</summary>
    public string ApiModel { get; }

    /// <inheritdoc />
    public async Task<double> RenderAsync(StoryboardImageRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var prompt = Prompt(request);
        var size = SizeFor(request.Width, request.Height);
        var generation = new ImageGenerationOptions { Size = size, Quality = new GeneratedImageQuality(_options.ImageQuality) };

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        GeneratedImage image;
        try
        {
            image = (await _client.GenerateImageAsync(prompt, generation, linked.Token).ConfigureAwait(false)).Value;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception ex) when (deadline.IsCancellationRequested || IsTimeout(ex))
        {
            throw new TransientTaskException($"OpenAI images ({ApiModel}): no image within {_options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s", ex);
        }
        catch (ClientResultException ex) when (IsPermanent(ex.Status))
        {
            var (code, message) = ErrorOf(ex);
            var refused = code is "moderation_blocked" or "content_policy_violation" || message.Contains("safety system", StringComparison.OrdinalIgnoreCase);
            var reason = refused
                ? $"OpenAI images ({ApiModel}) refused the prompt of beat {request.BeatIndex} ({code ?? "content policy"}): {message}"
                : $"OpenAI images ({ApiModel}) rejected the request: HTTP {ex.Status}{(code is null ? "" : $" {code}")}: {message}";
            OpenAiLog.Rejected(_logger, ApiModel, ex.Status, reason);
            throw new PermanentTaskException(reason, ex);
        }
        catch (ClientResultException ex)
        {
            var (code, message) = ErrorOf(ex);
            var what = ex.Status == 0 ? "network error" : $"HTTP {ex.Status}{(code is null ? "" : $" {code}")}";
            throw new TransientTaskException($"OpenAI images ({ApiModel}): {what} after {_options.MaxRetries + 1} attempts: {message}", ex);
        }
        catch (Exception ex) when (ex is AggregateException or HttpRequestException or IOException)
        {
            // No response at all (connection refused, DNS, TLS) after the SDK's retries.
            throw new TransientTaskException($"OpenAI images ({ApiModel}): network error after {_options.MaxRetries + 1} attempts: {Clip(Innermost(ex).Message)}", ex);
        }

        var bytes = image.ImageBytes;
        if (bytes is null || bytes.ToMemory().Length == 0)
        {
            // gpt-image-1 always answers b64_json; a URL-only answer comes from a server this provider does not support.
            throw new TransientTaskException($"OpenAI images ({ApiModel}): the answer has no b64_json image{(image.ImageUri is null ? "" : $" (only a URL: {image.ImageUri})")}.");
        }

        var raw = request.OutputPath + ".openai.png";
        await File.WriteAllBytesAsync(raw, bytes.ToArray(), cancellationToken).ConfigureAwait(false);
        try
        {
            await _ffmpeg.RunAsync(FitArguments(raw, request.Width, request.Height, request.OutputPath), "storyboard_fit", null, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(raw);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        OpenAiLog.Generated(_logger, ApiModel, request.BeatIndex, size.ToString(), seconds);
        return seconds;
    }

    /// <summary>The prompt for one beat: its image prompt (or shot when it has none), the subject, the style and the framing.</summary>
    public static string Prompt(StoryboardImageRequest request)
    {
        var parts = new List<string>
        {
            string.IsNullOrWhiteSpace(request.ImagePrompt) ? request.ShotDescription : request.ImagePrompt,
        };
        if (!string.IsNullOrWhiteSpace(request.Subject))
        {
            parts.Add($"Subject: {request.Subject}");
        }

        if (!string.IsNullOrWhiteSpace(request.Style))
        {
            parts.Add($"Style: {request.Style}");
        }

        if (!string.IsNullOrWhiteSpace(request.ShotDescription) && !string.IsNullOrWhiteSpace(request.ImagePrompt))
        {
            parts.Add($"Framing: {request.ShotDescription}");
        }

        parts.Add($"A single {(request.Width >= request.Height ? "landscape" : "portrait")} still frame that opens a video shot; no borders, no watermark");
        return string.Join(". ", parts.Select(p => p.Trim().TrimEnd('.'))) + ".";
    }

    /// <summary>The gpt-image-1 size closest in aspect ratio to width × height: 1536x1024, 1024x1536 or 1024x1024.</summary>
    public static GeneratedImageSize SizeFor(int width, int height)
    {
        var aspect = (double)width / Math.Max(1, height);
        // The constructor, not the W1536xH1024 / W1024xH1536 constants: those are marked experimental (OPENAI001).
        return aspect >= 1.25 ? new GeneratedImageSize(1536, 1024) : aspect <= 0.8 ? new GeneratedImageSize(1024, 1536) : GeneratedImageSize.W1024xH1024;
    }

    /// <summary>The image scaled to fit inside width × height (never stretched or cropped) and centred on black: exactly width × height.</summary>
    public static FFMpegArgumentProcessor FitArguments(string inputPath, int width, int height, string outputPath)
    {
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=bicubic,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1");
        return FFMpegArguments
            .FromFileInput(inputPath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o.WithCustomArgument($"-vf \"{filter}\" -frames:v 1 -update 1"));
    }

    /// <summary>400, 404, 413 and 422: the request itself is wrong or refused, and another attempt would get the same answer.</summary>
    internal static bool IsPermanent(int status) => status is 400 or 404 or 413 or 422;

    /// <summary>The OpenAI error body's <c>code</c> and <c>message</c>, else the exception's message.</summary>
    internal static (string? Code, string Message) ErrorOf(ClientResultException ex)
    {
        try
        {
            var content = ex.GetRawResponse()?.Content;
            if (content is not null && content.ToMemory().Length > 0)
            {
                using var json = JsonDocument.Parse(content.ToMemory());
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    return (code, Clip(message ?? ex.Message));
                }
            }
        }
        catch (JsonException)
        {
        }

        return (null, Clip((ex.InnerException ?? ex).Message));
    }

    internal static bool IsTimeout(Exception ex) => ex switch
    {
        TimeoutException or OperationCanceledException => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsTimeout),
        _ => ex.InnerException is { } inner && IsTimeout(inner),
    };

    internal static Exception Innermost(Exception ex) =>
        ex is AggregateException { InnerExceptions.Count: > 0 } a ? Innermost(a.InnerExceptions[^1]) : ex.InnerException is { } inner ? Innermost(inner) : ex;

    internal static string Clip(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

/// <summary>The "openai" provider: storyboard images from OpenAI images and voiceovers from OpenAI speech (or a compatible server at <c>OpenAI:BaseUrl</c>).</summary>
public sealed class OpenAiModelProvider : IModelProvider
{
    public const string ProviderName = "openai";

    private readonly IOptions<OpenAiOptions> _options;
    private readonly FfmpegRunner _ffmpeg;
    private readonly ILogger _logger;

    public OpenAiModelProvider(IOptions<OpenAiOptions> options, FfmpegRunner ffmpeg, ILogger<OpenAiImageModel> logger)
    {
        _options = options;
        _ffmpeg = ffmpeg;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => ProviderName;

    /// <inheritdoc />
    public IVideoModel CreateVideoModel(ModelSpec spec) =>
        throw new InvalidOperationException($"Model '{spec.Name}': the openai provider serves image and speech models only.");

    /// <inheritdoc />
    public IImageModel CreateImageModel(ModelSpec spec) => new OpenAiImageModel(spec, _options.Value, _ffmpeg, _logger);

    /// <inheritdoc />
    public ISpeechModel CreateSpeechModel(ModelSpec spec) => new OpenAiSpeechModel(spec, _options.Value, _logger);
}

/// <summary>Registers the OpenAI images provider and its options.</summary>
public static class OpenAiServiceCollectionExtensions
{
    /// <summary>Adds the "openai" <see cref="IModelProvider"/> (options from section <c>OpenAI</c>, validated at start).</summary>
    public static IServiceCollection AddOpenAiImageProvider(this IServiceCollection services)
    {
        services.AddOptions<OpenAiOptions>()
            .BindConfiguration(OpenAiOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) =>
            {
                if (string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    options.ApiKey = configuration[OpenAiOptions.KeyEnvironmentVariable] ?? Environment.GetEnvironmentVariable(OpenAiOptions.KeyEnvironmentVariable) ?? "";
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<OpenAiOptions>, OpenAiOptionsValidator>();
        services.AddSingleton<IModelProvider, OpenAiModelProvider>();
        return services;
    }
}

internal static partial class OpenAiLog
{
    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "openai image {Model} for beat {Beat} ({Size}) in {Seconds:0.0} s")]
    public static partial void Generated(ILogger logger, string model, int beat, string size, double seconds);

    [LoggerMessage(EventId = 801, Level = LogLevel.Warning, Message = "openai image {Model} rejected with HTTP {Status}: {Reason}")]
    public static partial void Rejected(ILogger logger, string model, int status, string reason);

    [LoggerMessage(EventId = 802, Level = LogLevel.Information, Message = "openai speech {Model} voice {Voice}: {Characters} characters in {Seconds:0.0} s")]
    public static partial void Spoke(ILogger logger, string model, string voice, int characters, double seconds);

    [LoggerMessage(EventId = 803, Level = LogLevel.Warning, Message = "openai speech {Model} rejected with HTTP {Status}: {Reason}")]
    public static partial void SpeechRejected(ILogger logger, string model, int status, string reason);
}
