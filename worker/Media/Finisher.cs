using System.Globalization;
using System.Text;
using FFMpegCore;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Media;

/// <summary>A take boundary in the raw cut: where the incoming take starts, its xfade transition and overlap.</summary>
public sealed record FinishCut(double AtSeconds, string Transition, double Seconds);

/// <summary>
/// Text over the picture from <paramref name="StartSeconds"/> to <paramref name="EndSeconds"/> of the finished ad. drawtext reads
/// it from <paramref name="TextPath"/> (written by <see cref="Finisher.RunAsync"/>) with expansion off, so no text needs escaping.
/// </summary>
public sealed record FinishTitle(string Text, double StartSeconds, double EndSeconds, string TextPath);

/// <summary>One rendition the finish writes: the master (16:9) or a crop of it.</summary>
public sealed record FinishOutput(string AspectRatio, int Width, int Height, string Path);

/// <summary>Everything one finish run needs, as local files.</summary>
public sealed record FinishSpec(
    string VideoPath,
    double DurationSeconds,
    IReadOnlyList<FinishCut> Cuts,
    int Fps,
    string? LutPath,
    IReadOnlyList<FinishTitle> Titles,
    string FontFile,
    IReadOnlyList<FinishOutput> Outputs,
    string? SoundtrackPath);

