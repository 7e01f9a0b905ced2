using System.Globalization;
using System.Text;
using FFMpegCore;

namespace VideoGen.Worker.Media;

/// <summary>A frame's mean colour in 8-bit Y'CbCr (FFmpeg <c>signalstats</c> YAVG, UAVG, VAVG).</summary>
public readonly record struct MeanColour(double Y, double U, double V)
{
    /// <summary>Hue angle of the mean chroma, in degrees (the angle FFmpeg's <c>hue=h</c> adds to).</summary>
    public double HueDegrees => Math.Atan2(V - 128, U - 128) * 180 / Math.PI;

    /// <summary>Length of the mean chroma vector.</summary>
    public double Chroma => Math.Sqrt((U - 128) * (U - 128) + (V - 128) * (V - 128));

    /// <summary>Euclidean distance in Y'CbCr code values: the colour distance this project measures seams and drift with.</summary>
    public double DistanceTo(MeanColour other) =>
        Math.Sqrt((Y - other.Y) * (Y - other.Y) + (U - other.U) * (U - other.U) + (V - other.V) * (V - other.V));
}

/// <summary>What colour matching measured of one chunk: its first kept frame, its last frame, and its anchor.</summary>
public sealed record ChunkColour(MeanColour First, MeanColour Last, MeanColour Anchor);

/// <summary>
/// Matches each chunk's colour to its anchor (the storyboard its take started from, or the first chunk's first frame)
/// rather than to the chunk before it, so drift cannot accumulate along a chain of continuous chunks. The correction is a
/// <see cref="HueRamp"/> per chunk: at its first kept frame it moves that frame's mean colour onto the anchor's (hue
/// rotation, chroma gain, luma offset), at its last frame it does the same for the last frame, and in between it moves
/// linearly. Both sides of every continuous seam therefore land on the anchor: the seam is closed and the chain cannot drift.
/// Corrections are clamped (hue ±<see cref="MaxHueDegrees"/>, chroma gain <see cref="MinSaturation"/>–<see cref="MaxSaturation"/>,
/// luma ±<see cref="MaxLumaOffset"/>), so a take whose content really changes colour is eased, not flattened.
/// </summary>
public static class ColourMatch
{
    public const double MaxHueDegrees = 60;
    public const double MinSaturation = 0.6;
    public const double MaxSaturation = 1.6;
    public const double MaxLumaOffset = 40;

    /// <summary>Luma code values per unit of <c>hue</c>'s brightness option (measured: b=1 adds 25 to YAVG, limited range).</summary>
    public const double LumaPerBrightness = 25.5;

    /// <summary>Below this chroma length a colour is grey: its hue is noise, so it gets no rotation or gain.</summary>
    public const double GreyChroma = 4;

    /// <summary>
    /// The ramps of a cut's chunks in order. A chunk that starts a take (or the first) moves its first frame onto its
    /// anchor, as <see cref="Ramp"/> does. A chunk that <paramref name="continues"/> the one before it (it started from that
    /// chunk's last frame) starts with the correction that lands its first frame where the chunk before ended, so the
    /// seam stays closed even where a correction is clamped; it ends on its anchor as every chunk does. Without this, a
    /// chain drifting past 180° of hue would flip its clamped correction from one side to the other at a seam (−60° at the
    /// end of one chunk, +60° at the start of the next): a jump at the seam instead of a sweep across the chunk.
    /// </summary>
    public static IReadOnlyList<HueRamp> Ramps(IReadOnlyList<ChunkColour> colours, IReadOnlyList<bool> continues)
    {
        var ramps = new List<HueRamp>(colours.Count);
        for (var i = 0; i < colours.Count; i++)
        {
            var ramp = Ramp(colours[i]);
            if (i > 0 && continues[i])
            {
                var (before, end, first) = (colours[i - 1].Last, ramps[i - 1], colours[i].First);
                var grey = before.Chroma < GreyChroma || first.Chroma < GreyChroma;
                var h0 = end.Hue1 + (grey ? 0 : Wrap(before.HueDegrees - first.HueDegrees));
                var s0 = end.Saturation1 * (grey ? 1 : before.Chroma / first.Chroma);
                var b0 = end.Brightness1 + (before.Y - first.Y) / LumaPerBrightness;
                // The seam's own step is small; the bounds only keep a broken measurement from doing harm.
                ramp = ramp with
                {
                    Hue0 = Round(Math.Clamp(h0, -MaxHueDegrees - SeamAllowanceDegrees, MaxHueDegrees + SeamAllowanceDegrees)),
                    Saturation0 = Round(Math.Clamp(s0, MinSaturation, MaxSaturation)),
                    Brightness0 = Round(Math.Clamp(b0, -MaxLumaOffset / LumaPerBrightness, MaxLumaOffset / LumaPerBrightness)),
                };
            }

            ramps.Add(ramp);
        }

        return ramps;
    }

