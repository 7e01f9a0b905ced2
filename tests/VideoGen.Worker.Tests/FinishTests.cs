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

    public async Task InitializeAsync()
    {
        var token = Timeouts.After(90);
        string[] encode = [.. ClipEncoding.Arguments(24).Split(' ')];
        // Take one is dark blue, take two bright yellow: a blend between them is unmistakable.
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0x102060:size=854x480:rate=24:duration=5", .. encode, _folder.File("a.mp4")]);
        await FfmpegProbe.RunAsync(token, ["-y", "-f", "lavfi", "-i", "color=c=0xF0E020:size=854x480:rate=24:duration=5", .. encode, _folder.File("b.mp4")]);
        await File.WriteAllTextAsync(_folder.File("list.txt"), $"file '{_folder.File("a.mp4")}'\nfile '{_folder.File("b.mp4")}'\n", token);
        await FfmpegProbe.RunAsync(token, "-y", "-f", "concat", "-safe", "0", "-i", _folder.File("list.txt"), "-c", "copy", RawCut);
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
        _fixture.RawCut,
        9.5,
        [new FinishCut(5, "dissolve", 0.5)],
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
        var spec = new FinishSpec(
            "/w/stitched.mp4", 14, [new FinishCut(5, "dissolve", 0.5), new FinishCut(10, "wipe", 1)], 24, "/w/warm.cube",
            [new FinishTitle("Big news", 0.25, 3.5, "/w/title-0.txt")], "/f/font.ttf",
            [new("16:9", 1920, 1080, "/w/final.mp4"), new("1:1", 1080, 1080, "/w/final-1x1.mp4")], "/w/soundtrack.m4a");

        var title = "drawtext=fontfile='/f/font.ttf':textfile='/w/title-0.txt':expansion=none:fontsize={0}:fontcolor=white:borderw={1}:bordercolor=black@0.6"
            + ":x=(w-text_w)/2:y=h*0.9-text_h-{2}:alpha='if(lt(t,0.25+0.3),(t-0.25)/0.3,if(gt(t,3.5-0.3),(3.5-t)/0.3,1))':enable='between(t,0.25,3.5)'";
        Assert.Equal(
            "[0:v]fps=24,settb=AVTB,setpts=PTS-STARTPTS[t0];\n"
            + "[1:v]fps=24,settb=AVTB,setpts=PTS-STARTPTS[t1];\n"
            + "[2:v]fps=24,settb=AVTB,setpts=PTS-STARTPTS[t2];\n"
            + "[t0][t1]xfade=transition=fade:duration=0.5:offset=4.5[x1];\n"
            + "[x1][t2]xfade=transition=wipeleft:duration=1:offset=8.5[x2];\n"
            + "[x2]lut3d=file='/w/warm.cube':interp=tetrahedral,trim=duration=14,setpts=PTS-STARTPTS,split=2[g0][g1];\n"
            + "[g0]scale=1920:1080:flags=lanczos:out_color_matrix=bt709:out_range=tv,setsar=1," + string.Format(CultureInfo.InvariantCulture, title, 60, 4, 30) + ",format=yuv420p[o0];\n"
            + "[g1]crop=w='2*trunc(min(iw,ih*1080/1080)/2)':h='2*trunc(min(ih,iw*1080/1080)/2)',scale=1080:1080:flags=lanczos:out_color_matrix=bt709:out_range=tv,setsar=1,"
            + string.Format(CultureInfo.InvariantCulture, title, 60, 4, 30) + ",format=yuv420p[o1]\n",
            Finisher.FilterGraph(spec));
    }

    [Fact]
    public void Arguments_ArePinned_OneInputPerTake_SoundtrackCopied_EveryRenditionTaggedAndFaststart()
    {
        var spec = new FinishSpec("/w/s.mp4", 9.5, [new FinishCut(5, "zoom", 0.5)], 24, null, [], Font,
            [new("16:9", 1280, 720, "/w/final.mp4"), new("9:16", 720, 1280, "/w/final-9x16.mp4")], "/w/a.m4a");
        const string encode = "-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -crf 20 -r 24 -g 48 -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv -map 2:a:0 -c:a copy -t 9.5 -movflags +faststart";

        Assert.Equal(
            "-ss 0 -to 5 -i \"/w/s.mp4\" -ss 5 -i \"/w/s.mp4\" -i \"/w/a.m4a\" -filter_complex_script /w/f.txt "
            + $"-map [o0] {encode} /w/final.mp4 -map [o1] {encode} \"/w/final-9x16.mp4\" -y",
            Finisher.Build(spec, "/w/f.txt").Arguments);
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
