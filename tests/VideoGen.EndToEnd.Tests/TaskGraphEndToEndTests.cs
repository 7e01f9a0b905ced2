using Google.Rpc;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue 16 end to end: the task graph follows the model's capabilities. A first-and-last-frame model gets its keyframes
/// first and then runs every chunk of a take at once, pinned at both ends; an extend model chains with overlapping frames
/// that the finish drops. Real coordinator and worker processes, real FFmpeg.
/// </summary>
public sealed class TaskGraphEndToEndTests
{
    private const string Prompt = "A 30 second product showcase for a titanium smartwatch";

    [Fact]
    public async Task Flf2v30s_KeyframesFirst_ThenTheTakesChunksOverlapInTime_EverySeamContinuous()
    {
        // A model latency long against a keyframe's FFmpeg call, so that chunks whose keyframes exist are running together.
        await using var farm = await LocalFarm.StartAsync("graph-flf2v", new FarmOptions
        {
            Workers = 2,
            Worker = _ => new() { ["Procedural:LatencySeconds"] = "2" },
        });

        // Strict continuity: the whole ad is one take, today a chain of every chunk.
        var job = await farm.RunAsync(Prompt, r =>
        {
            r.Model = "procedural-flf2v";
            r.Continuity = Continuity.Strict;
            r.Resolution = Resolution._480P;
            r.Audio = false;
        }, TimeSpan.FromMinutes(6));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal(GraphStrategy.Keyframes, job.Plan.Strategy);
        var final = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.InRange(final.DurationSeconds, 30 - 1 / 24.0, 30 + 1 / 24.0);

        var chunks = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).OrderBy(t => t.Index).ToList();
        var keyframes = job.Tasks.Where(t => t.Kind == TaskKind.Keyframe).ToDictionary(t => t.TaskId);
        Assert.True(chunks.Count >= 6, $"{chunks.Count} chunks");
        Assert.Equal(chunks.Count, keyframes.Count);
        Assert.Equal(chunks.Count, job.Plan.Keyframes);
        Assert.All(keyframes.Values, k => Assert.Equal(TaskState.Succeeded, k.State));

        // The graph: no chunk waits for another chunk; each waits for the two keyframes around it (the first for the
        // storyboard and its end keyframe), and starts only once both exist.
        foreach (var chunk in chunks)
        {
            Assert.DoesNotContain(chunk.DependsOn, d => d.StartsWith("chunk-", StringComparison.Ordinal));
            var start = chunk.Index == 0 ? "storyboard-0" : $"keyframe-{chunk.Index - 1}";
            Assert.Equal([start, $"keyframe-{chunk.Index}"], chunk.DependsOn.ToArray());
            foreach (var input in chunk.DependsOn.Where(keyframes.ContainsKey))
            {
                Assert.True(keyframes[input].FinishedAt.ToDateTime() <= chunk.StartedAt.ToDateTime(),
                    $"chunk {chunk.Index} started at {chunk.StartedAt} before {input} finished at {keyframes[input].FinishedAt}");
            }
        }

        // Chunks of the one take ran at the same time (from the tasks' own start and finish times).
        var overlapping = chunks.SelectMany(a => chunks.Where(b => b.Index > a.Index
            && a.StartedAt.ToDateTime() < b.FinishedAt.ToDateTime() && b.StartedAt.ToDateTime() < a.FinishedAt.ToDateTime())).Count();
        var mostAtOnce = chunks.Max(a => chunks.Count(b => b.StartedAt.ToDateTime() <= a.StartedAt.ToDateTime() && a.StartedAt.ToDateTime() < b.FinishedAt.ToDateTime()));
        Assert.True(overlapping > 0 && mostAtOnce >= 2, $"chunks of the take did not overlap in time ({overlapping} overlapping pairs, at most {mostAtOnce} at once)");

