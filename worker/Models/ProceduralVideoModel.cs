using System.Diagnostics;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Media;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models;

/// <summary>
/// The embedded video model: FFmpeg motion from the start image (a slow push-in with a colour drift), or seeded
/// moving gradients without one. Honours <see cref="ProceduralOptions"/> for latency and failure injection.
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

        var arguments = request.StartImagePath is null
            ? ProceduralArguments.TextToVideo(request.Prompt, request.Seed, request.ClipSeconds, request.Width, request.Height, request.Fps, request.OutputPath)
            : ProceduralArguments.ImageToVideo(request.StartImagePath, request.ClipSeconds, request.Width, request.Height, request.Fps, request.OutputPath, request.Seed);
        await _runner.RunAsync(arguments, "generate", progress, TimeSpan.FromSeconds(request.ClipSeconds), cancellationToken);
        return new VideoGenerationResult(request.OutputPath, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