    /// <summary>How far past <see cref="MaxHueDegrees"/> a continuous chunk's first correction may go to close its seam.</summary>
    public const double SeamAllowanceDegrees = 30;

    /// <summary>The ramp that moves <paramref name="colour"/>'s first and last frames onto its anchor.</summary>
    public static HueRamp Ramp(ChunkColour colour)
    {
        var (h0, s0, b0) = Correction(colour.First, colour.Anchor);
        var (h1, s1, b1) = Correction(colour.Last, colour.Anchor);
        // Interpolate the short way round.
        h1 = h0 + Wrap(h1 - h0);
        h1 = Math.Clamp(h1, -MaxHueDegrees, MaxHueDegrees);
        return new HueRamp(Round(h0), Round(h1), Round(s0), Round(s1), Round(b0), Round(b1));
    }

    private static (double Hue, double Saturation, double Brightness) Correction(MeanColour frame, MeanColour anchor)
    {
        var grey = frame.Chroma < GreyChroma || anchor.Chroma < GreyChroma;
        var hue = grey ? 0 : Math.Clamp(Wrap(anchor.HueDegrees - frame.HueDegrees), -MaxHueDegrees, MaxHueDegrees);
        var saturation = grey ? 1 : Math.Clamp(anchor.Chroma / frame.Chroma, MinSaturation, MaxSaturation);
        var brightness = Math.Clamp(anchor.Y - frame.Y, -MaxLumaOffset, MaxLumaOffset) / LumaPerBrightness;
        return (hue, saturation, brightness);
    }

    private static double Wrap(double degrees) => degrees - 360 * Math.Round(degrees / 360);

    private static double Round(double value) => Math.Round(value, 3);

    /// <summary>
    /// The analysis run: for every chunk its first kept frame (frame 1 when it drops a repeated frame) and its last frame
    /// (the input opened again half a second before its end), and every anchor image, each scaled to 64×36 (area
    /// average) and measured with <c>signalstats</c>, printed to one file per stream. Decodes a handful of frames per chunk.
    /// </summary>
    public static FFMpegArgumentProcessor BuildAnalysis(IReadOnlyList<FinishSegment> chunks, IReadOnlyList<string> anchors, string statsDirectory)
    {
        FFMpegArguments? arguments = null;
        void Add(string path, string options) => arguments = arguments is null
            ? FFMpegArguments.FromFileInput(path, verifyExists: false, o => o.WithCustomArgument(options))
            : arguments.AddFileInput(path, verifyExists: false, o => o.WithCustomArgument(options));

        var graph = new List<string>();
        var maps = new StringBuilder();
        var input = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var first = chunks[i].DroppedFrames;
            Add(chunks[i].Path, "");
            graph.Add($"[{input++}:v]trim=start_frame={first}:end_frame={first + 1},{Measure(statsDirectory, $"first-{i}")}[f{i}]");
            Add(chunks[i].Path, "-sseof -0.5");
            graph.Add($"[{input++}:v]{Measure(statsDirectory, $"last-{i}")}[l{i}]");
            maps.Append(CultureInfo.InvariantCulture, $"-map [f{i}] -map [l{i}] ");
        }

