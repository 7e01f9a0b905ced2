using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using VideoGen.Catalog;
using VideoGen.Worker.Media;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>
/// A video model on Replicate: one prediction per clip. Image-to-video when the chunk has a start image (sent as
/// a data: URI), text-to-video otherwise (with the catalog's text-to-video sibling when this model needs an image).
/// The output is downloaded at once (Replicate deletes outputs after about an hour) and re-encoded to the farm's
/// clip format; the chunk executor probes it, prices it and stores it.
/// </summary>
public sealed class ReplicateVideoModel : IVideoModel
{
    private readonly ModelSpec _spec;
    private readonly ModelSpec? _textToVideo;
    private readonly ReplicatePredictionRunner _runner;
    private readonly FfmpegRunner _ffmpeg;
    private readonly ILogger _logger;

    public ReplicateVideoModel(ModelSpec spec, ModelSpec? textToVideo, ReplicatePredictionRunner runner, FfmpegRunner ffmpeg, ILogger logger)
    {
        _spec = spec;
        _textToVideo = textToVideo;
        _runner = runner;
        _ffmpeg = ffmpeg;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task<VideoGenerationResult> GenerateAsync(VideoGenerationRequest request, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var spec = _spec;
        string? image = null;
        if (_spec.TakesImage && request.StartImagePath is not null)
        {
            image = await DataUri.FromFileAsync(request.StartImagePath, cancellationToken);
        }
        else if (_spec.TakesImage)
        {
            spec = _textToVideo ?? throw new PermanentTaskException(
                $"Model '{_spec.Name}' needs a start image, none was given, and the catalog has no Replicate text-to-video model like it (set Replicate:TextToVideoFallbacks:{_spec.Name}).");
            ReplicateLog.TextToVideoFallback(_logger, _spec.Name, spec.Name);
        }

        var input = new JsonObject { ["prompt"] = request.Prompt };
        if (image is not null)
        {
            input[_runner.Options.ImageInput] = image;
        }

        if (!string.IsNullOrEmpty(_runner.Options.SeedInput))
        {
            input[_runner.Options.SeedInput] = request.Seed;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(request.OutputPath))!;
        var raw = Path.Combine(directory, "provider-output.mp4");
        await _runner.RunAsync(spec, input, raw, fraction => progress?.Report(0.9 * fraction), cancellationToken);

        await _ffmpeg.RunAsync(
            ProviderMediaArguments.NormaliseClip(raw, request.Width, request.Height, request.Fps, request.OutputPath),
            "normalise", null, null, cancellationToken);
        progress?.Report(1);
        return new VideoGenerationResult(request.OutputPath, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}

/// <summary>A Replicate image model for storyboards: one prediction per image, normalised to a PNG of the asked size.</summary>
public sealed class ReplicateImageModel : IImageModel
{
    private readonly ModelSpec _spec;
    private readonly ReplicatePredictionRunner _runner;
    private readonly FfmpegRunner _ffmpeg;

    public ReplicateImageModel(ModelSpec spec, ReplicatePredictionRunner runner, FfmpegRunner ffmpeg)
    {
        _spec = spec;
        _runner = runner;
        _ffmpeg = ffmpeg;
    }

    /// <inheritdoc />
    public async Task<double> RenderAsync(StoryboardImageRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var input = new JsonObject
        {
            ["prompt"] = $"{request.ImagePrompt}. {request.Style}",
            ["width"] = request.Width,
            ["height"] = request.Height,
        };
        var raw = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(request.OutputPath))!, "provider-output.img");
        await _runner.RunAsync(_spec, input, raw, null, cancellationToken);
        await _ffmpeg.RunAsync(ProviderMediaArguments.NormaliseImage(raw, request.Width, request.Height, request.OutputPath), "normalise_image", null, null, cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}

/// <summary>
/// An upscaler on Replicate (a Real-ESRGAN-class video model): one prediction per chunk, the clip sent as a
/// <c>data:</c> URI in <see cref="ReplicateOptions.VideoInput"/>, the output video downloaded at once. The upscale
/// executor probes it and brings it to the master's size.
/// </summary>
public sealed class ReplicateUpscalerModel : IUpscalerModel
{
    private readonly ModelSpec _spec;
    private readonly ReplicatePredictionRunner _runner;

    public ReplicateUpscalerModel(ModelSpec spec, ReplicatePredictionRunner runner)
    {
        _spec = spec;
        _runner = runner;
    }

    /// <inheritdoc />
    public async Task<double> UpscaleAsync(UpscaleRequest request, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var input = new JsonObject { [_runner.Options.VideoInput] = await DataUri.FromFileAsync(request.InputPath, cancellationToken) };
        await _runner.RunAsync(_spec, input, request.OutputPath, fraction => progress?.Report(fraction), cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}

/// <summary>A file as a <c>data:</c> URI (the simplest way to hand Replicate a start image: no upload, no URL to expire).</summary>
internal static class DataUri
{
    public static async Task<string> FromFileAsync(string path, CancellationToken cancellationToken)
    {
        var mime = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jpg" or ".jpeg" => "image/jpeg",
            ".webp" => "image/webp",
            ".gif" => "image/gif",
            ".mp4" => "video/mp4",
            _ => "image/png",
        };
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        return $"data:{mime};base64,{Convert.ToBase64String(bytes)}";
    }
}
