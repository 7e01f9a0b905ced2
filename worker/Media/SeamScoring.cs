using System.Globalization;
using System.Text.RegularExpressions;
using FFMpegCore;

namespace VideoGen.Worker.Media;

/// <summary>
/// What the seam gate measures of a continuous chunk: how its first new frame joins the frame it continues.
/// <paramref name="Ssim"/>: FFmpeg's SSIM (All) of the two; <paramref name="ColourDistance"/>: their mean colours' distance in
/// Y'CbCr code values (<see cref="MeanColour.DistanceTo"/>); <paramref name="MotionJump"/>: the mean luma change across
/// the seam (signalstats YDIF) beyond the clip's own median change per frame over its next frames, at least 0.
/// </summary>
public sealed record SeamMeasure(double Ssim, double ColourDistance, double MotionJump);

/// <summary>
/// Scores a seam with one FFmpeg run: the conditioning image and the clip's frames from <c>firstNewFrame</c> on (the
/// frame after an extend model's overlap; frame 0 otherwise), both at the clip's size; SSIM of the image and that frame to
/// one stats file, signalstats of the image followed by <see cref="FramesAfter"/> frames to another. Pure builder and
/// parsers, and the run.
/// </summary>
public static partial class SeamScoring
{
    /// <summary>Frames of the clip measured after the seam: their median luma change is the clip's own motion.</summary>
    public const int FramesAfter = 6;

    /// <summary>The FFmpeg arguments (outputs go to null; the measures to the two stats files).</summary>
    public static FFMpegArgumentProcessor Build(string conditioningImage, string clip, int firstNewFrame, int width, int height, string ssimFile, string statsFile)
    {
        var graph = string.Create(CultureInfo.InvariantCulture,
            $"[0:v]scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p,split=2[ca][cb];" +
            $"[1:v]trim=start_frame={firstNewFrame}:end_frame={firstNewFrame + FramesAfter},setpts=PTS-STARTPTS,scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p,split=2[fa][fb];" +
            $"[fa]trim=end_frame=1[f0];" +
            $"[ca][f0]ssim=stats_file={Finisher.Quote(ssimFile)}[s];" +
            $"[cb][fb]concat=n=2:v=1:a=0,signalstats,metadata=mode=print:file={Finisher.Quote(statsFile)}[m]");
        return FFMpegArguments
            .FromFileInput(conditioningImage, verifyExists: true)
            .AddFileInput(clip, verifyExists: true)
            .OutputToFile("-", overwrite: false, o => o.WithCustomArgument($"-filter_complex \"{graph}\" -map \"[s]\" -map \"[m]\" -f null"));
    }

    /// <summary>Measures the seam between <paramref name="conditioningImage"/> and frame <paramref name="firstNewFrame"/> of <paramref name="clip"/>.</summary>
    public static async Task<SeamMeasure> MeasureAsync(FfmpegRunner runner, string conditioningImage, string clip, int firstNewFrame, int width, int height,
        string workDirectory, CancellationToken cancellationToken)
    {
        var ssimFile = Path.Combine(workDirectory, "seam-ssim.txt");
        var statsFile = Path.Combine(workDirectory, "seam-stats.txt");
        await runner.RunAsync(Build(conditioningImage, clip, firstNewFrame, width, height, ssimFile, statsFile), "seam", null, null, cancellationToken);
        return Read(File.ReadAllText(ssimFile), File.ReadAllLines(statsFile));
    }

    /// <summary>The measure from the two files' contents.</summary>
    public static SeamMeasure Read(string ssimStats, IReadOnlyList<string> signalStats)
    {
        var ssim = SsimAll().Match(ssimStats) is { Success: true } m
            ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidDataException("FFmpeg measured no SSIM at the seam.");
        var colours = ColourMatch.ReadAll(signalStats);
        var ydif = signalStats.Where(l => l.StartsWith("lavfi.signalstats.YDIF=", StringComparison.Ordinal))
            .Select(l => double.Parse(l.AsSpan(l.IndexOf('=') + 1), CultureInfo.InvariantCulture)).ToList();
        if (colours.Count < 2 || ydif.Count < 3)
        {
            throw new InvalidDataException($"FFmpeg measured {colours.Count} frames at the seam; the clip is too short after its overlap.");
        }

        // ydif[0] is the image (nothing before it), ydif[1] the seam, the rest the clip's own motion.
        var own = ydif.Skip(2).Order().ToList();
        var median = own[own.Count / 2];
        return new SeamMeasure(ssim, colours[0].DistanceTo(colours[1]), Math.Max(0, ydif[1] - median));
    }

    [GeneratedRegex(@"All:([0-9.]+)")]
    private static partial Regex SsimAll();
}
