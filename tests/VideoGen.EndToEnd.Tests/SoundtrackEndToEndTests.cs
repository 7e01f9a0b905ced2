using System.Globalization;
using System.Text.RegularExpressions;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #11 end to end: the soundtrack made on the farm — the voiceover and the music as tasks of their own (espeak-ng
/// and the FFmpeg bed embedded, or OpenAI speech and MusicGen on Replicate through local stand-ins of their APIs), the
/// ducked two-pass loudnorm mix — and muxed by the finish, measured in the delivered MP4 with FFmpeg's own meters.
/// </summary>
public sealed partial class SoundtrackEndToEndTests
{
    private const string ShowcasePrompt = "A 30 second product showcase for a titanium smartwatch";

    [Theory]
    [InlineData("web", -14.0)]
    [InlineData("broadcast", -23.0)]
    public async Task Showcase_HasOneAacStreamOfTheVideosLength_AtTheLoudnessTarget_WithSpeechAtEveryBeat(string target, double lufs)
    {
        await using var farm = await LocalFarm.StartAsync($"soundtrack-{target}");
        var job = await farm.RunAsync(ShowcasePrompt, r => r.LoudnessTarget = target, TimeSpan.FromMinutes(4));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        var soundtrack = job.Tasks.Single(t => t.Kind == TaskKind.Soundtrack);
        Assert.Equal(TaskState.Succeeded, soundtrack.State);
        Assert.Equal(["voiceover", "music"], soundtrack.DependsOn);
        Assert.EndsWith("/voiceover.wav", job.Tasks.Single(t => t.Kind == TaskKind.Voiceover).OutputUri);
        Assert.EndsWith("/music.wav", job.Tasks.Single(t => t.Kind == TaskKind.Music).OutputUri);
        var video = LocalFarm.LocalPath(job.OutputUri);

        var streams = await Media.RunAsync("ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "stream=codec_name,profile,sample_rate,channels,duration", "-of", "csv=p=0", video]);
        var lines = streams.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var stream = Assert.Single(lines).Split(',');
        Assert.Equal(["aac", "LC", "48000", "2"], stream[..4]);
        Assert.InRange(double.Parse(stream[4], CultureInfo.InvariantCulture), 30 - 1 / 24.0, 30 + 1 / 24.0);

        var ebur = await Media.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-i", video, "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null", "-"], stderr: true);
        var summary = ebur[ebur.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        var integrated = double.Parse(Integrated().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
        var truePeak = double.Parse(Peak().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(integrated, lufs - 1, lufs + 1);
        Assert.True(truePeak <= -1.0, $"true peak {truePeak} dBTP");

        // Speech at every beat's start: energy in the speech band (1–4 kHz, where the music bed's low sines have
        // almost none) in the beat's first second, well above the silent gap just before the beat.
        foreach (var beat in job.Plan.Spec.Beats)
        {
            var speech = await SpeechBandDbAsync(video, beat.StartSeconds + 0.05, 0.9);
            Assert.True(speech > lufs - 25, $"no speech at beat {beat.Index} ({beat.StartSeconds}s): {speech:0.0} dB");
            if (beat.Index > 0)
            {
                var gap = await SpeechBandDbAsync(video, beat.StartSeconds - 0.12, 0.1);
                Assert.True(speech - gap > 10, $"beat {beat.Index}: speech {speech:0.0} dB against {gap:0.0} dB in the gap before it");
            }
        }
    }

    [Fact]
    public async Task HostedSpeechAndMusic_RunAsTasksOfTheirOwnFromTheStart_OnTheWorkerServingThem_CostCounted_LoudnessOnTarget()
    {
        // OpenAI speech answers a 1.8 kHz tone of 0.3 s a word (in the speech band); MusicGen a 30 s 220 Hz tone.
        await using var speech = await OpenAiStandIn.StartAsync((context, _, ct) =>
            OpenAiStandIn.WriteSpeechAsync(context, 0.3 * OpenAiStandIn.RequestOf(context).Body["input"]!.GetValue<string>().Split(' ').Length, ct));
        await using var replicate = await ReplicateStandIn.StartAsync();
        var generated = replicate.WriteAudio(30);
        replicate.Script = (_, _) => new PredictionScript(OutputFile: generated);
        await using var farm = await LocalFarm.StartAsync("soundtrack-hosted", new FarmOptions
        {
            Coordinator = new() { ["Soundtrack:VoiceModel"] = "tts-1", ["Soundtrack:MusicModel"] = "musicgen" },
            Worker = index => index != 1 ? [] : new()
            {
                ["Worker:Models"] = "procedural-i2v,procedural-image,tts-1,musicgen",
                ["OpenAI:BaseUrl"] = speech.BaseUrl,
                ["OpenAI:ApiKey"] = "sk-e2e",
                ["Replicate:BaseUrl"] = replicate.BaseUrl,
                ["Replicate:ApiToken"] = replicate.Options.ApiToken,
                ["Replicate:WaitSeconds"] = "1",
                ["Replicate:PollSeconds"] = "0.1",
                ["Replicate:PollMaxSeconds"] = "0.5",
            },
        });
        const string Prompt = "a 12 second showcase for a lamp";
        var estimate = await farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Job = new JobRequest { Prompt = Prompt } });

        var job = await farm.RunAsync(Prompt, _ => { }, TimeSpan.FromMinutes(6));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        var voiceover = job.Tasks.Single(t => t.Kind == TaskKind.Voiceover);
        var music = job.Tasks.Single(t => t.Kind == TaskKind.Music);
        var mix = job.Tasks.Single(t => t.Kind == TaskKind.Soundtrack);
        Assert.All(new[] { voiceover, music, mix }, t => Assert.Equal(TaskState.Succeeded, t.State));
        Assert.Equal(("worker-1", "worker-1"), (voiceover.WorkerId, music.WorkerId));
        // From the job's start: both began before the first chunk did, and the mix only after both ended.
        var firstChunk = job.Tasks.Where(t => t.Kind == TaskKind.Chunk).Min(t => t.StartedAt.ToDateTimeOffset());
        Assert.True(voiceover.StartedAt.ToDateTimeOffset() <= firstChunk && music.StartedAt.ToDateTimeOffset() <= firstChunk, "voiceover or music started after the chunks");
        Assert.True(mix.StartedAt.ToDateTimeOffset() >= new[] { voiceover.FinishedAt.ToDateTimeOffset(), music.FinishedAt.ToDateTimeOffset() }.Max());

        // Costs: every character sent to tts-1 at $0.000015, 12 s of MusicGen at $0.002; in the tasks, the job and the estimate.
        var characters = speech.Requests.Sum(r => r.Body["input"]!.GetValue<string>().Length);
        Assert.Equal(job.Plan.Spec.Beats.Sum(b => b.VoiceoverLine.Length), characters); // every line fitted at once
        Assert.Equal(characters * 0.000015, voiceover.CostUsd, 9);
        Assert.Equal(12 * 0.002, music.CostUsd, 9);
        Assert.Equal(voiceover.CostUsd + music.CostUsd, job.CostUsd, 6);
        Assert.Equal(job.CostUsd, estimate.CostUsd, 6);
        Assert.Equal(12, Assert.Single(replicate.Creates).Json!["input"]!["duration"]!.GetValue<int>());

        var video = LocalFarm.LocalPath(job.OutputUri);
        var ebur = await Media.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-i", video, "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null", "-"], stderr: true);
        var summary = ebur[ebur.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        Assert.InRange(double.Parse(Integrated().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture), -15, -13);
        Assert.True(double.Parse(Peak().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture) <= -1.0, summary);
        foreach (var beat in job.Plan.Spec.Beats)
        {
            Assert.True(await SpeechBandDbAsync(video, beat.StartSeconds + 0.05, 0.2) > -14 - 25, $"no speech at beat {beat.Index}");
        }
    }

    [Fact]
    public async Task AudioOff_NoAudioStream_NoSoundtrackTask()
    {
        await using var farm = await LocalFarm.StartAsync("soundtrack-off", new FarmOptions { Workers = 1 });
        var job = await farm.RunAsync("a 5 second showcase for a lamp", r => r.Audio = false, TimeSpan.FromMinutes(2));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.DoesNotContain(job.Tasks, t => t.Kind is TaskKind.Soundtrack or TaskKind.Voiceover or TaskKind.Music);
        var streams = await Media.RunAsync("ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "stream=codec_name", "-of", "csv=p=0", LocalFarm.LocalPath(job.OutputUri)]);
        Assert.Equal("", streams.Trim());
    }

    private static async Task<double> SpeechBandDbAsync(string video, double start, double length)
    {
        var stderr = await Media.RunAsync("ffmpeg",
        [
            "-hide_banner", "-nostdin", "-ss", start.ToString("0.###", CultureInfo.InvariantCulture), "-t", length.ToString("0.###", CultureInfo.InvariantCulture),
            "-i", video, "-map", "0:a", "-af", "highpass=f=1000,highpass=f=1000,lowpass=f=4000,astats=metadata=0:measure_perchannel=none", "-f", "null", "-",
        ], stderr: true);
        var text = RmsLevel().Match(stderr).Groups[1].Value;
        return text.Contains("inf", StringComparison.Ordinal) ? -200 : double.Parse(text, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"I:\s+(-?[0-9.]+) LUFS")]
    private static partial Regex Integrated();

    [GeneratedRegex(@"Peak:\s+(-?[0-9.]+) dBFS")]
    private static partial Regex Peak();

    [GeneratedRegex(@"RMS level dB:\s+(-?[0-9.inf]+)")]
    private static partial Regex RmsLevel();
}