        // Continuity as strict continuity requires, in the raw cut (every chunk whole): the last frame of a chunk and the
        // first of the next are one picture (their shared keyframe), and each chunk ends on its end keyframe.
        var raw = LocalFarm.RawCutPath(farm, job);
        var info = await Media.ProbeAsync(raw);
        var fps = (int)Math.Round(info.Fps);
        var frames = Path.Combine(farm.Directory, "frames");
        Directory.CreateDirectory(frames);
        foreach (var chunk in job.Plan.Chunks)
        {
            var end = (int)Math.Round((chunk.Index + 1) * job.Plan.ClipSeconds * fps) - 1;
            var lastFrame = await Media.FrameAsync(raw, end, Path.Combine(frames, $"{chunk.Index}-last.png"));
            var pinned = await Media.SsimAsync(lastFrame, LocalFarm.LocalPath(keyframes[$"keyframe-{chunk.Index}"].OutputUri));
            Assert.True(pinned >= 0.95, $"chunk {chunk.Index} does not end on its keyframe: SSIM {pinned}");
            if (chunk.Index + 1 < job.Plan.Chunks.Count)
            {
                var next = await Media.FrameAsync(raw, end + 1, Path.Combine(frames, $"{chunk.Index + 1}-first.png"));
                var seam = await Media.SsimAsync(lastFrame, next);
                Assert.True(seam >= 0.95, $"seam into chunk {chunk.Index + 1}: SSIM {seam}");
            }
        }
    }

    [Fact]
    public async Task Extend12s_ChainsWithOverlappingFrames_TheFinishDropsThem_ExactLength()
    {
        await using var farm = await LocalFarm.StartAsync("graph-extend", new FarmOptions { Workers = 1 });

        var job = await farm.RunAsync("a 12 second showcase for a lamp", r =>
        {
            r.Model = "procedural-extend";
            r.Continuity = Continuity.Strict;
            r.Resolution = Resolution._480P;
            r.Audio = false;
            r.EndCard = false;
        }, TimeSpan.FromMinutes(5));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.Equal((GraphStrategy.Extend, 8), (job.Plan.Strategy, job.Plan.OverlapFrames));
        var final = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.InRange(final.DurationSeconds, 12 - 1 / 24.0, 12 + 1 / 24.0);

        // Each continuation starts with the previous clip's last 8 frames (the same picture as its last frame at the
        // overlap's end), then carries on from it: its 9th frame continues the previous clip's last one.
        var frames = Path.Combine(farm.Directory, "frames");
        Directory.CreateDirectory(frames);
        string Clip(int index) => LocalFarm.LocalPath(job.Tasks.Single(t => t.TaskId == $"chunk-{index}").OutputUri);
        foreach (var chunk in job.Plan.Chunks.Where(c => c.Index > 0))
        {
            Assert.False(chunk.IsReference);
            var previous = await Media.ProbeAsync(Clip(chunk.Index - 1));
            var last = await Media.FrameAsync(Clip(chunk.Index - 1), previous.Frames - 1, Path.Combine(frames, $"{chunk.Index}-prev-last.png"));
            var repeated = await Media.FrameAsync(Clip(chunk.Index), 7, Path.Combine(frames, $"{chunk.Index}-overlap-end.png"));
            var fresh = await Media.FrameAsync(Clip(chunk.Index), 8, Path.Combine(frames, $"{chunk.Index}-fresh.png"));
            Assert.True(await Media.SsimAsync(last, repeated) >= 0.98, "the overlap does not repeat the previous clip's end");
            var seam = await Media.SsimAsync(last, fresh);
            Assert.True(seam >= 0.95, $"seam into chunk {chunk.Index}: SSIM {seam}");
        }

        // No frame repeats in the finished cut at a seam: the 8 overlapping frames were dropped.
        var master = LocalFarm.LocalPath(job.OutputUri);
        var differences = await Media.FrameDifferencesAsync(master);
        foreach (var chunk in job.Plan.Chunks.Where(c => c.Index > 0))
        {
            var seam = (int)Math.Round(chunk.StartSeconds * 24);
            var window = differences.Skip(seam - 1).Take(10).ToList();
            Assert.True(window.All(d => d > 0.05), $"frames repeat around the seam into chunk {chunk.Index} (frame {seam}): YDIF {string.Join(", ", window.Select(d => d.ToString("0.000")))}");
        }
    }

    [Fact]
    public async Task Estimate_ShowsEveryStrategyTheModelAllows_AndARequestForAnotherIsRefusedNamingTheField()
    {
        await using var farm = await LocalFarm.StartAsync("graph-estimate", new FarmOptions { Workers = 1 });

        var request = new JobRequest { Prompt = Prompt, Model = "procedural-flf2v", Continuity = Continuity.Strict };
        var estimate = await farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Job = request });
        Assert.Equal([GraphStrategy.Keyframes, GraphStrategy.Chain], estimate.Strategies.Select(s => s.Strategy).ToArray());
        Assert.Equal(["flf2v", "i2v"], estimate.Strategies.Select(s => s.Capability).ToArray());
        var (keyframes, chain) = (estimate.Strategies[0], estimate.Strategies[1]);
        Assert.True(keyframes.Chosen && !chain.Chosen);
        Assert.Equal(GraphStrategy.Keyframes, estimate.Plan.Strategy);
        Assert.Equal(keyframes.ExpectedWallSeconds, estimate.ExpectedWallSeconds);
        Assert.Equal((keyframes.Chunks, keyframes.Chunks), (chain.Chunks, keyframes.Keyframes));
        Assert.Equal(0, chain.Keyframes);
        // One take of chained chunks against keyframes then all chunks on one worker's two slots.
        Assert.True(keyframes.ExpectedWallSeconds < chain.ExpectedWallSeconds, $"keyframes {keyframes.ExpectedWallSeconds} s, chain {chain.ExpectedWallSeconds} s");

        // A request may choose: the chain on the same model.
        request.Strategy = GraphStrategy.Chain;
        var chosen = await farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Job = request });
        Assert.Equal(GraphStrategy.Chain, chosen.Plan.Strategy);
        Assert.Equal(chain.ExpectedWallSeconds, chosen.ExpectedWallSeconds);
        Assert.True(chosen.Strategies.Single(s => s.Chosen).Strategy == GraphStrategy.Chain);

        // One the model does not allow, or no strategy at all, is refused naming job.strategy, on submit and on estimate.
        foreach (var (model, strategy) in new[] { ("procedural-i2v", GraphStrategy.Keyframes), ("procedural-flf2v", GraphStrategy.Extend), ("procedural-i2v", (GraphStrategy)42) })
        {
            var bad = new JobRequest { Prompt = Prompt, Model = model, Strategy = strategy };
            foreach (var call in new Func<Task>[]
                     {
                         () => farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Job = bad }).ResponseAsync,
                         () => farm.Jobs.SubmitJobAsync(new SubmitJobRequest { Job = bad }).ResponseAsync,
                     })
            {
                var error = await Assert.ThrowsAsync<RpcException>(call);
                Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
                Assert.Contains("job.strategy", error.Status.Detail);
                Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "job.strategy");
            }
        }

        Assert.Empty((await farm.Jobs.ListJobsAsync(new ListJobsRequest())).Jobs);
    }
}
