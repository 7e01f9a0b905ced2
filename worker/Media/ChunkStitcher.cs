using FFMpegCore;
using Microsoft.Extensions.Logging;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Media;

/// <summary>
/// Joins chunk clips into the final video and trims it to the asked duration: the concat demuxer with stream
/// copy (no re-encode, ~0.1 s for 35 s of video) when the chunks share encoder parameters, which every
/// procedural clip does (<see cref="ClipEncoding"/>).
/// </summary>
public sealed class ChunkStitcher
{
    /// <summary>How far the stitched duration may be from the asked one.</summary>
    public const double ToleranceSeconds = 0.05;

    private readonly FfmpegRunner _runner;
    private readonly ILogger<ChunkStitcher> _logger;

    public ChunkStitcher(FfmpegRunner runner, ILogger<ChunkStitcher> logger)
    {
        _runner = runner;
        _logger = logger;
    }

    /// <summary>The stream-copy argv: <c>-f concat -safe 0 -i list -c copy -t D -movflags +faststart out</c>.</summary>
    public static FFMpegArgumentProcessor Build(IReadOnlyList<string> chunkPaths, double durationSeconds, string outputPath) =>
        FFMpegArguments
            .FromConcatDemuxerInput(chunkPaths)
            .OutputToFile(outputPath, overwrite: true, o => o
                .CopyStreams()
                .WithCustomArgument($"-t {ClipEncoding.Seconds(durationSeconds)} -movflags +faststart"));

    /// <summary>
    /// The fallback argv: the same concat input re-encoded with <see cref="ClipEncoding"/>, for chunks whose
    /// parameters differ (e.g. from another model) or whose GOPs make a stream-copy trim miss the tolerance.
    /// </summary>
    public static FFMpegArgumentProcessor BuildReencode(IReadOnlyList<string> chunkPaths, double durationSeconds, int fps, string outputPath) =>
        FFMpegArguments
            .FromConcatDemuxerInput(chunkPaths)
            .OutputToFile(outputPath, overwrite: true, o => o
                .WithCustomArgument($"-t {ClipEncoding.Seconds(durationSeconds)}")
                .WithClipEncoding(fps));

    /// <summary>
    /// Stitches <paramref name="chunkPaths"/> (in order) into <paramref name="outputPath"/>, trimmed to
    /// <paramref name="durationSeconds"/> ± <see cref="ToleranceSeconds"/>, and returns the probed result.
    /// Throws <see cref="PermanentTaskException"/> when the chunks hold less video than asked.
    /// </summary>
    public async Task<MediaInfo> StitchAsync(IReadOnlyList<string> chunkPaths, double durationSeconds, string outputPath, CancellationToken cancellationToken)
    {
        if (chunkPaths.Count == 0)
        {
            throw new PermanentTaskException("A stitch needs at least one chunk.");
        }

        await _runner.RunAsync(Build(chunkPaths, durationSeconds, outputPath), "stitch", null, null, cancellationToken);
        var result = await MediaProbe.ProbeAsync(outputPath, cancellationToken);
        if (Math.Abs(result.DurationSeconds - durationSeconds) <= ToleranceSeconds)
        {
            return result;
        }

        if (result.DurationSeconds < durationSeconds - ToleranceSeconds)
        {
            throw new PermanentTaskException(
                $"The {chunkPaths.Count} chunks hold {result.DurationSeconds:0.000} s of video, less than the {durationSeconds:0.000} s asked.");
        }

        MediaLog.StitchReencode(_logger, result.DurationSeconds, durationSeconds);
        var fps = (int)Math.Round(result.Fps > 0 ? result.Fps : 24);
        await _runner.RunAsync(BuildReencode(chunkPaths, durationSeconds, fps, outputPath), "stitch_reencode", null, null, cancellationToken);
        result = await MediaProbe.ProbeAsync(outputPath, cancellationToken);
        if (Math.Abs(result.DurationSeconds - durationSeconds) > ToleranceSeconds)
        {
            throw new InvalidDataException($"Stitched video is {result.DurationSeconds:0.000} s, asked {durationSeconds:0.000} s.");
        }

        return result;
    }
}
