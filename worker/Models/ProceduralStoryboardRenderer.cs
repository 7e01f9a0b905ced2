using System.Diagnostics;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models;

/// <summary>The embedded image model: one PNG per beat, visibly different per beat (colours and shapes from the beat).</summary>
public sealed class ProceduralStoryboardRenderer : IImageModel
{
    private readonly FfmpegRunner _runner;

    public ProceduralStoryboardRenderer(FfmpegRunner runner)
    {
        _runner = runner;
    }

    /// <inheritdoc />
    public async Task<double> RenderAsync(StoryboardImageRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var arguments = ProceduralArguments.Storyboard(
            request.BeatIndex, request.BeatName, request.ShotDescription, request.Subject, request.Width, request.Height, request.OutputPath);
        await _runner.RunAsync(arguments, "storyboard", null, null, cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
