using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>Issue #10 end to end: the finish step over real processes and real FFmpeg.</summary>
public sealed class FinishEndToEndTests
{
    [Fact]
    public async Task ThirtySecondShowcase_Finished1080p_WithA9x16Cut_SoftAtBeats_NoHardCut_ExactLength()
    {
        await using var farm = await LocalFarm.StartAsync("finish-1080p", new FarmOptions { Workers = 2 });

        var job = await farm.RunAsync("A 30 second product showcase for a titanium smartwatch", r =>
        {
            r.Resolution = Resolution._1080P;
            r.AspectRatios.Add("9:16");
        }, TimeSpan.FromMinutes(6));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        var finish = job.Tasks.Single(t => t.Kind == TaskKind.Finish);
        Assert.Equal(TaskState.Succeeded, finish.State);
        Assert.Contains("stitch", finish.DependsOn);

        // Every rendition: 30.000 s ±1 frame at 24 fps, its size, moov before mdat; the master is Job.output_uri.
        Assert.Equal(["16:9", "9:16"], job.Deliverables.Select(d => d.AspectRatio).ToArray());
        Assert.Equal(job.OutputUri, job.Deliverables[0].Uri);
        foreach (var (deliverable, size) in job.Deliverables.Zip(new[] { (1920, 1080), (1080, 1920) }))
        {
            var path = LocalFarm.LocalPath(deliverable.Uri);
            var info = await Media.ProbeAsync(path);
            Assert.InRange(info.DurationSeconds, 30 - 1 / 24.0, 30 + 1 / 24.0);
            Assert.Equal(("h264", size.Item1, size.Item2, 24.0), (info.Codec, info.Width, info.Height, info.Fps));
            Assert.Equal(size, (deliverable.WidthPixels, deliverable.HeightPixels));
            Assert.True(await Media.MoovFirstAsync(path), $"{deliverable.AspectRatio}: mdat before moov");
        }

        // No hard cut anywhere: no frame with a scene score over 0.3.
        var master = LocalFarm.LocalPath(job.OutputUri);
        var cuts = await Media.SceneCutsAsync(master, 0.3);
        Assert.True(cuts.Count == 0, $"hard cuts with scene scores {string.Join(", ", cuts)}");

        // A blend of the template's length (0.5 s) where each new take begins (the beat boundaries), and none
        // inside a take: there the frames on either side of a chunk seam are one continuous shot.
        var frames = Path.Combine(farm.Directory, "frames");
        Directory.CreateDirectory(frames);
        Assert.Equal(("dissolve", 0.5), (job.Plan.Finish.Transition, job.Plan.Finish.TransitionSeconds));
        foreach (var chunk in job.Plan.Chunks.Where(c => c.Index > 0))
        {
            var start = (int)Math.Round(chunk.StartSeconds * 24);
            if (chunk.TransitionInSeconds > 0)
            {
                Assert.True(chunk.IsReference);
                var before = await Media.MeanColourAsync(await Media.FrameAsync(master, start - 3, Path.Combine(frames, $"{chunk.Index}-before.png")));
                var middle = await Media.MeanColourAsync(await Media.FrameAsync(master, start + 6, Path.Combine(frames, $"{chunk.Index}-middle.png")));
                var after = await Media.MeanColourAsync(await Media.FrameAsync(master, start + 15, Path.Combine(frames, $"{chunk.Index}-after.png")));
                // Mid-dissolve the picture is nearer the average of the two takes than either take is.
                var average = ((before.R + after.R) / 2.0, (before.G + after.G) / 2.0, (before.B + after.B) / 2.0);
                var span = Distance(before, (after.R, after.G, after.B));
                Assert.True(Distance(middle, average) < span / 2,
                    $"no blend into chunk {chunk.Index}: before {before}, middle {middle}, after {after}");
            }
            else
            {
                Assert.False(chunk.IsReference);
                var before = await Media.FrameAsync(master, start - 1, Path.Combine(frames, $"{chunk.Index}-seam-before.png"));
                var after = await Media.FrameAsync(master, start, Path.Combine(frames, $"{chunk.Index}-seam-after.png"));
                var ssim = await Media.SsimAsync(before, after);
                Assert.True(ssim >= 0.9, $"continuous seam into chunk {chunk.Index} is not continuous: SSIM {ssim}");
            }
        }

        Assert.Contains(job.Plan.Chunks, c => c.TransitionInSeconds > 0);
        Assert.Contains(job.Plan.Chunks, c => c.Index > 0 && c.TransitionInSeconds == 0);

        // No frame repeats at a continuous seam: the frame a continuous chunk started from was dropped. A repeated frame
        // shows as a luma difference near zero next to its neighbours' motion.
        var differences = await Media.FrameDifferencesAsync(master);
        foreach (var chunk in job.Plan.Chunks.Where(c => c.Index > 0 && !c.IsReference))
        {
            var seam = (int)Math.Round(chunk.StartSeconds * 24);
            var around = differences.Skip(seam - 12).Take(24).Where((_, i) => i != 12).Order().ToList();
            var median = around[around.Count / 2];
            Assert.True(differences[seam] >= 0.25 * median && differences[seam] > 0.05,
                $"a frame repeats at the seam into chunk {chunk.Index} (frame {seam}): YDIF {differences[seam]:0.000}, median around {median:0.000}");
        }

        // The end card: its background colour fills the last second (the showcase's card is a dark 0F1620), entered
        // with the template's dissolve at 27.5 s, with its centred text over it.
        Assert.Equal(2.5, job.Plan.Finish.EndCard.Seconds, 3);
        var card = await Media.MeanColourAsync(await Media.FrameAsync(master, 29 * 24, Path.Combine(frames, "card.png")));
        var beforeCard = await Media.MeanColourAsync(await Media.FrameAsync(master, 27 * 24, Path.Combine(frames, "before-card.png")));
        Assert.True(card.R < 60 && card.G < 60 && card.B < 70 && Distance(card, (beforeCard.R, beforeCard.G, beforeCard.B)) > 20,
            $"end card {card}, picture before it {beforeCard}");
    }

