using System.Globalization;
using System.Text;
using FFMpegCore;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Media;

/// <summary>
/// A hue/saturation/brightness correction that moves linearly from its start to its end value over a segment (FFmpeg
/// <c>hue</c> with time expressions): <see cref="ColourMatch"/> computes one per chunk so both ends land on the anchor.
/// Hue in degrees, saturation as a factor, brightness in <c>hue</c>'s units (1 = 25.5 luma code values).
/// </summary>
public sealed record HueRamp(double Hue0, double Hue1, double Saturation0, double Saturation1, double Brightness0, double Brightness1)
{
    public bool IsIdentity => Hue0 == 0 && Hue1 == 0 && Saturation0 == 1 && Saturation1 == 1 && Brightness0 == 0 && Brightness1 == 0;
}

/// <summary>Where the subject is, as fractions of the frame's width and height.</summary>
public sealed record Focus(double X, double Y)
{
    public static Focus Centre { get; } = new(0.5, 0.5);
}

/// <summary>
/// One input of the finish: a chunk (a whole clip) or, from a coordinator older than <c>FinishTask.chunks</c>, a take cut
/// out of the raw cut (<paramref name="FromSeconds"/>/<paramref name="ToSeconds"/>). A segment with
/// <paramref name="TransitionInSeconds"/> &gt; 0 starts a new take, entered with <paramref name="Transition"/>; the others
/// continue the take before them. <paramref name="DropFirstFrame"/>: its first frame repeats the previous chunk's last.
/// </summary>
public sealed record FinishSegment(
    string Path,
    double Seconds,
    double SourceFps,
    bool DropFirstFrame = false,
    double TransitionInSeconds = 0,
    string Transition = "",
    HueRamp? Colour = null,
    Focus? Focus = null,
    double? FromSeconds = null,
    double? ToSeconds = null,
    int OverlapFrames = 1)
{
    /// <summary>Frames dropped at its start: with <see cref="DropFirstFrame"/>, the <see cref="OverlapFrames"/> (at least 1) that repeat the chunk before (an extend model repeats several).</summary>
    public int DroppedFrames => DropFirstFrame ? Math.Max(1, OverlapFrames) : 0;

    /// <summary>Seconds the segment covers once its repeated frames are dropped.</summary>
    public double KeptSeconds => DroppedFrames > 0 && SourceFps > 0 ? Seconds - DroppedFrames / SourceFps : Seconds;
}

/// <summary>
/// Text over the picture from <paramref name="StartSeconds"/> to <paramref name="EndSeconds"/> of the finished ad. drawtext reads
/// it from <paramref name="TextPath"/> (written by <see cref="Finisher.RunAsync"/>) with expansion off, so no text needs escaping.
/// <paramref name="Centred"/>: the end card's text, in the middle of the frame; else a title in the lower third.
/// </summary>
public sealed record FinishTitle(string Text, double StartSeconds, double EndSeconds, string TextPath, bool Centred = false);

/// <summary>One rendition the finish writes: the master (16:9) or a crop of it.</summary>
public sealed record FinishOutput(string AspectRatio, int Width, int Height, string Path);

/// <summary>The closing card: <paramref name="Seconds"/> of <paramref name="Background"/> (RRGGBB), entered with a transition.</summary>
public sealed record FinishEndCard(double Seconds, string Background, double TransitionInSeconds, string Transition);

/// <summary>Everything one finish run needs, as local files.</summary>
public sealed record FinishSpec(
    IReadOnlyList<FinishSegment> Segments,
    int SourceWidth,
    int SourceHeight,
    double DurationSeconds,
    int Fps,
    string? LutPath,
    IReadOnlyList<FinishTitle> Titles,
    string FontFile,
    IReadOnlyList<FinishOutput> Outputs,
    string? SoundtrackPath,
    FinishEndCard? EndCard = null,
    string Preset = Finisher.DefaultPreset);

