using System.Diagnostics;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;

namespace VideoGen.Worker.Tests;

/// <summary>One start image and one procedural 5 s clip, made once for every media test.</summary>
public sealed class ProceduralClipFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    public string StartImage => _folder.File("start.png");

    public string Clip => _folder.File("clip.mp4");

    public double GenerateSeconds { get; private set; }

    internal TempFolder Folder => _folder;

    public async Task InitializeAsync()
    {
        var token = Timeouts.After(60);
        await FfmpegProbe.StartImageAsync(StartImage, token);
        var model = new ProceduralVideoModel(FfmpegRunner.Silent, Options.Create(new ProceduralOptions()), TimeProvider.System);
        var stopwatch = Stopwatch.StartNew();
        await model.GenerateAsync(new VideoGenerationRequest(StartImage, "a watch", 5, 854, 480, 24, 1, Clip), null, token);
        GenerateSeconds = stopwatch.Elapsed.TotalSeconds;
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class MediaTests : IClassFixture<ProceduralClipFixture>
{
    private readonly ProceduralClipFixture _fixture;

    public MediaTests(ProceduralClipFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact(Timeout = 30_000)]
    public async Task ProceduralClip_FromStartImage_Is5SecondsAt854x480And24FpsH264()
    {
        var info = await MediaProbe.ProbeAsync(_fixture.Clip, Timeouts.After(20));

        Assert.InRange(info.DurationSeconds, 4.95, 5.05);
        Assert.Equal(854, info.Width);
        Assert.Equal(480, info.Height);
        Assert.Equal(24, info.Fps, 3);
        Assert.Equal("h264", info.Codec);
    }

    [Fact(Timeout = 30_000)]
    public async Task ProceduralClip_FirstFrame_MatchesStartImage()
    {
        var ssim = await FfmpegProbe.SsimAsync(_fixture.Clip, _fixture.StartImage, 854, 480, Timeouts.After(20));

        Assert.True(ssim >= 0.95, $"SSIM(first frame, start image) = {ssim}");
    }

    [Fact(Timeout = 30_000)]
    public async Task ProceduralClip_LastFrame_DiffersFromFirst()
    {
        var token = Timeouts.After(20);
        var last = _fixture.Folder.File("motion-last.png");
        await new LastFrameExtractor(FfmpegRunner.Silent).ExtractAsync(_fixture.Clip, last, token);

        var ssim = await FfmpegProbe.SsimAsync(_fixture.Clip, last, 854, 480, token);

        Assert.True(ssim < 0.9, $"SSIM(first frame, last frame) = {ssim}: no visible motion");
    }

    [Fact(Timeout = 30_000)]
    public async Task LastFrameExtractor_Extract_EqualsFrameAtDurationMinusOneFrame()
    {
        var token = Timeouts.After(20);
        var extracted = _fixture.Folder.File("extracted-last.png");
        var reference = _fixture.Folder.File("reference-last.png");
        var beforeLast = _fixture.Folder.File("reference-before-last.png");

        await new LastFrameExtractor(FfmpegRunner.Silent).ExtractAsync(_fixture.Clip, extracted, token);
        await FfmpegProbe.FrameAtAsync(_fixture.Clip, 5.0 - 1.0 / 24, reference, token);
        await FfmpegProbe.FrameAtAsync(_fixture.Clip, 5.0 - 2.0 / 24, beforeLast, token);

        var pixels = await FfmpegProbe.PixelsAsync(extracted, token);
        Assert.Equal(await FfmpegProbe.PixelsAsync(reference, token), pixels);
        Assert.NotEqual(await FfmpegProbe.PixelsAsync(beforeLast, token), pixels);
    }

    [Fact]
    public void LastFrameExtractor_Build_SeeksFromEndAndEncodesOnlyTheReversedFirstFrame()
    {
        var arguments = LastFrameExtractor.Build(_fixture.Clip, "/tmp/out.png").Arguments;

        Assert.Contains("-sseof -0.5", arguments);
        Assert.Contains("-vf reverse -frames:v 1 -update 1", arguments);
        Assert.True(arguments.IndexOf("-sseof", StringComparison.Ordinal) < arguments.IndexOf("-i ", StringComparison.Ordinal), arguments);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(3, 12.0)]
    [InlineData(7, 32.0)]
    public async Task ChunkStitcher_Stitch_TrimsToExactDuration(int chunks, double duration)
    {
        var token = Timeouts.After(50);
        var output = _fixture.Folder.File($"stitched-{chunks}.mp4");
        var stitcher = new ChunkStitcher(FfmpegRunner.Silent, Microsoft.Extensions.Logging.Abstractions.NullLogger<ChunkStitcher>.Instance);

        var stopwatch = Stopwatch.StartNew();
        var result = await stitcher.StitchAsync(Enumerable.Repeat(_fixture.Clip, chunks).ToArray(), duration, output, token);
        var elapsed = stopwatch.Elapsed;

        var probed = await MediaProbe.ProbeAsync(output, token);
        Assert.InRange(probed.DurationSeconds, duration - 0.05, duration + 0.05);
        Assert.Equal(probed.DurationSeconds, result.DurationSeconds, 3);
        Assert.Equal((854, 480, "h264"), (probed.Width, probed.Height, probed.Codec));
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"stream-copy stitch took {elapsed}");
    }

    [Fact]
    public void ChunkStitcher_Build_UsesConcatDemuxerStreamCopyTrimAndFaststart()
    {
        var arguments = ChunkStitcher.Build(["/a/0.mp4", "/a/1.mp4"], 12, "/a/final.mp4").Arguments;

        Assert.Contains("-f concat", arguments);
        Assert.Contains("-safe 0", arguments);
        Assert.Contains("-c copy", arguments);
        Assert.Contains("-t 12 ", arguments);
        Assert.Contains("-movflags +faststart", arguments);
        Assert.DoesNotContain("libx264", arguments);
    }

    [Fact]
    public void ClipEncoding_Arguments_AreFixedWithoutBFrames()
    {
        Assert.Equal(
            "-c:v libx264 -preset superfast -profile:v high -pix_fmt yuv420p -r 24 -bf 0 -g 24 -keyint_min 24 -sc_threshold 0 -crf 23 -video_track_timescale 12288 -an -movflags +faststart",
            ClipEncoding.Arguments(24));
    }

    [Fact(Timeout = 30_000)]
    public async Task ProceduralVideoModel_TextToVideo_MakesAMovingClipOfTheAskedLength()
    {
        var token = Timeouts.After(25);
        var clip = _fixture.Folder.File("t2v.mp4");
        var model = new ProceduralVideoModel(FfmpegRunner.Silent, Options.Create(new ProceduralOptions()), TimeProvider.System);

        await model.GenerateAsync(new VideoGenerationRequest(null, "a watch", 2, 854, 480, 24, 42, clip), null, token);

        var info = await MediaProbe.ProbeAsync(clip, token);
        Assert.InRange(info.DurationSeconds, 1.95, 2.05);
        Assert.Equal((854, 480, "h264"), (info.Width, info.Height, info.Codec));
        var last = _fixture.Folder.File("t2v-last.png");
        await new LastFrameExtractor(FfmpegRunner.Silent).ExtractAsync(clip, last, token);
        var first = _fixture.Folder.File("t2v-first.png");
        await FfmpegProbe.FrameAtAsync(clip, 0, first, token);
        Assert.NotEqual(await FfmpegProbe.PixelsAsync(first, token), await FfmpegProbe.PixelsAsync(last, token));
    }

    [Fact(Timeout = 30_000)]
    public async Task ProceduralVideoModel_Cancelled_KillsFfmpegPromptly()
    {
        var clip = _fixture.Folder.File("long.mp4");
        var model = new ProceduralVideoModel(FfmpegRunner.Silent, Options.Create(new ProceduralOptions()), TimeProvider.System);
        using var cancellation = new CancellationTokenSource();
        var progressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new InlineProgress(_ => progressed.TrySetResult());

        var generation = model.GenerateAsync(new VideoGenerationRequest(_fixture.StartImage, "long", 600, 854, 480, 24, 1, clip), progress, cancellation.Token);
        await progressed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var stopwatch = Stopwatch.StartNew();
        await cancellation.CancelAsync();

        // A 600 s clip: ending within seconds means FFmpeg was killed, not waited for (milliseconds on a quiet machine).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generation.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"cancel took {stopwatch.Elapsed}");
    }

    [Fact(Timeout = 30_000)]
    public async Task ProceduralStoryboardRenderer_TwoBeats_LookClearlyDifferent()
    {
        var token = Timeouts.After(25);
        var renderer = new ProceduralStoryboardRenderer(FfmpegRunner.Silent);
        var first = _fixture.Folder.File("beat0.png");
        var second = _fixture.Folder.File("beat1.png");

        await renderer.RenderAsync(new StoryboardImageRequest(0, "hook", "macro of the dial", "", "titanium smartwatch", "studio", 854, 480, first), token);
        await renderer.RenderAsync(new StoryboardImageRequest(1, "hero_shot", "slow orbit", "", "titanium smartwatch", "studio", 854, 480, second), token);

        var ssim = await FfmpegProbe.SsimAsync(first, second, 854, 480, token);
        var (r0, g0, b0) = await FfmpegProbe.MeanColourAsync(first, token);
        var (r1, g1, b1) = await FfmpegProbe.MeanColourAsync(second, token);
        var distance = Math.Sqrt(Math.Pow(r0 - r1, 2) + Math.Pow(g0 - g1, 2) + Math.Pow(b0 - b1, 2));
        Assert.True(ssim < 0.7 || distance > 60, $"beats look alike: SSIM {ssim}, mean colour distance {distance}");
        Assert.True(distance > 30, $"mean colour distance {distance}");
    }

    [Fact]
    public void ProceduralArguments_StoryboardWithCaption_DrawsTheCaptionFileWithTheFont()
    {
        var arguments = ProceduralArguments.Storyboard(2, "cta", "logo", "watch", 854, 480, "/tmp/x.png", ("/tmp/x.txt", "/f/font.ttf")).Arguments;

        Assert.Contains("drawtext=fontfile='/f/font.ttf':textfile='/tmp/x.txt':expansion=none", arguments);
    }

    [Fact(Timeout = 60_000)]
    public async Task ProceduralStoryboard_WithAFont_WritesTheBeatAsAnAnimaticCaption()
    {
        var token = Timeouts.After(50);
        const string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
        var plain = _fixture.Folder.File("plain.png");
        var captioned = _fixture.Folder.File("captioned.png");
        var request = new StoryboardImageRequest(1, "hero_reveal", "slow push-in on the watch", "", "watch", "", 854, 480, plain);
        await new ProceduralStoryboardRenderer(FfmpegRunner.Silent).RenderAsync(request, token);
        await new ProceduralStoryboardRenderer(FfmpegRunner.Silent, font).RenderAsync(request with { OutputPath = captioned }, token);

        var (a, b) = (await FfmpegProbe.PixelsAsync(plain, token), await FfmpegProbe.PixelsAsync(captioned, token));
        var changed = Enumerable.Range(0, a.Length / 3).Count(p => Math.Abs(a[3 * p] - b[3 * p]) + Math.Abs(a[3 * p + 1] - b[3 * p + 1]) + Math.Abs(a[3 * p + 2] - b[3 * p + 2]) > 30);
        Assert.True(changed > 2000, $"the caption changed {changed} pixels");
        Assert.False(File.Exists(captioned + ".caption.txt"));
        Assert.Equal("slow push-in on the\nwatch", ProceduralStoryboardRenderer.Wrap("slow push-in on the watch", 20));
    }

    [Fact]
    public void ProceduralArguments_Storyboard_DrawsNoText()
    {
        var arguments = ProceduralArguments.Storyboard(2, "cta", "logo", "watch", 854, 480, "/tmp/x.png").Arguments;

        Assert.DoesNotContain("drawtext", arguments);
        Assert.Contains("gradients=s=854x480", arguments);
        Assert.Contains("drawbox", arguments);
    }

    private sealed class InlineProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
