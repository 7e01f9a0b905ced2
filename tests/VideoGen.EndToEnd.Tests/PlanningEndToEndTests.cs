using System.Text.Json.Nodes;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #3 end to end: a prompt becomes a plan (template, beats, chunks), each beat that a reference chunk starts
/// from gets its own storyboard image, and the final cut is exactly the duration asked — on a local farm of real
/// processes, with the procedural storyboards and with storyboards from OpenAI images (a local stand-in speaking
/// <c>/v1/images/generations</c>, through the worker's real SDK).
/// </summary>
public sealed class PlanningEndToEndTests
{
    private const string AnnouncementPrompt = "Announce our new store opening, 12 seconds";

    [Fact]
    public async Task TwelveSecondAnnouncement_Is12sOfThreeChunks_WhoseBeatsStartFromVisiblyDifferentStoryboards()
    {
        await using var farm = await LocalFarm.StartAsync("planning-announce");

        var job = await farm.RunAsync(AnnouncementPrompt);

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        await AssertAnnouncementAsync(farm, job);
        Assert.All(job.Tasks.Where(t => t.Kind == TaskKind.Storyboard), t => Assert.Equal(0, t.CostUsd));
    }

    [Fact]
    public async Task TwelveSecondAnnouncement_WithGptImage1Storyboards_UsesTheImagesApiPerBeat_AndStartsEachBeatFromItsImage()
    {
        using var folder = new TempDirectory("planning-images");
        var pictures = await BeatPicturesAsync(folder.Path);
        await using var images = await OpenAiStandIn.StartAsync((context, _, ct) =>
        {
            // A different picture per beat, chosen by how the beat's image prompt starts.
            var prompt = (string?)OpenAiStandIn.RequestOf(context).Body["prompt"] ?? "";
            var png = pictures.FirstOrDefault(p => prompt.StartsWith(p.Key, StringComparison.Ordinal)).Value;
            return png is null
                ? OpenAiStandIn.WriteJsonAsync(context, 400, OpenAiStandIn.Error($"unexpected prompt: {prompt}", "invalid_request_error"), ct)
                : OpenAiStandIn.WriteJsonAsync(context, 200, OpenAiStandIn.Generated(png), ct);
        });
        await using var farm = await LocalFarm.StartAsync("planning-gpt-image", new FarmOptions
        {
            Coordinator = new() { ["Storyboard:ImageModel"] = "gpt-image-1" },
            Worker = _ => new()
            {
                ["Worker:Models"] = "procedural-i2v,procedural-image,gpt-image-1",
                ["OpenAI:BaseUrl"] = images.BaseUrl,
                ["OpenAI:ApiKey"] = "sk-e2e",
                ["OpenAI:MaxRetries"] = "0",
            },
        });

        var job = await farm.RunAsync(AnnouncementPrompt);

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        await AssertAnnouncementAsync(farm, job);

        // One images call per storyboard, each with the beat's own image prompt, at gpt-image-1's landscape size.
        var requests = images.Requests.Select(r => new ImagesRequest(
            (string?)r.Body["model"] ?? "", (string?)r.Body["size"] ?? "", (string?)r.Body["prompt"] ?? "", r.Authorization)).ToList();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(("gpt-image-1", "1536x1024", "Bearer sk-e2e"), (r.Model, r.Size, r.Authorization)));
        foreach (var beat in job.Plan.Spec.Beats)
        {
            Assert.Single(requests, r => r.Prompt.StartsWith(beat.ImagePrompt, StringComparison.Ordinal));
        }

        // Priced per image: three storyboards at $0.063 on a free video model.
        Assert.All(job.Tasks.Where(t => t.Kind == TaskKind.Storyboard), t => Assert.Equal(0.063, t.CostUsd, 6));
        Assert.Equal(0.189, job.CostUsd, 6);
    }

    /// <summary>
    /// The plan (announcement, 3 beats, 3 reference chunks), a 12.0 s video, storyboards that differ pairwise
    /// (SSIM &lt; 0.9), and each reference chunk's first frame in the final video matching its beat's storyboard (SSIM ≥ 0.95).
    /// </summary>
    private static async Task AssertAnnouncementAsync(LocalFarm farm, Job job)
    {
        Assert.Equal("announcement", job.Plan.Spec.Template);
        Assert.Equal(12.0, job.Plan.Spec.DurationSeconds, 3);
        Assert.Equal("prompt", job.Plan.Spec.DurationSource);
        Assert.Equal(3, job.Plan.Chunks.Count);
        Assert.Equal(3, job.Plan.Spec.Beats.Count);

        var final = await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri));
        Assert.InRange(final.DurationSeconds, 12 - 1 / 24.0, 12 + 1 / 24.0);
        Assert.Equal(("h264", 1280, 720), (final.Codec, final.Width, final.Height));

        // Reference chunks are checked in the raw cut, where each chunk sits at full length.
        var video = LocalFarm.RawCutPath(farm, job);
        var info = await Media.ProbeAsync(video);

        var references = job.Plan.Chunks.Where(c => c.IsReference).ToList();
        var beats = references.Select(c => c.BeatIndex).Distinct().Order().ToList();
        Assert.Equal([0, 1, 2], beats);
        string Storyboard(int beat) => Path.Combine(farm.ArtifactsRoot, "jobs", job.JobId, "storyboard", $"{beat}.png");

        for (var a = 0; a < beats.Count; a++)
        {
            for (var b = a + 1; b < beats.Count; b++)
            {
                var ssim = await Media.SsimAsync(Storyboard(beats[a]), Storyboard(beats[b]));
                Assert.True(ssim < 0.9, $"storyboards of beats {beats[a]} and {beats[b]} look alike: SSIM {ssim}");
            }
        }

        var frames = Path.Combine(farm.Directory, "frames");
        Directory.CreateDirectory(frames);
        var fps = (int)Math.Round(info.Fps);
        foreach (var chunk in references)
        {
            var first = await Media.FrameAsync(video, (int)Math.Round(chunk.Index * job.Plan.ClipSeconds * fps), Path.Combine(frames, $"{chunk.Index}-first.png"));
            var ssim = await Media.SsimAsync(first, Storyboard(chunk.BeatIndex));
            Assert.True(ssim >= 0.95, $"chunk {chunk.Index} does not start from the storyboard of beat {chunk.BeatIndex}: SSIM {ssim}");
        }
    }

    private sealed record ImagesRequest(string Model, string Size, string Prompt, string Authorization);

    /// <summary>Pictures for the three beats of the announcement (gpt-image-1's 1536x1024), keyed by how each beat's image prompt starts.</summary>
    private static async Task<Dictionary<string, byte[]>> BeatPicturesAsync(string directory)
    {
        (string PromptStart, string Source)[] pictures =
        [
            ("a bold eye-catching visual", "testsrc2=size=1536x1024:rate=1"),
            ("a clear hero image", "smptehdbars=size=1536x1024:rate=1"),
            ("a clean end frame", "gradients=s=1536x1024:c0=0xFF8800:c1=0x2200AA:n=2:seed=7:rate=1"),
        ];
        var pngs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (prompt, source) in pictures)
        {
            var png = Path.Combine(directory, $"{pngs.Count}.png");
            await Media.RunAsync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", "1", "-update", "1", png]);
            pngs[prompt] = await File.ReadAllBytesAsync(png);
        }

        return pngs;
    }

    /// <summary>A scratch folder deleted at dispose.</summary>
    private sealed class TempDirectory(string name) : IDisposable
    {
        public string Path { get; } = RepoPaths.NewTempDirectory(name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