/// <summary>
/// The finish step's FFmpeg run: one decode of every chunk, one encode per rendition.
/// <list type="bullet">
/// <item>Each chunk is its own input: a continuous chunk drops its first frame (it repeats the last frame of the chunk
/// before it), gets its colour ramp (<see cref="ColourMatch"/>), and is normalised to the output frame rate once. The
/// chunks of a take are concatenated; takes (and the end card) are joined with <c>xfade</c> at an offset that overlaps
/// them by the transition's length; the planner added that overlap, so the result is exactly the asked duration.</item>
/// <item>The grade (<c>lut3d</c>) runs at the source size, then <c>scale</c> (lanczos, BT.709 matrix) to each
/// rendition; deliverables are crops of the graded picture that follow each beat's focus point (easing across a
/// transition); titles are drawn per rendition, so they stay inside its title-safe area (10 % margins) whatever the crop.</item>
/// <item>H.264 High, yuv420p, BT.709 tags, <c>+faststart</c>; the soundtrack, when there is one, is stream-copied in.</item>
/// </list>
/// The filter graph goes to a script file (<c>-filter_complex_script</c>), so no shell or argv quoting touches it.
/// </summary>
public static class Finisher
{
    /// <summary>x264 preset of the delivered renditions unless <c>Worker:FinishPreset</c> says otherwise.</summary>
    public const string DefaultPreset = "superfast";

    /// <summary>The x264 presets a worker may be configured with.</summary>
    public static readonly IReadOnlySet<string> Presets = new HashSet<string>(StringComparer.Ordinal)
    {
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
    };

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

    /// <summary>
    /// Where each segment's first kept frame lands in the finished ad, and where each take starts: a take's first
    /// segment starts the transition's length before the take before it ends.
    /// </summary>
    public static IReadOnlyList<double> SegmentStarts(FinishSpec spec)
    {
        var starts = new List<double>(spec.Segments.Count);
        var end = 0.0;
        foreach (var segment in spec.Segments)
        {
            var start = starts.Count == 0 ? 0 : end - segment.TransitionInSeconds;
            starts.Add(start);
            end = start + segment.KeptSeconds;
        }

        return starts;
    }

    /// <summary>The filter graph (one filter chain per line).</summary>
    public static string FilterGraph(FinishSpec spec)
    {
        var graph = new List<string>();
        var fps = spec.Fps.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < spec.Segments.Count; i++)
        {
            var segment = spec.Segments[i];
            var drop = segment.DroppedFrames > 0 ? $"trim=start_frame={segment.DroppedFrames}," : "";
            var colour = segment.Colour is { IsIdentity: false } ramp ? "," + Hue(ramp, segment.KeptSeconds) : "";
            graph.Add($"[{i}:v]{drop}setpts=PTS-STARTPTS,fps={fps},settb=AVTB,setsar=1{colour}[c{i}]");
        }

        // Takes: runs of segments, each run starting at a segment with a transition in (or the first).
        var takes = new List<(List<int> Segments, double TransitionIn, string Transition)>();
        for (var i = 0; i < spec.Segments.Count; i++)
        {
            var segment = spec.Segments[i];
            if (i == 0 || segment.TransitionInSeconds > 0)
            {
                takes.Add(([i], segment.TransitionInSeconds, segment.Transition));
            }
            else
            {
                takes[^1].Segments.Add(i);
            }
        }

        var takeLabels = new List<string>();
        for (var t = 0; t < takes.Count; t++)
        {
            var members = takes[t].Segments;
            if (members.Count == 1)
            {
                takeLabels.Add($"c{members[0]}");
                continue;
            }

            graph.Add($"{string.Concat(members.Select(m => $"[c{m}]"))}concat=n={members.Count}:v=1:a=0[t{t}]");
            takeLabels.Add($"t{t}");
        }

        var takeLengths = takes.Select(t => t.Segments.Sum(m => spec.Segments[m].KeptSeconds)).ToList();
        if (spec.EndCard is { } card)
        {
            graph.Add($"color=c=0x{card.Background}:s={spec.SourceWidth}x{spec.SourceHeight}:r={fps}:d={S(card.Seconds)},format=yuv420p,settb=AVTB,setsar=1[card]");
            takes.Add(([], card.TransitionInSeconds, card.Transition));
            takeLabels.Add("card");
            takeLengths.Add(card.Seconds);
        }

