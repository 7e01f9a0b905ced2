using System.Globalization;
using System.Text.RegularExpressions;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #11 end to end: the soundtrack made on the farm (espeak-ng voiceover, FFmpeg music bed, ducked two-pass
/// loudnorm mix) and muxed by the finish, measured in the delivered MP4 with FFmpeg's own meters.
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
    public async Task AudioOff_NoAudioStream_NoSoundtrackTask()
    {
        await using var farm = await LocalFarm.StartAsync("soundtrack-off", new FarmOptions { Workers = 1 });
        var job = await farm.RunAsync("a 5 second showcase for a lamp", r => r.Audio = false, TimeSpan.FromMinutes(2));

        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        Assert.DoesNotContain(job.Tasks, t => t.Kind == TaskKind.Soundtrack);
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
