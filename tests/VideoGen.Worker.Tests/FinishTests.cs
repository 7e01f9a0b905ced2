using System.Globalization;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Tests;

/// <summary>Two different 5 s takes joined by stream copy into a 10 s raw cut, and a 9.5 s soundtrack, made once.</summary>
public sealed class RawCutFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    internal TempFolder Folder => _folder;

    public string RawCut => _folder.File("stitched.mp4");

    public string Soundtrack => _folder.File("soundtrack.m4a");

    /// <summary>Take one (dark blue, 5 s) and take two (bright yellow, 5 s).</summary>
    public string TakeA => _folder.File("a.mp4");

    public string TakeB => _folder.File("b.mp4");

    /// <summary>Frames 0–119 of a moving test pattern, and frames 119–238: the second chunk starts with the first's last frame.</summary>
    public string MovingA => _folder.File("moving-a.mp4");

    public string MovingB => _folder.File("moving-b.mp4");

    public async Task InitializeAsync()
    {
        var token = Timeouts.After(90);
        string[] encode = [.. ClipEncoding.Arguments(24).Split(' ')];
        // Take one is dark blue, take two bright yellow: a blend between them is unmistakable.
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0x102060:size=854x480:rate=24:duration=5", .. encode, _folder.File("a.mp4")]);
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0xF0E020:size=854x480:rate=24:duration=5", .. encode, _folder.File("b.mp4")]);
        await File.WriteAllTextAsync(_folder.File("list.txt"), $"file '{_folder.File("a.mp4")}'\nfile '{_folder.File("b.mp4")}'\n", token);
        await FfmpegProbe.RunAsync(token, "-y", "-f", "concat", "-safe", "0", "-i", _folder.File("list.txt"), "-c", "copy", RawCut);
        // A moving pattern (every frame differs from the one before), cut as an image-to-video model chains it.
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=24:duration=10", "-vf", "trim=start_frame=0:end_frame=120", .. encode, MovingA]);
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=24:duration=10", "-vf", "trim=start_frame=119:end_frame=239,setpts=PTS-STARTPTS", .. encode, MovingB]);
        await FfmpegProbe.RunAsync(token, "-y", "-f", "lavfi", "-i", "aevalsrc=0.2*sin(2*PI*440*t)|0.2*sin(2*PI*440*t):s=48000:d=9.5",
            "-c:a", "aac", "-b:a", "128k", Soundtrack);
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class FinishTests : IClassFixture<RawCutFixture>
{
    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    private readonly RawCutFixture _fixture;

    public FinishTests(RawCutFixture fixture)
    {
        _fixture = fixture;
    }

    private FinishSpec Spec(string name, bool titles = true, bool soundtrack = true, bool vertical = true, string? lut = null) => new(
        [new FinishSegment(_fixture.TakeA, 5, 24), new FinishSegment(_fixture.TakeB, 5, 24, TransitionInSeconds: 0.5, Transition: "dissolve")],
        854,
        480,
        9.5,
        24,
        lut,
        titles ? [new FinishTitle("Titanium smartwatch", 1, 4, _fixture.Folder.File($"{name}-title.txt"))] : [],
        Font,
        vertical
            ? [new("16:9", 1280, 720, _fixture.Folder.File($"{name}.mp4")), new("9:16", 720, 1280, _fixture.Folder.File($"{name}-9x16.mp4"))]
            : [new("16:9", 1280, 720, _fixture.Folder.File($"{name}.mp4"))],
        soundtrack ? _fixture.Soundtrack : null);

    [Fact]
    public void FilterGraph_IsPinned()
    {
        // Take one: a reference chunk and a continuous one (repeated frame dropped, colour ramp); take two entered with a
        // wipe and framed right of centre; the end card entered with a dissolve.
        var spec = new FinishSpec(
            [
                new FinishSegment("/w/0.mp4", 5, 24, Colour: new HueRamp(0, 2, 1, 1, 0, 0)),
                new FinishSegment("/w/1.mp4", 5, 24, DropFirstFrame: true, Colour: new HueRamp(-3.5, 4, 1, 1.2, 0.1, 0)),
                new FinishSegment("/w/2.mp4", 5, 24, TransitionInSeconds: 1, Transition: "wipe", Colour: new HueRamp(0, 0, 1, 1, 0, 0), Focus: new Focus(0.75, 0.5)),
            ],
            854, 480, 14, 24, "/w/warm.cube",
            [new FinishTitle("Big news", 0.25, 3.5, "/w/title-0.txt"), new FinishTitle("Watch\nAvailable now", 12, 14, "/w/end-card.txt", Centred: true)], "/f/font.ttf",
            [new("16:9", 1920, 1080, "/w/final.mp4"), new("1:1", 1080, 1080, "/w/final-1x1.mp4")], "/w/soundtrack.m4a",
            new FinishEndCard(2.5, "101418", 0.5, "dissolve"));

        var title = "drawtext=fontfile='/f/font.ttf':textfile='/w/title-0.txt':expansion=none:fontsize={0}:fontcolor=white:borderw={1}:bordercolor=black@0.6"
            + ":x=(w-text_w)/2:y=h*0.9-text_h-{2}:alpha='if(lt(t,0.25+0.3),(t-0.25)/0.3,if(gt(t,3.5-0.3),(3.5-t)/0.3,1))':enable='between(t,0.25,3.5)'";
        var card = "drawtext=fontfile='/f/font.ttf':textfile='/w/end-card.txt':expansion=none:fontsize={0}:fontcolor=white:borderw={1}:bordercolor=black@0.6"
            + ":line_spacing={2}:x=(w-text_w)/2:y=(h-text_h)/2:alpha='if(lt(t,12+0.3),(t-12)/0.3,if(gt(t,14-0.3),(14-t)/0.3,1))':enable='between(t,12,14)'";
        // Take two starts at 5 + 4.958 - 1 = 8.958 s; the focus eases to 0.75 over its wipe and back to the centre as the card comes in at 11.5 s.
        var focusX = "0.5+(0.25)*clip((t-8.958)/1,0,1)+(-0.25)*clip((t-11.5)/0.5,0,1)";
        Assert.Equal(
            "[0:v]setpts=PTS-STARTPTS,fps=24,settb=AVTB,setsar=1,hue=h='0+(2)*min(t/5,1)':s=1:b=0[c0];\n"
            + "[1:v]trim=start_frame=1,setpts=PTS-STARTPTS,fps=24,settb=AVTB,setsar=1,hue=h='-3.5+(7.5)*min(t/4.958,1)':s='1+(0.2)*min(t/4.958,1)':b='0.1+(-0.1)*min(t/4.958,1)'[c1];\n"
            + "[2:v]setpts=PTS-STARTPTS,fps=24,settb=AVTB,setsar=1[c2];\n"
            + "[c0][c1]concat=n=2:v=1:a=0[t0];\n"
            + "color=c=0x101418:s=854x480:r=24:d=2.5,format=yuv420p,settb=AVTB,setsar=1[card];\n"
            + "[t0][c2]xfade=transition=wipeleft:duration=1:offset=8.958[x1];\n"
            + "[x1][card]xfade=transition=fade:duration=0.5:offset=13.458[x2];\n"
            + "[x2]lut3d=file='/w/warm.cube':interp=tetrahedral,trim=duration=14,setpts=PTS-STARTPTS,split=2[g0][g1];\n"
            + "[g0]scale=1920:1080:flags=lanczos:out_color_matrix=bt709:out_range=tv,setsar=1,"
            + string.Format(CultureInfo.InvariantCulture, title, 60, 4, 30) + "," + string.Format(CultureInfo.InvariantCulture, card, 77, 5, 25) + ",format=yuv420p[o0];\n"
            + "[g1]crop=w='2*trunc(min(iw,ih*1080/1080)/2)':h='2*trunc(min(ih,iw*1080/1080)/2)'"
            + $":x='clip(({focusX})*iw-ow/2,0,iw-ow)':y='clip((0.5)*ih-oh/2,0,ih-oh)',"
            + "scale=1080:1080:flags=lanczos:out_color_matrix=bt709:out_range=tv,setsar=1,"
            + string.Format(CultureInfo.InvariantCulture, title, 60, 4, 30) + "," + string.Format(CultureInfo.InvariantCulture, card, 77, 5, 25) + ",format=yuv420p[o1]\n",
            Finisher.FilterGraph(spec));
    }

    [Fact]
    public void Arguments_ArePinned_OneInputPerChunk_SoundtrackCopied_EveryRenditionTaggedAndFaststart()
    {
        var spec = new FinishSpec(
            [new FinishSegment("/w/0.mp4", 5, 24), new FinishSegment("/w/1.mp4", 5, 24, TransitionInSeconds: 0.5, Transition: "zoom")],
            854, 480, 9.5, 24, null, [], Font,
            [new("16:9", 1280, 720, "/w/final.mp4"), new("9:16", 720, 1280, "/w/final-9x16.mp4")], "/w/a.m4a", Preset: "ultrafast");
        const string encode = "-c:v libx264 -preset ultrafast -profile:v high -pix_fmt yuv420p -crf 20 -r 24 -g 48 -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv -map 2:a:0 -c:a copy -t 9.5 -movflags +faststart";

        Assert.Equal(
            "-i \"/w/0.mp4\" -i \"/w/1.mp4\" -i \"/w/a.m4a\" -filter_complex_script /w/f.txt "
            + $"-map [o0] {encode} /w/final.mp4 -map [o1] {encode} \"/w/final-9x16.mp4\" -y",
            Finisher.Build(spec, "/w/f.txt").Arguments);
    }

    [Fact]
    public void Arguments_FromAnOlderCoordinator_CutTheRawCutIntoTakes()
    {
        var spec = new FinishSpec(
            [new FinishSegment("/w/s.mp4", 5, 24, FromSeconds: 0, ToSeconds: 5), new FinishSegment("/w/s.mp4", 5, 24, TransitionInSeconds: 0.5, Transition: "zoom", FromSeconds: 5)],
            854, 480, 9.5, 24, null, [], Font, [new("16:9", 1280, 720, "/w/final.mp4")], null);

        Assert.StartsWith("-ss 0 -to 5 -i \"/w/s.mp4\" -ss 5 -i \"/w/s.mp4\" -filter_complex_script /w/f.txt -map [o0]", Finisher.Build(spec, "/w/f.txt").Arguments);
    }

    [Theory]
    [InlineData(30.0, 5.0, 20.0, 5.0, 30.0)]    // a hue drift of 5° per chunk end, nothing else
    [InlineData(-170.0, 170.0, 0.0, 10.0, 20.0)] // across ±180°: interpolate the short way
    public void Ramp_MovesBothEndsOfAChunkOntoTheAnchor(double anchorHue, double firstHue, double lastHueShift, double anchorLumaOffset, double chroma)
    {
        static MeanColour At(double y, double hue, double chroma) =>
            new(y, 128 + chroma * Math.Cos(hue * Math.PI / 180), 128 + chroma * Math.Sin(hue * Math.PI / 180));
        var anchor = At(100 + anchorLumaOffset, anchorHue, chroma);
        var first = At(100, firstHue, chroma * 0.8);
        var last = At(100, firstHue + lastHueShift, chroma * 1.25);

        var ramp = ColourMatch.Ramp(new ChunkColour(first, last, anchor));

        // Applying the ramp's ends as FFmpeg's hue filter does (rotate and scale chroma, add b × 25.5 to luma) lands on the anchor.
        static MeanColour Apply(MeanColour c, double h, double s, double b)
        {
            var (u, v) = (c.U - 128, c.V - 128);
            var (cos, sin) = (Math.Cos(h * Math.PI / 180) * s, Math.Sin(h * Math.PI / 180) * s);
            return new MeanColour(c.Y + b * ColourMatch.LumaPerBrightness, 128 + u * cos - v * sin, 128 + u * sin + v * cos);
        }

        Assert.InRange(Apply(first, ramp.Hue0, ramp.Saturation0, ramp.Brightness0).DistanceTo(anchor), 0, 0.5);
        Assert.InRange(Apply(last, ramp.Hue1, ramp.Saturation1, ramp.Brightness1).DistanceTo(anchor), 0, 0.5);
        Assert.InRange(Math.Abs(ramp.Hue1 - ramp.Hue0), 0, 180);
    }

    [Fact]
    public void Ramps_KeepEverySeamOfAChainClosed_EvenAsItsDriftPassesHalfACircle()
    {
        // Seven chained 5 s chunks drifting 8° a second from the anchor (hue 0), each starting 6° past where the one
        // before ended (the model's cast): by the fifth chunk the drift is past 180° and the clamped correction would
        // change sides. Corrected, both sides of every seam must meet; chunk by chunk, they would not.
        static MeanColour At(double hue) => new(100, 128 + 20 * Math.Cos(hue * Math.PI / 180), 128 + 20 * Math.Sin(hue * Math.PI / 180));
        var colours = Enumerable.Range(0, 7).Select(k => new ChunkColour(At(46 * k), At(46 * k + 40), At(0))).ToList();
        var continues = Enumerable.Range(0, 7).Select(k => k > 0).ToList();

        var chained = ColourMatch.Ramps(colours, continues);
        var alone = colours.Select(ColourMatch.Ramp).ToList();

        double Seam(IReadOnlyList<HueRamp> ramps, int k) =>
            Apply(colours[k - 1].Last, ramps[k - 1].Hue1, ramps[k - 1].Saturation1, ramps[k - 1].Brightness1)
                .DistanceTo(Apply(colours[k].First, ramps[k].Hue0, ramps[k].Saturation0, ramps[k].Brightness0));
        Assert.All(Enumerable.Range(1, 6), k => Assert.InRange(Seam(chained, k), 0, 0.5));
        Assert.Contains(Enumerable.Range(1, 6), k => Seam(alone, k) > 10); // the flip the chained ramps avoid
        // Every chunk still ends on its anchor as far as the clamp allows: no end is further off than chunk by chunk.
        Assert.All(Enumerable.Range(0, 7), k => Assert.Equal(alone[k].Hue1, chained[k].Hue1));
    }

    private static MeanColour Apply(MeanColour c, double h, double s, double b)
    {
        var (u, v) = (c.U - 128, c.V - 128);
        var (cos, sin) = (Math.Cos(h * Math.PI / 180) * s, Math.Sin(h * Math.PI / 180) * s);
        return new MeanColour(c.Y + b * ColourMatch.LumaPerBrightness, 128 + u * cos - v * sin, 128 + u * sin + v * cos);
    }

    [Fact]
    public void Ramp_IsClamped_AndLeavesGreyAlone()
    {
        var grey = new MeanColour(120, 128, 129);
        var vivid = new MeanColour(60, 200, 60);

        var fromGrey = ColourMatch.Ramp(new ChunkColour(grey, grey, vivid));
        var far = ColourMatch.Ramp(new ChunkColour(vivid, vivid, new MeanColour(200, 60, 200)));

        Assert.Equal((0.0, 1.0), (fromGrey.Hue0, fromGrey.Saturation0));
        Assert.InRange(Math.Abs(far.Hue0), 0, ColourMatch.MaxHueDegrees);
        Assert.InRange(far.Brightness0 * ColourMatch.LumaPerBrightness, 0, ColourMatch.MaxLumaOffset + 0.01);
    }

    [Fact(Timeout = 120_000)]
    public async Task ContinuousSeam_DropsTheRepeatedFrame_AndKeepsEveryOtherFrame()
    {
        var token = Timeouts.After(110);
        FinishSpec Seam(string name, bool drop) => new(
            [new FinishSegment(_fixture.MovingA, 5, 24), new FinishSegment(_fixture.MovingB, 5, 24, DropFirstFrame: drop)],
            854, 480, drop ? 239 / 24.0 : 10, 24, null, [], Font, [new("16:9", 854, 480, _fixture.Folder.File($"{name}.mp4"))], null, Preset: "ultrafast");
        var dropped = Seam("seam-dropped", drop: true);
        var kept = Seam("seam-kept", drop: false);

        await Finisher.RunAsync(FfmpegRunner.Silent, dropped, _fixture.Folder.Path, null, token);
        await Finisher.RunAsync(FfmpegRunner.Silent, kept, _fixture.Folder.Path, null, token);

        // YDIF: mean luma difference to the frame before. A repeated frame shows as ~0 at output frame 120.
        var withDrop = await FrameDifferencesAsync(dropped.Outputs[0].Path, token);
        var withoutDrop = await FrameDifferencesAsync(kept.Outputs[0].Path, token);
        Assert.Equal(239, withDrop.Count);
        Assert.True(withoutDrop[120] < 0.5, $"the undropped seam should repeat a frame (YDIF {withoutDrop[120]:0.00})");
        var smallest = withDrop.Skip(110).Take(20).Min();
        Assert.True(smallest > 1, $"a frame repeats at the seam after dropping (smallest YDIF {smallest:0.00})");
    }

    [Fact(Timeout = 120_000)]
    public async Task ColourMatch_ClosesTheSeamAndTheDrift_MeasuredOnTheOutput()
    {
        var token = Timeouts.After(110);
        // An anchor; a chunk that drifts 30° in hue from it; a continuous chunk whose model shifted its first frame by a
        // further 12° and +12 luma and drifts on.
        var anchor = _fixture.Folder.File("anchor.png");
        var a = _fixture.Folder.File("drift-a.mp4");
        var b = _fixture.Folder.File("drift-b.mp4");
        string[] encode = [.. ClipEncoding.Arguments(24).Split(' ')];
        await FfmpegProbe.RunAsync(token, "-y", "-f", "lavfi", "-i", "color=c=0x3070c0:size=854x480:d=1", "-frames:v", "1", "-update", "1", anchor);
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0x3070c0:size=854x480:rate=24:duration=5", "-vf", "hue=h=6*t", .. encode, a]);
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0x3070c0:size=854x480:rate=24:duration=5", "-vf", "hue=h=42+6*t:b=0.5", .. encode, b]);
        FinishSegment[] segments = [new(a, 5, 24), new(b, 5, 24, DropFirstFrame: true)];
        var colours = await ColourMatch.MeasureAsync(FfmpegRunner.Silent, segments, [anchor], [0, 0], _fixture.Folder.Path, token);
        FinishSpec Render(string name, bool match) => new(
            match ? segments.Select((s, i) => s with { Colour = ColourMatch.Ramps(colours, segments.Select(x => x.DropFirstFrame).ToList())[i] }).ToArray() : segments,
            854, 480, 239 / 24.0, 24, null, [], Font, [new("16:9", 854, 480, _fixture.Folder.File($"{name}.mp4"))], null, Preset: "ultrafast");
        var matched = Render("matched", true);
        var unmatched = Render("unmatched", false);

        await Finisher.RunAsync(FfmpegRunner.Silent, matched, _fixture.Folder.Path, null, token);
        await Finisher.RunAsync(FfmpegRunner.Silent, unmatched, _fixture.Folder.Path, null, token);

        var anchorColour = colours[0].Anchor;
        var with = await MeanColoursAsync(matched.Outputs[0].Path, token);
        var without = await MeanColoursAsync(unmatched.Outputs[0].Path, token);
        double Seam(IReadOnlyList<MeanColour> frames) => frames[119].DistanceTo(frames[120]);
        double Drift(IReadOnlyList<MeanColour> frames) => frames.Max(f => f.DistanceTo(anchorColour));
        Assert.True(Seam(with) < Seam(without) / 3, $"seam distance {Seam(with):0.0} with matching, {Seam(without):0.0} without");
        Assert.True(Drift(with) < Drift(without) / 3, $"largest distance to the anchor {Drift(with):0.0} with matching, {Drift(without):0.0} without");
    }

    [Fact(Timeout = 120_000)]
    public async Task EndCard_ComesInWithTheTransition_ShowsItsColourAndCentredText_AndKeepsTheDuration()
    {
        var token = Timeouts.After(110);
        var textPath = _fixture.Folder.File("card.txt");
        var spec = new FinishSpec(
            [new FinishSegment(_fixture.TakeA, 5, 24), new FinishSegment(_fixture.TakeB, 5, 24, TransitionInSeconds: 0.5, Transition: "dissolve")],
            854, 480, 10, 24, null, [new FinishTitle("Titanium\nAvailable now", 8, 10, textPath, Centred: true)], Font,
            [new("16:9", 854, 480, _fixture.Folder.File("card.mp4"))], null, new FinishEndCard(2.5, "C02020", 0.5, "dissolve"), Preset: "ultrafast");

        var probes = await Finisher.RunAsync(FfmpegRunner.Silent, spec, _fixture.Folder.Path, null, token);

        Assert.InRange(probes[0].DurationSeconds, 10 - 1 / 24.0, 10 + 1 / 24.0);
        var before = await MeanAtAsync(spec.Outputs[0].Path, 7.3, "card-before", token);
        var pixels = await PixelsAtAsync(spec.Outputs[0].Path, 9.5, "card-on", token);
        Assert.True(before.R > 200 && before.G > 200, $"take two (yellow) before the card: {before}");
        // Background red at the corner, white text in the middle band.
        Assert.True(pixels[0] > 150 && pixels[1] < 80, $"card background at the corner: {pixels[0]},{pixels[1]},{pixels[2]}");
        var white = 0;
        for (var y = 480 / 3; y < 480 * 2 / 3; y++)
        {
            for (var x = 0; x < 854; x++)
            {
                var p = (y * 854 + x) * 3;
                white += pixels[p] > 220 && pixels[p + 1] > 220 && pixels[p + 2] > 220 ? 1 : 0;
            }
        }

        Assert.True(white > 500, $"only {white} white (text) pixels in the middle of the card");
    }

    [Fact(Timeout = 120_000)]
    public async Task VerticalCrop_FollowsTheBeatsFocusPoint()
    {
        var token = Timeouts.After(110);
        // A frame with a red box at the right edge: a centred 9:16 crop misses it, a crop focused at x = 0.9 holds it.
        var clip = _fixture.Folder.File("focus.mp4");
        string[] encode = [.. ClipEncoding.Arguments(24).Split(' ')];
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0x202020:size=854x480:rate=24:duration=2", "-vf", "drawbox=x=734:y=190:w=100:h=100:color=red:t=fill", .. encode, clip]);
        FinishSpec Crop(string name, Focus? focus) => new(
            [new FinishSegment(clip, 2, 24, Focus: focus)], 854, 480, 2, 24, null, [], Font,
            [new("16:9", 854, 480, _fixture.Folder.File($"{name}.mp4")), new("9:16", 270, 480, _fixture.Folder.File($"{name}-9x16.mp4"))], null, Preset: "ultrafast");
        var focused = Crop("focused", new Focus(0.9, 0.5));
        var centred = Crop("centred", null);

        await Finisher.RunAsync(FfmpegRunner.Silent, focused, _fixture.Folder.Path, null, token);
        await Finisher.RunAsync(FfmpegRunner.Silent, centred, _fixture.Folder.Path, null, token);

        var withFocus = await MeanAtAsync(focused.Outputs[1].Path, 1, "focused-frame", token);
        var withoutFocus = await MeanAtAsync(centred.Outputs[1].Path, 1, "centred-frame", token);
        Assert.True(withFocus.R > withFocus.G + 20, $"the focused crop lost the subject: {withFocus}");
        Assert.True(Math.Abs(withoutFocus.R - withoutFocus.G) < 8, $"the centred crop should not hold the subject: {withoutFocus}");
    }

    [Fact(Timeout = 120_000)]
    public async Task Finish_MakesEveryRenditionExactlyLong_WithTheSoundtrack_Faststart_AndABlendAtTheCut()
    {
        var token = Timeouts.After(110);
        var spec = Spec("full");

        var probes = await Finisher.RunAsync(FfmpegRunner.Silent, spec, _fixture.Folder.Path, null, token);

        Assert.Equal([(1280, 720), (720, 1280)], probes.Select(p => (p.Width, p.Height)).ToArray());
        foreach (var output in spec.Outputs)
        {
            var (json, _) = await FfmpegProbeJson(output.Path, token);
            Assert.Contains("\"codec_name\": \"aac\"", json);
            Assert.Contains("\"sample_rate\": \"48000\"", json);
            Assert.Contains("\"profile\": \"High\"", json);
            Assert.Contains("\"color_primaries\": \"bt709\"", json);
            var info = await MediaProbe.ProbeAsync(output.Path, token);
            Assert.InRange(info.DurationSeconds, 9.5 - 1 / 24.0, 9.5 + 1 / 24.0);
            var bytes = await File.ReadAllBytesAsync(output.Path, token);
            var text = System.Text.Encoding.Latin1.GetString(bytes);
            Assert.True(text.IndexOf("moov", StringComparison.Ordinal) < text.IndexOf("mdat", StringComparison.Ordinal), "moov must come before mdat (+faststart)");
        }

        // The dissolve spans 4.5..5.0 s of the output: before it take one, at its middle a mix, after it take two.
        var before = await MeanAtAsync(spec.Outputs[0].Path, 4.2, "before", token);
        var middle = await MeanAtAsync(spec.Outputs[0].Path, 4.75, "middle", token);
        var after = await MeanAtAsync(spec.Outputs[0].Path, 5.3, "after", token);
        Assert.True(before.B > before.R && after.R > after.B, $"takes: {before} then {after}");
        Assert.InRange(middle.R, before.R + 40, after.R - 40);
        Assert.InRange(middle.B, Math.Min(before.B, after.B) - 10, Math.Max(before.B, after.B) + 10);
    }

    [Fact(Timeout = 120_000)]
    public async Task Titles_ChangePixelsOnlyInsideTheTitleSafeArea_OfEveryRendition()
    {
        var token = Timeouts.After(110);
        var with = Spec("titled", soundtrack: false);
        var without = Spec("plain", titles: false, soundtrack: false);
        await Finisher.RunAsync(FfmpegRunner.Silent, with, _fixture.Folder.Path, null, token);
        await Finisher.RunAsync(FfmpegRunner.Silent, without, _fixture.Folder.Path, null, token);

        for (var i = 0; i < with.Outputs.Count; i++)
        {
            var (width, height) = (with.Outputs[i].Width, with.Outputs[i].Height);
            var a = await PixelsAtAsync(with.Outputs[i].Path, 2.5, $"t{i}", token);
            var b = await PixelsAtAsync(without.Outputs[i].Path, 2.5, $"p{i}", token);
            var (inside, outside) = (0, 0);
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var p = (y * width + x) * 3;
                    var differs = Math.Abs(a[p] - b[p]) + Math.Abs(a[p + 1] - b[p + 1]) + Math.Abs(a[p + 2] - b[p + 2]) > 24;
                    var safe = x >= width * 0.1 && x < width * 0.9 && y >= height * 0.1 && y < height * 0.9;
                    if (differs)
                    {
                        _ = safe ? inside++ : outside++;
                    }
                }
            }

            Assert.True(inside > 500, $"{with.Outputs[i].AspectRatio}: the title changed only {inside} pixels");
            Assert.True(outside == 0, $"{with.Outputs[i].AspectRatio}: {outside} pixels changed outside the title-safe area");
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Look_GradesThePicture_MonoLeavesNoColour()
    {
        var token = Timeouts.After(110);
        var lut = _fixture.Folder.File("mono.cube");
        await Looks.WriteAsync("mono", lut, token);
        var spec = Spec("mono", titles: false, soundtrack: false, vertical: false, lut: lut);

        await Finisher.RunAsync(FfmpegRunner.Silent, spec, _fixture.Folder.Path, null, token);

        var (r, g, b) = await MeanAtAsync(spec.Outputs[0].Path, 6, "mono-frame", token);
        Assert.True(Math.Abs(r - g) <= 6 && Math.Abs(g - b) <= 6, $"mono frame still has colour: {(r, g, b)}");
    }

    [Theory]
    [InlineData("warm")]
    [InlineData("cool")]
    [InlineData("teal_orange")]
    [InlineData("mono")]
    public void Cube_HasTheHeaderAndOnePointPerGridNode_InRange(string look)
    {
        var lines = Looks.Cube(look).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal($"LUT_3D_SIZE {Looks.Size}", lines[1]);
        var points = lines.Skip(2).Select(l => l.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.Equal(Looks.Size * Looks.Size * Looks.Size, points.Count);
        Assert.All(points, p => Assert.All(p, v => Assert.InRange(v, 0, 1)));
        Assert.NotEqual("0.000000 0.000000 0.000000", lines[2 + Looks.Size * Looks.Size * Looks.Size / 2]);
    }

    private async Task<(int R, int G, int B)> MeanAtAsync(string video, double seconds, string name, CancellationToken token)
    {
        var png = _fixture.Folder.File($"{name}.png");
        await FfmpegProbe.FrameAtAsync(video, seconds, png, token);
        return await FfmpegProbe.MeanColourAsync(png, token);
    }

    /// <summary>signalstats YDIF of every frame: its mean luma difference to the frame before (frame 0: 0).</summary>
    private static async Task<List<double>> FrameDifferencesAsync(string video, CancellationToken token)
    {
        var (stdout, _) = await FfmpegProbe.RunAsync(token, "-v", "error", "-i", video, "-vf", "signalstats,metadata=mode=print:key=lavfi.signalstats.YDIF:file=-", "-f", "null", "-");
        return System.Text.Encoding.UTF8.GetString(stdout).Split('\n')
            .Where(l => l.StartsWith("lavfi.signalstats.YDIF=", StringComparison.Ordinal))
            .Select(l => double.Parse(l["lavfi.signalstats.YDIF=".Length..], CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>The mean colour of every frame (signalstats at 64×36).</summary>
    private async Task<IReadOnlyList<MeanColour>> MeanColoursAsync(string video, CancellationToken token)
    {
        var file = _fixture.Folder.File(Path.GetFileNameWithoutExtension(video) + "-stats.txt");
        await FfmpegProbe.RunAsync(token, "-v", "error", "-i", video, "-vf", $"scale=64:36:flags=area,signalstats,metadata=mode=print:file={file}", "-f", "null", "-");
        return ColourMatch.ReadAll(file);
    }

    private async Task<byte[]> PixelsAtAsync(string video, double seconds, string name, CancellationToken token)
    {
        var png = _fixture.Folder.File($"{name}.png");
        await FfmpegProbe.FrameAtAsync(video, seconds, png, token);
        return await FfmpegProbe.PixelsAsync(png, token);
    }

    private static async Task<(string Json, string Stderr)> FfmpegProbeJson(string path, CancellationToken token)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffprobe", ["-v", "error", "-show_streams", "-of", "json", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var json = await process.StandardOutput.ReadToEndAsync(token);
        var stderr = await process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        return (json, stderr);
    }
}