        var current = takeLabels[0];
        var length = takeLengths[0];
        for (var t = 1; t < takes.Count; t++)
        {
            var (_, overlap, transition) = takes[t];
            var name = $"x{t}";
            if (overlap > 0)
            {
                var offset = length - overlap;
                graph.Add($"[{current}][{takeLabels[t]}]xfade=transition={XfadeTransitions[transition]}:duration={S(overlap)}:offset={S(offset)}[{name}]");
                length = offset + takeLengths[t];
            }
            else
            {
                graph.Add($"[{current}][{takeLabels[t]}]concat=n=2:v=1:a=0[{name}]");
                length += takeLengths[t];
            }

            current = name;
        }

        var grade = spec.LutPath is null ? "" : $"lut3d=file={Quote(spec.LutPath)}:interp=tetrahedral,";
        graph.Add($"[{current}]{grade}trim=duration={S(spec.DurationSeconds)},setpts=PTS-STARTPTS,split={spec.Outputs.Count}{string.Concat(spec.Outputs.Select((_, i) => $"[g{i}]"))}");
        for (var i = 0; i < spec.Outputs.Count; i++)
        {
            var output = spec.Outputs[i];
            var crop = output.AspectRatio == "16:9" ? "" : Crop(spec, output) + ",";
            var titles = string.Concat(spec.Titles.Select(t => "," + DrawText(t, output, spec.FontFile)));
            graph.Add($"[g{i}]{crop}scale={output.Width}:{output.Height}:flags=lanczos:out_color_matrix=bt709:out_range=tv,setsar=1{titles},format=yuv420p[o{i}]");
        }

