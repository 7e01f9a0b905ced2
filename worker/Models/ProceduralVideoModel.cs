using System.Diagnostics;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Media;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models;

/// <summary>
/// The embedded video models (procedural-i2v, procedural-flf2v, procedural-extend): FFmpeg motion from the start image
/// (a slow push-in with a colour drift), cross-faded into an end image when the chunk has one (first-and-last-frame),
/// continuing a previous clip's tail when it has one (extend), or seeded moving gradients without any image. Honours <see cref="ProceduralOptions"/> for latency and failure injection.
/// </summary>
public sealed class ProceduralVideoModel : IVideoModel
{
    private readonly FfmpegRunner _runner;
    private readonly ProceduralOptions _options;
    private readonly TimeProvider _time;

    public ProceduralVideoModel(FfmpegRunner runner, IOptions<ProceduralOptions> options, TimeProvider time)
    {
        _runner = runner;
        _options = options.Value;
        _time = time;
    }

    /// <inheritdoc />
    public async Task<VideoGenerationResult> GenerateAsync(VideoGenerationRequest request, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (_options.LatencySeconds > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(_options.LatencySeconds), _time, cancellationToken);
        }

        switch (_options.FailureMode)
        {
            case "transient":
                throw new TransientTaskException("procedural model: simulated transient failure (Procedural:FailureMode=transient)");
            case "permanent":
                throw new PermanentTaskException("procedural model: simulated content refusal (Procedural:FailureMode=permanent)");
        }

        if (request.StartImagePath is not null && _options.MakesBadSeam(request.TaskKey, request.Attempt))
        {
            // A flash at the seam on demand: the clip starts from a disturbed copy of its start image.
            var disturbed = Path.Combine(Path.GetDirectoryName(request.OutputPath) ?? ".", "bad-seam-start.png");
            await _runner.RunAsync(ProceduralArguments.BadSeamImage(request.StartImagePath, disturbed), "bad_seam", null, null, cancellationToken);
            request = request with { StartImagePath = disturbed, EndImagePath = null, ConditioningVideoPath = null, OverlapFrames = 0 };
        }

        FFMpegCore.FFMpegArgumentProcessor arguments;
        if (request.StartImagePath is null)
        {
            arguments = ProceduralArguments.TextToVideo(request.Prompt, request.Seed, request.ClipSeconds, request.Width, request.Height, request.Fps, request.OutputPath);
        }
        else if (request.EndImagePath is not null)
        {
            // procedural-flf2v: pinned at both ends.
            arguments = ProceduralArguments.FirstLastFrame(request.StartImagePath, request.EndImagePath, request.ClipSeconds, request.Width, request.Height, request.Fps, request.OutputPath);
        }
        else if (request.ConditioningVideoPath is not null && request.OverlapFrames > 0)
        {
            // procedural-extend: the previous clip's tail, then its move carried on.
            var previous = await MediaProbe.ProbeAsync(request.ConditioningVideoPath, cancellationToken);
            var previousFrames = (int)Math.Round(previous.DurationSeconds * previous.Fps);
            arguments = ProceduralArguments.Extend(request.ConditioningVideoPath, previousFrames, request.StartImagePath, request.OverlapFrames, request.ClipSeconds,
                request.Width, request.Height, request.Fps, request.OutputPath);
        }
        else
        {
            arguments = ProceduralArguments.ImageToVideo(request.StartImagePath, request.ClipSeconds, request.Width, request.Height, request.Fps, request.OutputPath, request.Seed);
        }

        await _runner.RunAsync(arguments, "generate", progress, TimeSpan.FromSeconds(request.ClipSeconds), cancellationToken);
        return new VideoGenerationResult(request.OutputPath, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
