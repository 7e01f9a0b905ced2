using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Errors;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Services;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Tests;

/// <summary>Issue 16 on the worker: procedural-flf2v, procedural-extend and keyframes, measured with the ffmpeg CLI.</summary>
public sealed class GraphModelTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly ProceduralVideoModel _video = new(FfmpegRunner.Silent, Options.Create(new ProceduralOptions()), TimeProvider.System);
    private readonly ProceduralStoryboardRenderer _images = new(FfmpegRunner.Silent);

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 120_000)]
    public async Task Flf2v_StartsOnItsStartImage_EndsOnItsEndImage_AndMovesBetween()
    {
        var token = Timeouts.After(110);
        var start = _folder.File("start.png");
        await FfmpegProbe.StartImageAsync(start, token);
        var end = _folder.File("end.png");
        await _images.RenderKeyframeAsync(new KeyframeImageRequest(start, "a watch", 5, 854, 480, 1, end), token);
        var clip = _folder.File("flf.mp4");

        await _video.GenerateAsync(new VideoGenerationRequest(start, "a watch", 5, 854, 480, 24, 7, clip, EndImagePath: end), null, token);

        var info = await MediaProbe.ProbeAsync(clip, token);
        Assert.InRange(info.DurationSeconds, 4.95, 5.05);
        var last = _folder.File("flf-last.png");
        await new LastFrameExtractor(FfmpegRunner.Silent).ExtractAsync(clip, last, token);
        var first = await FfmpegProbe.SsimAsync(clip, start, 854, 480, token);
        var pinned = await FfmpegProbe.SsimAsync(last, end, 854, 480, token);
        var moved = await FfmpegProbe.SsimAsync(start, end, 854, 480, token);
        Assert.True(first >= 0.95, $"SSIM(first frame, start image) = {first}");
        Assert.True(pinned >= 0.95, $"SSIM(last frame, end image) = {pinned}");
        Assert.True(moved < 0.9, $"SSIM(start, keyframe) = {moved}: the keyframe did not move on");
    }

    [Fact(Timeout = 120_000)]
    public async Task Extend_StartsWithThePreviousClipsLastFrames_ThenCarriesOn()
    {
        var token = Timeouts.After(110);
        var start = _folder.File("start.png");
        await FfmpegProbe.StartImageAsync(start, token);
        var previous = _folder.File("previous.mp4");
        await _video.GenerateAsync(new VideoGenerationRequest(start, "a watch", 5, 854, 480, 24, 1, previous), null, token);
        var previousLast = _folder.File("previous-last.png");
        await new LastFrameExtractor(FfmpegRunner.Silent).ExtractAsync(previous, previousLast, token);
        var clip = _folder.File("extended.mp4");

        await _video.GenerateAsync(new VideoGenerationRequest(previousLast, "a watch", 5, 854, 480, 24, 2, clip, ConditioningVideoPath: previous, OverlapFrames: 8), null, token);

        var info = await MediaProbe.ProbeAsync(clip, token);
        Assert.InRange(info.DurationSeconds, 4.95, 5.05);
        // Frame 7 (the overlap's last) is the previous clip's last frame; frame 8 is the next step of the move.
        var overlapEnd = _folder.File("overlap-end.png");
        var fresh = _folder.File("fresh.png");
        await FfmpegProbe.RunAsync(token, "-v", "error", "-y", "-i", clip, "-vf", "select=eq(n\\,7)", "-fps_mode", "passthrough", "-frames:v", "1", overlapEnd);
        await FfmpegProbe.RunAsync(token, "-v", "error", "-y", "-i", clip, "-vf", "select=eq(n\\,8)", "-fps_mode", "passthrough", "-frames:v", "1", fresh);
        var repeated = await FfmpegProbe.SsimAsync(overlapEnd, previousLast, 854, 480, token);
        var continued = await FfmpegProbe.SsimAsync(fresh, previousLast, 854, 480, token);
        Assert.True(repeated >= 0.98, $"SSIM(frame 7, previous last frame) = {repeated}");
        Assert.True(continued >= 0.95 && continued < repeated, $"SSIM(frame 8, previous last frame) = {continued} (frame 7: {repeated})");
    }

    [Fact(Timeout = 120_000)]
    public async Task SeamScore_OfAGoodContinuation_PassesTheDefaultGate_AndABadSeamOnDemand_FailsIt()
    {
        var token = Timeouts.After(110);
        var start = _folder.File("start.png");
        await FfmpegProbe.StartImageAsync(start, token);
        var good = _folder.File("good.mp4");
        await _video.GenerateAsync(new VideoGenerationRequest(start, "a watch", 5, 854, 480, 24, 5, good, TaskKey: "j/chunk-1", Attempt: 1), null, token);
        var flashing = new ProceduralVideoModel(FfmpegRunner.Silent, Options.Create(new ProceduralOptions { FailureMode = "bad_seam", BadSeamTasks = "chunk-1" }), TimeProvider.System);
        var bad = _folder.File("bad.mp4");
        await flashing.GenerateAsync(new VideoGenerationRequest(start, "a watch", 5, 854, 480, 24, 5, bad, TaskKey: "j/chunk-1", Attempt: 1), null, token);
        var retried = _folder.File("retried.mp4");
        await flashing.GenerateAsync(new VideoGenerationRequest(start, "a watch", 5, 854, 480, 24, 6, retried, TaskKey: "j/chunk-1", Attempt: 2), null, token);

        var goodSeam = await SeamScoring.MeasureAsync(FfmpegRunner.Silent, start, good, 0, 854, 480, _folder.Path, token);
        var badSeam = await SeamScoring.MeasureAsync(FfmpegRunner.Silent, start, bad, 0, 854, 480, _folder.Path, token);
        var retriedSeam = await SeamScoring.MeasureAsync(FfmpegRunner.Silent, start, retried, 0, 854, 480, _folder.Path, token);

        // The defaults of Scheduling:SeamGate (MinSsim 0.85, MaxColourDistance 20, MaxMotionJump 15).
        static bool Passes(SeamMeasure m) => m.Ssim >= 0.85 && m.ColourDistance <= 20 && m.MotionJump <= 15;
        Assert.True(Passes(goodSeam), $"good seam: {goodSeam}");
        Assert.True(Passes(retriedSeam), $"second attempt: {retriedSeam}");
        Assert.False(Passes(badSeam), $"bad seam: {badSeam}");
        Assert.True(badSeam.Ssim < 0.85 && badSeam.MotionJump > 15, $"bad seam: {badSeam}");
    }

    [Fact]
    public void SeamScoring_Read_TakesSsimColourAndTheJumpBeyondTheClipsOwnMotion()
    {
        string[] stats =
        [
            "frame:0    pts:0       pts_time:0", "lavfi.signalstats.YAVG=100", "lavfi.signalstats.UAVG=128", "lavfi.signalstats.VAVG=128", "lavfi.signalstats.YDIF=0",
            "frame:1    pts:0       pts_time:0", "lavfi.signalstats.YAVG=103", "lavfi.signalstats.UAVG=132", "lavfi.signalstats.VAVG=128", "lavfi.signalstats.YDIF=9.5",
            "frame:2    pts:1       pts_time:0", "lavfi.signalstats.YAVG=103", "lavfi.signalstats.UAVG=132", "lavfi.signalstats.VAVG=128", "lavfi.signalstats.YDIF=1.5",
            "frame:3    pts:2       pts_time:0", "lavfi.signalstats.YAVG=103", "lavfi.signalstats.UAVG=132", "lavfi.signalstats.VAVG=128", "lavfi.signalstats.YDIF=0.5",
            "frame:4    pts:3       pts_time:0", "lavfi.signalstats.YAVG=103", "lavfi.signalstats.UAVG=132", "lavfi.signalstats.VAVG=128", "lavfi.signalstats.YDIF=2.5",
        ];

        var measure = SeamScoring.Read("n:1 Y:0.95 U:0.99 V:0.99 All:0.961234 (14.1)\n", stats);

        Assert.Equal(new SeamMeasure(0.961234, 5, 8), measure);
    }

    public static TheoryData<string, Action<RunTaskRequest>> BadRequests => new()
    {
        { "chunk.end_image_uri", r => r.Chunk.EndImageUri = "not a uri" },
        { "chunk.end_image_uri", r => (r.Chunk.Model, r.Chunk.EndImageUri) = ("procedural-i2v", "file:///tmp/end.png") },
        { "chunk.end_image_uri", r => (r.Chunk.StartImageUri, r.Chunk.EndImageUri) = ("", "file:///tmp/end.png") },
        { "chunk.conditioning_video_uri", r => (r.Chunk.ConditioningVideoUri, r.Chunk.OverlapFrames) = ("file:///tmp/prev.mp4", 8) },
        { "chunk.overlap_frames", r => (r.Chunk.Model, r.Chunk.ConditioningVideoUri, r.Chunk.OverlapFrames) = ("procedural-extend", "file:///tmp/prev.mp4", 0) },
        { "chunk.overlap_frames", r => r.Chunk.OverlapFrames = 3 },
        { "keyframe.source_image_uri", r => r.Keyframe = Keyframe(k => k.SourceImageUri = "") },
        { "keyframe.seconds", r => r.Keyframe = Keyframe(k => k.Seconds = 0) },
        { "keyframe.width_pixels", r => r.Keyframe = Keyframe(k => k.WidthPixels = 8) },
        { "keyframe.image_model", r => r.Keyframe = Keyframe(k => k.ImageModel = "dall-e-9") },
        { "keyframe.output_key", r => r.Keyframe = Keyframe(k => k.OutputKey = "../x.png") },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Mapper_BadGraphFields_InvalidArgumentNamingTheField(string field, Action<RunTaskRequest> change)
    {
        var request = new RunTaskRequest
        {
            JobId = "j", TaskId = "chunk-1", Attempt = 1,
            Chunk = new ChunkTask
            {
                ChunkIndex = 1, Model = "procedural-flf2v", StartImageUri = "file:///tmp/start.png", ClipSeconds = 5,
                OutputKey = "jobs/j/chunks/1.mp4", LastFrameKey = "jobs/j/chunks/1.last.png",
            },
        };
        change(request);

        var error = Assert.Throws<RequestValidationException>(() => TaskRequestMapper.ToWork(request, Registry()));

        Assert.Equal(field, Assert.Single(error.Violations).Field);
    }

    [Fact]
    public void Mapper_GraphFields_MapToTheWork()
    {
        var chunk = new RunTaskRequest
        {
            JobId = "j", TaskId = "chunk-1", Attempt = 1,
            Chunk = new ChunkTask
            {
                ChunkIndex = 1, Model = "procedural-extend", StartImageUri = "file:///tmp/last.png", ConditioningVideoUri = "file:///tmp/prev.mp4", OverlapFrames = 8,
                ClipSeconds = 5, OutputKey = "jobs/j/chunks/1.mp4", LastFrameKey = "jobs/j/chunks/1.last.png",
            },
        };
        var work = Assert.IsType<ChunkWork>(TaskRequestMapper.ToWork(chunk, Registry()));
        Assert.Equal(("file:///tmp/prev.mp4", 8, (string?)null), (work.ConditioningVideoUri, work.OverlapFrames, work.EndImageUri));

        var keyframe = Assert.IsType<KeyframeWork>(TaskRequestMapper.ToWork(new RunTaskRequest { JobId = "j", TaskId = "keyframe-2", Keyframe = Keyframe(_ => { }) }, Registry()));
        Assert.Equal(new KeyframeWork("j", "keyframe-2", 1, 2, "file:///tmp/k1.png", "a slow orbit", 5, 854, 480, "jobs/j/keyframes/2.png", "", 9), keyframe);
    }

    private static KeyframeTask Keyframe(Action<KeyframeTask> change)
    {
        var task = new KeyframeTask
        {
            ChunkIndex = 2, SourceImageUri = "file:///tmp/k1.png", Prompt = "a slow orbit", Seconds = 5, WidthPixels = 854, HeightPixels = 480,
            OutputKey = "jobs/j/keyframes/2.png", Seed = 9,
        };
        change(task);
        return task;
    }

    private ModelRegistry Registry() => new(
        ModelCatalog.Embedded(),
        Options.Create(new WorkerOptions { Models = ["procedural-i2v", "procedural-flf2v", "procedural-extend", "procedural-image"] }),
        [new ProceduralModelProvider(_video, _images)]);
}
