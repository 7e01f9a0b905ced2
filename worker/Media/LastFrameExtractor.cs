using FFMpegCore;

namespace VideoGen.Worker.Media;

/// <summary>
/// Extracts a clip's true last frame as a PNG: the start image of the next, continuous chunk.
/// </summary>
/// <remarks>
/// <c>-sseof -0.5</c> seeks half a second before the end; <c>reverse</c> holds those frames (a dozen at 24 fps) and
/// hands over the last one first, so <c>-frames:v 1</c> encodes one PNG: the last frame, not the first after the seek
/// point (STACK.md). Writing every frame with <c>-update 1</c> gives the same pixels at about twice the CPU (a PNG
/// encode per frame).
/// </remarks>
public sealed class LastFrameExtractor
{
    private readonly FfmpegRunner _runner;

    public LastFrameExtractor(FfmpegRunner runner)
    {
        _runner = runner;
    }

    /// <summary>The FFmpeg arguments: <c>-sseof -0.5 -i clip -vf reverse -frames:v 1 -update 1 out.png</c>.</summary>
    public static FFMpegArgumentProcessor Build(string clipPath, string outputPngPath) =>
        FFMpegArguments
            .FromFileInput(clipPath, verifyExists: true, o => o.WithCustomArgument("-sseof -0.5"))
            .OutputToFile(outputPngPath, overwrite: true, o => o.WithCustomArgument("-vf reverse -frames:v 1 -update 1"));

    /// <summary>Writes the last frame of <paramref name="clipPath"/> to <paramref name="outputPngPath"/>.</summary>
    public async Task ExtractAsync(string clipPath, string outputPngPath, CancellationToken cancellationToken)
    {
        await _runner.RunAsync(Build(clipPath, outputPngPath), "extract", null, null, cancellationToken);
        if (!File.Exists(outputPngPath))
        {
            throw new InvalidDataException($"ffmpeg wrote no last frame for '{Path.GetFileName(clipPath)}'.");
        }
    }
}
