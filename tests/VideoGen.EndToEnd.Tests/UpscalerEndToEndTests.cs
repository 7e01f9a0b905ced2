using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #10 item 5 end to end: a farm whose coordinator names an upscaler model (Coordinator:Upscaler) and one of whose
/// workers serves it through the Replicate provider, against the local stand-in, which really upscales each clip with FFmpeg.
/// </summary>
public sealed class UpscalerEndToEndTests
{
    private const string Upscaler = "real-esrgan-video";

    [Fact]
    public async Task TwelveSecondJobAt1080p_EveryChunkGoesThroughTheUpscaler_PaidInTheJob_Master1920x1080_ExactLength()
    {
        await using var replicate = await ReplicateStandIn.StartAsync();
        await using var farm = await LocalFarm.StartAsync("upscaler-1080p", new FarmOptions
        {
            Workers = 2,
            Coordinator = new() { ["Coordinator:Upscaler"] = Upscaler },
            // worker-1 serves the procedural models only; worker-2 also the upscaler: the upscale tasks must all go there.
            Worker = index => index == 1
                ? new() { ["Worker:Models"] = "procedural-i2v,procedural-image" }
                : new()
                {
                    ["Worker:Models"] = $"procedural-i2v,procedural-image,{Upscaler}",
                    ["Replicate:BaseUrl"] = replicate.BaseUrl,
                    ["Replicate:ApiToken"] = replicate.Options.ApiToken,
                    ["Replicate:WaitSeconds"] = "1",
                    ["Replicate:PollSeconds"] = "0.1",
                    ["Replicate:PollMaxSeconds"] = "0.5",
                },
        });

        var job = await farm.RunAsync("A 12 second product showcase for a titanium smartwatch", r =>
        {
            r.Resolution = Resolution._1080P;
            r.Audio = false;
        }, TimeSpan.FromMinutes(5));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal(Upscaler, job.Plan.Finish.Upscaler);

        // One upscale per chunk, each succeeded on the upscaler's worker, one Replicate prediction each, with the clip.
        var chunks = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).OrderBy(t => t.Index).ToList();
        var upscales = job.Tasks.Where(t => t.Kind == TaskKind.Upscale).OrderBy(t => t.Index).ToList();
        Assert.Equal(chunks.Select(c => c.Index), upscales.Select(u => u.Index));
        Assert.All(upscales, u => Assert.Equal(TaskState.Succeeded, u.State));
        Assert.All(upscales, u => Assert.Equal("worker-2", u.WorkerId));
        Assert.All(upscales, u => Assert.EndsWith($"/upscaled/{u.Index}.mp4", u.OutputUri));
        Assert.Equal(upscales.Count, replicate.Predictions.Count);
        Assert.All(replicate.Predictions, p => Assert.Equal(("lucataco/real-esrgan-video", "succeeded"), (p.Model, p.Status)));
        Assert.All(replicate.Predictions, p => Assert.StartsWith("data:video/mp4;base64,", p.Input["video_path"]!.GetValue<string>()));

        // Their cost, probed seconds × $0.02, is the job's whole cost (the procedural model is free), as estimated.
        Assert.All(upscales, u => Assert.Equal(Math.Round(u.MediaSeconds * 0.02, 6), Math.Round(u.CostUsd, 6)));
        Assert.True(job.CostUsd > 0);
        Assert.Equal(upscales.Sum(u => u.CostUsd), job.CostUsd, 6);
        Assert.Equal(job.Plan.Chunks.Sum(c => c.UpscaleCostUsd), job.CostUsd, 3);

        // The upscaled clips are the master's size; the finish took them (the raw cut kept the 480p originals).
        foreach (var u in upscales)
        {
            var clip = await Media.ProbeAsync(LocalFarm.LocalPath(u.OutputUri));
            Assert.Equal((1920, 1080), (clip.Width, clip.Height));
        }

        var raw = await Media.ProbeAsync(LocalFarm.RawCutPath(farm, job));
        Assert.Equal((854, 480), (raw.Width, raw.Height));
        var master = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.Equal(("h264", 1920, 1080, 24.0), (master.Codec, master.Width, master.Height, master.Fps));
        Assert.InRange(master.DurationSeconds, 12 - 1 / 24.0, 12 + 1 / 24.0);
    }
}