/// <summary>
/// The finish step's FFmpeg run: one decode of the raw cut, one encode per rendition.
/// <list type="bullet">
/// <item>Each take is its own input (<c>-ss</c>/<c>-to</c> on the raw cut, so nothing is buffered), normalised to the
/// output frame rate, and joined to the one before it with <c>xfade</c> at an offset that overlaps the two by the
/// transition's length; the planner added that overlap, so the result is exactly the asked duration.</item>
/// <item>The grade (<c>lut3d</c>) runs at the source size, then <c>scale</c> (lanczos, BT.709 matrix) to each
/// rendition; deliverables are centre crops of the graded picture; titles are drawn per rendition, so they stay inside
/// its title-safe area (10 % margins) whatever the crop.</item>
/// <item>H.264 High, yuv420p, BT.709 tags, <c>+faststart</c>; the soundtrack, when there is one, is stream-copied in.</item>
/// </list>
/// The filter graph goes to a script file (<c>-filter_complex_script</c>), so no shell or argv quoting touches it.
/// </summary>
public static class Finisher
{
    /// <summary>xfade transition of each transition name the API accepts.</summary>
    public static readonly IReadOnlyDictionary<string, string> XfadeTransitions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["dissolve"] = "fade",
        ["fade_black"] = "fadeblack",
        ["wipe"] = "wipeleft",
        ["zoom"] = "zoomin",
    };

    /// <summary>Seconds a title takes to fade in and out.</summary>
    public const double TitleFadeSeconds = 0.3;

    /// <summary>The filter graph (one filter chain per line).</summary>
    public static string FilterGraph(FinishSpec spec)
    {
        var graph = new List<string>();
        var fps = spec.Fps.ToString(CultureInfo.InvariantCulture);
        var takes = spec.Cuts.Count + 1;
        for (var i = 0; i < takes; i++)
        {
            graph.Add($"[{i}:v]fps={fps},settb=AVTB,setpts=PTS-STARTPTS[t{i}]");
        }

        var current = "t0";
        var length = TakeStart(spec, 1) - TakeStart(spec, 0);
        for (var i = 1; i < takes; i++)
        {
            var cut = spec.Cuts[i - 1];
            var offset = length - cut.Seconds;
            var name = $"x{i}";
            graph.Add($"[{current}][t{i}]xfade=transition={XfadeTransitions[cut.Transition]}:duration={S(cut.Seconds)}:offset={S(offset)}[{name}]");
            current = name;
            length = offset + (i + 1 < takes ? TakeStart(spec, i + 1) - cut.AtSeconds : double.NaN);
        }

        var grade = spec.LutPath is null ? "" : $"lut3d=file={Quote(spec.LutPath)}:interp=tetrahedral,";
        graph.Add($"[{current}]{grade}trim=duration={S(spec.DurationSeconds)},setpts=PTS-STARTPTS,split={spec.Outputs.Count}{string.Concat(spec.Outputs.Select((_, i) => $"[g{i}]"))}");
        for (var i = 0; i < spec.Outputs.Count; i++)
        {
            var output = spec.Outputs[i];
            var crop = output.AspectRatio == "16:9" ? "" : $"crop=w='2*trunc(min(iw,ih*{output.Width}/{output.Height})/2)':h='2*trunc(min(ih,iw*{output.Height}/{output.Width})/2)',";
            var titles = string.Concat(spec.Titles.Select(t => "," + DrawText(t, output, spec.FontFile)));
            graph.Add($"[g{i}]{crop}scale={output.Width}:{output.Height}:flags=lanczos:out_color_matrix=bt709:out_range=tv,setsar=1{titles},format=yuv420p[o{i}]");
        }

        return string.Join(";\n", graph) + "\n";
    }

    /// <summary>The argv: one input per take, the soundtrack, the script, then each rendition's encode.</summary>
    public static FFMpegArgumentProcessor Build(FinishSpec spec, string filterScriptPath)
    {
        var takes = spec.Cuts.Count + 1;
        var arguments = FFMpegArguments.FromFileInput(spec.VideoPath, verifyExists: false, o => o.WithCustomArgument(TakeRange(spec, 0)));
        for (var i = 1; i < takes; i++)
        {
            var take = i;
            arguments = arguments.AddFileInput(spec.VideoPath, verifyExists: false, o => o.WithCustomArgument(TakeRange(spec, take)));
        }

        if (spec.SoundtrackPath is not null)
        {
            arguments = arguments.AddFileInput(spec.SoundtrackPath, verifyExists: false);
        }

        var outputs = new StringBuilder();
        outputs.Append("-filter_complex_script ").Append(filterScriptPath);
        for (var i = 0; i < spec.Outputs.Count; i++)
        {
            outputs.Append(' ').Append(Encode(spec, i, takes));
            if (i < spec.Outputs.Count - 1)
            {
                outputs.Append(' ').Append(spec.Outputs[i].Path);
            }
        }

        return arguments.OutputToFile(spec.Outputs[^1].Path, overwrite: true, o => o.WithCustomArgument(outputs.ToString()));
    }

    /// <summary>Writes the filter script into <paramref name="workDirectory"/> and runs the finish; returns the probe of every rendition.</summary>
    public static async Task<IReadOnlyList<MediaInfo>> RunAsync(FfmpegRunner runner, FinishSpec spec, string workDirectory, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        foreach (var path in spec.Outputs.Select(o => o.Path).Concat(spec.Titles.Select(t => t.TextPath)).Append(spec.VideoPath).Append(spec.FontFile).Concat(spec.LutPath is null ? [] : [spec.LutPath]))
        {
            if (path.IndexOfAny(['\'', '\n', '\r', ' ']) >= 0)
            {
                throw new PermanentTaskException("The finish's working paths must not contain quotes, spaces or line breaks.");
            }
        }

        foreach (var title in spec.Titles)
        {
            await File.WriteAllTextAsync(title.TextPath, title.Text, cancellationToken);
        }

        var script = Path.Combine(workDirectory, "finish.filtergraph");
        await File.WriteAllTextAsync(script, FilterGraph(spec), cancellationToken);
        await runner.RunAsync(Build(spec, script), "finish", progress, TimeSpan.FromSeconds(spec.DurationSeconds), cancellationToken);
        var probes = new List<MediaInfo>();
        foreach (var output in spec.Outputs)
        {
            probes.Add(await MediaProbe.ProbeAsync(output.Path, cancellationToken));
        }

        return probes;
    }

    private static string Encode(FinishSpec spec, int output, int takes)
    {
        var fps = spec.Fps.ToString(CultureInfo.InvariantCulture);
        var audio = spec.SoundtrackPath is null ? "-an" : $"-map {takes}:a:0 -c:a copy";
        return $"-map [o{output}] -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -crf 20 -r {fps} -g {2 * spec.Fps} "
            + "-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv "
            + $"{audio} -t {S(spec.DurationSeconds)} -movflags +faststart";
    }

    /// <summary>Where take <paramref name="take"/> starts in the raw cut (0 for the first).</summary>
    private static double TakeStart(FinishSpec spec, int take) =>
        take == 0 ? 0 : take - 1 < spec.Cuts.Count ? spec.Cuts[take - 1].AtSeconds : double.PositiveInfinity;

    private static string TakeRange(FinishSpec spec, int take)
    {
        var start = TakeStart(spec, take);
        var end = TakeStart(spec, take + 1);
        return double.IsPositiveInfinity(end) ? $"-ss {S(start)}" : $"-ss {S(start)} -to {S(end)}";
    }

    private static string DrawText(FinishTitle title, FinishOutput output, string fontFile)
    {
        // One title line must fit 80 % of the narrower side's width at ~0.7 em per character (DejaVu Sans Bold).
        var size = (int)Math.Floor(Math.Min(output.Height / 18.0, output.Width * 0.8 / Math.Max(12, title.Text.Length) / 0.72));
        var (start, end) = (S(title.StartSeconds), S(title.EndSeconds));
        var fade = S(TitleFadeSeconds);
        var alpha = $"if(lt(t,{start}+{fade}),(t-{start})/{fade},if(gt(t,{end}-{fade}),({end}-t)/{fade},1))";
        return $"drawtext=fontfile={Quote(fontFile)}:textfile={Quote(title.TextPath)}:expansion=none:fontsize={size}:fontcolor=white:borderw={Math.Max(2, size / 14)}:bordercolor=black@0.6"
            + $":x=(w-text_w)/2:y=h*0.9-text_h-{size / 2}:alpha='{alpha}':enable='between(t,{start},{end})'";
    }

    /// <summary>A path as a filter option value: in single quotes, which FFmpeg reads literally (paths with quotes are refused before).</summary>
    public static string Quote(string path) => "'" + path + "'";

    private static string S(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);
}