    [Fact]
    public async Task ColourMatching_LowersTheColourDistanceAtSeamsAndToTheAnchor_MeasuredWithAndWithout()
    {
        await using var farm = await LocalFarm.StartAsync("colour-match", new FarmOptions { Workers = 2 });

        // Strict continuity: one take of six chained chunks, the longest a drift can grow. 480p keeps it quick.
        void Options(JobRequest r, bool match)
        {
            r.Resolution = Resolution._480P;
            r.Continuity = Continuity.Strict;
            r.EndCard = false;
            r.Audio = false;
            r.ColourMatch = match;
        }

        var matched = await farm.RunAsync("A 30 second product showcase for a titanium smartwatch", r => Options(r, true), TimeSpan.FromMinutes(5));
        var unmatched = await farm.RunAsync("A 30 second product showcase for a titanium smartwatch", r => Options(r, false), TimeSpan.FromMinutes(5));
        Assert.True(matched.State == JobState.Succeeded && unmatched.State == JobState.Succeeded, $"{matched.Error} {unmatched.Error}\n{farm.Logs()}");

        var with = await Media.FrameColoursAsync(LocalFarm.LocalPath(matched.OutputUri));
        var without = await Media.FrameColoursAsync(LocalFarm.LocalPath(unmatched.OutputUri));
        static double D((double Y, double U, double V) a, (double Y, double U, double V) b) =>
            Math.Sqrt((a.Y - b.Y) * (a.Y - b.Y) + (a.U - b.U) * (a.U - b.U) + (a.V - b.V) * (a.V - b.V));
        var seams = matched.Plan.Chunks.Where(c => c.Index > 0).Select(c => (int)Math.Round(c.StartSeconds * 24)).ToList();
        Assert.Equal(seams, unmatched.Plan.Chunks.Where(c => c.Index > 0).Select(c => (int)Math.Round(c.StartSeconds * 24)).ToList());
        double Seams(IReadOnlyList<(double Y, double U, double V)> frames) => seams.Average(s => D(frames[s - 1], frames[s]));
        // The anchor is the storyboard the take started from: the first frame with the model's cast taken off.
        var anchor = with[0];
        double Drift(IReadOnlyList<(double Y, double U, double V)> frames) => frames.Average(f => D(f, anchor));
        Assert.True(Seams(with) < Seams(without), $"mean colour distance at seams: {Seams(with):0.00} with matching, {Seams(without):0.00} without");
        // Matching clamps its hue correction (±60°), so a chain drifting further than that is eased, not undone.
        Assert.True(Drift(with) < Drift(without) * 0.8, $"mean colour distance to the anchor: {Drift(with):0.00} with matching, {Drift(without):0.00} without");
    }

    [Fact]
    public async Task BadFinishingOptions_AreRefusedNamingTheField_BeforeAnythingRuns()
    {
        await using var farm = await LocalFarm.StartAsync("finish-bad-input", new FarmOptions { Workers = 1 });

        foreach (var (field, change) in new (string, Action<JobRequest>)[]
        {
            ("job.transition", r => r.Transition = "star_wipe"),
            ("job.look", r => r.Look = "sepia"),
            ("job.resolution", r => r.Resolution = (Resolution)9),
            ("job.aspect_ratios[0]", r => r.AspectRatios.Add("4:3")),
            ("job.aspect_ratios", r => r.AspectRatios.AddRange(["9:16", "1:1", "9:16"])),
        })
        {
            var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => farm.SubmitAsync("a showcase for a lamp", change));
            Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
            Assert.Contains(field, error.Status.Detail);
        }

        var jobs = await farm.Jobs.ListJobsAsync(new ListJobsRequest());
        Assert.Empty(jobs.Jobs);
    }

    private static double Distance((int R, int G, int B) a, (double R, double G, double B) b) =>
        Math.Sqrt(Math.Pow(a.R - b.R, 2) + Math.Pow(a.G - b.G, 2) + Math.Pow(a.B - b.B, 2));
}