        for (var a = 0; a < anchors.Count; a++)
        {
            Add(anchors[a], "");
            graph.Add($"[{input++}:v]{Measure(statsDirectory, $"anchor-{a}")}[a{a}]");
            maps.Append(CultureInfo.InvariantCulture, $"-map [a{a}] ");
        }

        var script = string.Join(";\n", graph);
        return arguments!.OutputToFile("-", overwrite: false, o => o
            .WithCustomArgument($"-filter_complex \"{script.Replace("\n", " ", StringComparison.Ordinal)}\" {maps}-f null"));
    }

    private static string Measure(string directory, string name) =>
        $"scale=64:36:flags=area,signalstats,metadata=mode=print:file={Finisher.Quote(Path.Combine(directory, name + ".txt"))}";

    /// <summary>Runs the analysis and returns each chunk's colours (anchor index per chunk: -1 = the first chunk's first frame).</summary>
    public static async Task<IReadOnlyList<ChunkColour>> MeasureAsync(
        FfmpegRunner runner, IReadOnlyList<FinishSegment> chunks, IReadOnlyList<string> anchors, IReadOnlyList<int> anchorOfChunk,
        string workDirectory, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(workDirectory, "colour");
        Directory.CreateDirectory(directory);
        await runner.RunAsync(BuildAnalysis(chunks, anchors, directory), "colour_analysis", null, null, cancellationToken);
        var anchorColours = new List<MeanColour>();
        for (var a = 0; a < anchors.Count; a++)
        {
            anchorColours.Add(ReadLast(Path.Combine(directory, $"anchor-{a}.txt")));
        }

        var firstOfJob = ReadLast(Path.Combine(directory, "first-0.txt"));
        var result = new List<ChunkColour>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var anchor = anchorOfChunk[i] >= 0 ? anchorColours[anchorOfChunk[i]] : firstOfJob;
            result.Add(new ChunkColour(ReadLast(Path.Combine(directory, $"first-{i}.txt")), ReadLast(Path.Combine(directory, $"last-{i}.txt")), anchor));
        }

        return result;
    }

    /// <summary>The mean colour of the last frame printed in a <c>metadata=mode=print</c> file.</summary>
    public static MeanColour ReadLast(string path) =>
        ReadAll(path) is { Count: > 0 } frames ? frames[^1] : throw new InvalidDataException($"No frame was measured in {Path.GetFileName(path)}.");

    /// <summary>The mean colour of every frame printed in a <c>metadata=mode=print</c> file of <c>signalstats</c>, in order.</summary>
    public static IReadOnlyList<MeanColour> ReadAll(string path) => ReadAll(File.ReadLines(path));

    /// <summary>The mean colour of every frame in the lines of a <c>metadata=mode=print</c> output of <c>signalstats</c>, in order.</summary>
    public static IReadOnlyList<MeanColour> ReadAll(IEnumerable<string> lines)
    {
        double? y = null, u = null, v = null;
        var frames = new List<MeanColour>();
        foreach (var line in lines)
        {
            if (line.StartsWith("frame:", StringComparison.Ordinal))
            {
                (y, u, v) = (null, null, null);
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                continue;
            }

            switch (line.AsSpan(0, eq))
            {
                case "lavfi.signalstats.YAVG": y = Parse(line, eq); break;
                case "lavfi.signalstats.UAVG": u = Parse(line, eq); break;
                case "lavfi.signalstats.VAVG": v = Parse(line, eq); break;
                default: continue;
            }

            if (y is { } yy && u is { } uu && v is { } vv)
            {
                frames.Add(new MeanColour(yy, uu, vv));
                (y, u, v) = (null, null, null);
            }
        }

        return frames;
    }

    private static double Parse(string line, int eq) => double.Parse(line.AsSpan(eq + 1), CultureInfo.InvariantCulture);
}
