using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue 16, item 2 end to end: the seam quality gate. A worker whose procedural model flashes at one seam on demand
/// (<c>Procedural:FailureMode=bad_seam</c>): the coordinator sees the score, has the chunk made again with a new seed once,
/// and the final seam passes. Real coordinator and worker processes, real FFmpeg scoring.
/// </summary>
public sealed class SeamGateEndToEndTests
{
    [Fact]
    public async Task ABadSeam_IsRegeneratedOnceWithANewSeed_AndTheFinalSeamPasses()
    {
        await using var farm = await LocalFarm.StartAsync("seam-gate", new FarmOptions
        {
            Workers = 2,
            Coordinator = new() { ["Scheduling:SeamGate:MaxRegenerations"] = "2" },
            Worker = _ => new() { ["Procedural:FailureMode"] = "bad_seam", ["Procedural:BadSeamTasks"] = "chunk-1" },
        });

        var job = await farm.RunAsync("a 12 second showcase for a lamp", r =>
        {
            r.Continuity = Continuity.Strict;
            r.Resolution = Resolution._480P;
            r.Audio = false;
            r.EndCard = false;
        }, TimeSpan.FromMinutes(5));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        var chunks = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).OrderBy(t => t.Index).ToList();
        Assert.True(chunks.Count >= 3, $"{chunks.Count} chunks");

        // chunk-1 flashed once and was made again: two attempts, no failure, one regeneration, a passing score now.
        var bad = chunks[1];
        Assert.Equal((1, 0, 2), (bad.SeamRegenerations, bad.Failures, bad.Attempt));
        Assert.True(bad.SeamScore.Passed, $"chunk-1's final seam: SSIM {bad.SeamScore.Ssim}, colour {bad.SeamScore.ColourDistance}, jump {bad.SeamScore.MotionJump}");
        Assert.True(bad.SeamScore.Ssim >= 0.85);
        // Every other continuous chunk passed at once; the reference chunk has no seam to score.
        Assert.Null(chunks[0].SeamScore);
        Assert.All(chunks.Skip(2), c => Assert.Equal((0, true, 1), (c.SeamRegenerations, c.SeamScore.Passed, c.Attempt)));

        // The watch saw the flash: chunk-1 went back to ready with the gate's reason before it succeeded.
        var events = await farm.WatchAsync(job.JobId);
        var regenerated = events.Select(e => e.TaskUpdated?.Task).Where(t => t is { TaskId: "chunk-1", State: TaskState.Ready, SeamRegenerations: 1 }).ToList();
        Assert.NotEmpty(regenerated);
        Assert.StartsWith("seam below the gate: SSIM", regenerated[0]!.Error);
        Assert.False(regenerated[0]!.SeamScore.Passed);
        Assert.True(regenerated[0]!.SeamScore.Ssim < 0.85, $"the flash scored SSIM {regenerated[0]!.SeamScore.Ssim}");

        // The seam in the raw cut, as strict continuity requires: chunk-0's last frame into chunk-1's first.
        var raw = LocalFarm.RawCutPath(farm, job);
        var frames = Path.Combine(farm.Directory, "frames");
        Directory.CreateDirectory(frames);
        var cut = (int)Math.Round(job.Plan.ClipSeconds * 24);
        var before = await Media.FrameAsync(raw, cut - 1, Path.Combine(frames, "before.png"));
        var after = await Media.FrameAsync(raw, cut, Path.Combine(frames, "after.png"));
        var ssim = await Media.SsimAsync(before, after);
        Assert.True(ssim >= 0.95, $"seam into chunk-1 in the raw cut: SSIM {ssim}");

        // The metrics count it: one regeneration, and passes.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var metrics = await http.GetStringAsync($"{farm.CoordinatorHttpAddress}/metrics");
        Assert.Contains("videogen_seam_checks_total{model=\"procedural-i2v\",verdict=\"regenerated\"} 1", metrics);
        Assert.Contains("videogen_seam_checks_total{model=\"procedural-i2v\",verdict=\"passed\"}", metrics);
    }
}