        return string.Join(";\n", graph) + "\n";
    }

    /// <summary>The argv: one input per segment, the soundtrack, the script, then each rendition's encode.</summary>
    public static FFMpegArgumentProcessor Build(FinishSpec spec, string filterScriptPath)
    {
        var arguments = FFMpegArguments.FromFileInput(spec.Segments[0].Path, verifyExists: false, o => o.WithCustomArgument(Range(spec.Segments[0])));
        for (var i = 1; i < spec.Segments.Count; i++)
        {
            var segment = spec.Segments[i];
            arguments = arguments.AddFileInput(segment.Path, verifyExists: false, o => o.WithCustomArgument(Range(segment)));
        }

        if (spec.SoundtrackPath is not null)
        {
            arguments = arguments.AddFileInput(spec.SoundtrackPath, verifyExists: false);
        }

        var outputs = new StringBuilder();
        outputs.Append("-filter_complex_script ").Append(filterScriptPath);
        for (var i = 0; i < spec.Outputs.Count; i++)
        {
            outputs.Append(' ').Append(Encode(spec, i));
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
        foreach (var path in spec.Outputs.Select(o => o.Path).Concat(spec.Titles.Select(t => t.TextPath)).Concat(spec.Segments.Select(s => s.Path))
                     .Append(spec.FontFile).Concat(spec.LutPath is null ? [] : [spec.LutPath]))
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

    private static string Encode(FinishSpec spec, int output)
    {
        var fps = spec.Fps.ToString(CultureInfo.InvariantCulture);
        var audio = spec.SoundtrackPath is null ? "-an" : $"-map {spec.Segments.Count}:a:0 -c:a copy";
        return $"-map [o{output}] -c:v libx264 -preset {spec.Preset} -profile:v high -pix_fmt yuv420p -crf 20 -r {fps} -g {2 * spec.Fps} "
            + "-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv "
            + $"{audio} -t {S(spec.DurationSeconds)} -movflags +faststart";
    }

    private static string Range(FinishSegment segment) => (segment.FromSeconds, segment.ToSeconds) switch
    {
        ({ } from, { } to) => $"-ss {S(from)} -to {S(to)}",
        ({ } from, null) => $"-ss {S(from)}",
        _ => "",
    };

    /// <summary><c>hue</c> moving linearly from the ramp's start to its end over <paramref name="seconds"/>.</summary>
    private static string Hue(HueRamp ramp, double seconds)
    {
        var T = S(Math.Max(seconds, 0.001));
        string Lerp(double a, double b) => a == b ? S(a) : $"'{S(a)}+({S(b - a)})*min(t/{T},1)'";
        return $"hue=h={Lerp(ramp.Hue0, ramp.Hue1)}:s={Lerp(ramp.Saturation0, ramp.Saturation1)}:b={Lerp(ramp.Brightness0, ramp.Brightness1)}";
    }

    /// <summary>
    /// A deliverable's crop of the master: the largest window of its aspect ratio, centred on the focus point of the beat
    /// on screen (clamped to the frame), easing from one focus to the next across the transition between them.
    /// </summary>
    private static string Crop(FinishSpec spec, FinishOutput output)
    {
        var starts = SegmentStarts(spec);
        var focusX = FocusExpression(spec, starts, f => f.X);
        var focusY = FocusExpression(spec, starts, f => f.Y);
        return $"crop=w='2*trunc(min(iw,ih*{output.Width}/{output.Height})/2)':h='2*trunc(min(ih,iw*{output.Height}/{output.Width})/2)'"
            + $":x='clip(({focusX})*iw-ow/2,0,iw-ow)':y='clip(({focusY})*ih-oh/2,0,ih-oh)'";
    }

    /// <summary>f0 + Σ (f(k+1) − f(k)) · clip((t − s(k)) / d(k), 0, 1): a step per focus change, eased over its transition (one frame for a cut).</summary>
    private static string FocusExpression(FinishSpec spec, IReadOnlyList<double> starts, Func<Focus, double> axis)
    {
        var frame = 1.0 / spec.Fps;
        var current = axis(spec.Segments[0].Focus ?? Focus.Centre);
        var expression = new StringBuilder(S(current));
        for (var i = 1; i < spec.Segments.Count; i++)
        {
            var next = axis(spec.Segments[i].Focus ?? Focus.Centre);
            if (next == current)
            {
                continue;
            }

            var ease = Math.Max(spec.Segments[i].TransitionInSeconds, frame);
            expression.Append(CultureInfo.InvariantCulture, $"+({S(next - current)})*clip((t-{S(starts[i])})/{S(ease)},0,1)");
            current = next;
        }

        if (spec.EndCard is not null && current != 0.5)
        {
            // The card's text is centred: the crop returns to the centre as it comes in.
            var cardStart = spec.DurationSeconds - spec.EndCard.Seconds;
            expression.Append(CultureInfo.InvariantCulture, $"+({S(0.5 - current)})*clip((t-{S(cardStart)})/{S(Math.Max(spec.EndCard.TransitionInSeconds, frame))},0,1)");
        }

        return expression.ToString();
    }

    private static string DrawText(FinishTitle title, FinishOutput output, string fontFile)
    {
        var (start, end) = (S(title.StartSeconds), S(title.EndSeconds));
        var fade = S(TitleFadeSeconds);
        var alpha = $"if(lt(t,{start}+{fade}),(t-{start})/{fade},if(gt(t,{end}-{fade}),({end}-t)/{fade},1))";
        // One line must fit 80 % of the narrower side's width at ~0.7 em per character (DejaVu Sans Bold).
        var longest = title.Text.Split('\n').Max(line => line.Length);
        var size = (int)Math.Floor(Math.Min(output.Height / (title.Centred ? 14.0 : 18.0), output.Width * 0.8 / Math.Max(12, longest) / 0.72));
        var y = title.Centred ? "(h-text_h)/2" : $"h*0.9-text_h-{size / 2}";
        return $"drawtext=fontfile={Quote(fontFile)}:textfile={Quote(title.TextPath)}:expansion=none:fontsize={size}:fontcolor=white:borderw={Math.Max(2, size / 14)}:bordercolor=black@0.6"
            + (title.Centred ? $":line_spacing={size / 3}" : "")
            + $":x=(w-text_w)/2:y={y}:alpha='{alpha}':enable='between(t,{start},{end})'";
    }

    /// <summary>A path as a filter option value: in single quotes, which FFmpeg reads literally (paths with quotes are refused before).</summary>
    public static string Quote(string path) => "'" + path + "'";

    private static string S(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);
}
