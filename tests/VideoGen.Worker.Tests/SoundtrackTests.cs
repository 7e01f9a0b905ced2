using System.Globalization;
using System.Text.RegularExpressions;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Tests;

/// <summary>Measures what the soundtrack steps produce with FFmpeg's own meters (ebur128, astats), independent of the code under test.</summary>
public sealed partial class SoundtrackTests
{
    private static readonly VoiceLine[] Lines =
    [
        new(0, 5, "Meet the titanium watch."),
        new(5, 10, "Light, strong, and built for every day you live."),
        new(15, 10, "Sapphire glass. Seven day battery. Made to last."),
        new(25, 5, "Order yours today."),
    ];

    [Theory(Timeout = 180_000)]
    [InlineData(-14.0)]
    [InlineData(-23.0)]
    public async Task Mix_MeetsLoudnessTarget_TruePeakAndExactLength(double lufs)
    {
        using var folder = new TempFolder();
        var token = Timeouts.After(170);
        var maker = new SoundtrackMaker(folder.File("work"));
        var voice = await maker.VoiceTrackAsync(Lines, "narrator", 30, folder.File("voice.wav"), token);
        var music = await maker.MusicBedAsync("upbeat", [0, 5, 15, 25, 30], 30, folder.File("music.wav"), token);
        var output = await maker.MixAsync(voice, music, 30, new LoudnessTarget(lufs, -1), folder.File("mix.m4a"), token);

        var (integrated, truePeak) = await LoudnessAsync(output, token);
        Assert.InRange(integrated, lufs - 1, lufs + 1);
        Assert.True(truePeak <= -1.0, $"true peak {truePeak} dBTP");

        var (stdout, _) = await FfmpegProbeStreams(output, token);
        Assert.Contains("codec_name=aac", stdout, StringComparison.Ordinal);
        Assert.Contains("profile=LC", stdout, StringComparison.Ordinal);
        Assert.Contains("sample_rate=48000", stdout, StringComparison.Ordinal);
        Assert.Contains("channels=2", stdout, StringComparison.Ordinal);
        var duration = await SoundtrackMaker.DurationAsync(output, token);
        Assert.InRange(duration, 30 - 1 / 24.0, 30 + 1 / 24.0);
    }

    [Fact(Timeout = 120_000)]
    public async Task VoiceTrack_SpeechStartsAtEveryBeat_AndEndsBeforeTheNext()
    {
        using var folder = new TempFolder();
        var token = Timeouts.After(110);
        var maker = new SoundtrackMaker(folder.File("work"));
        // The second line is far too long for its 3 s beat: it must be cut at a word boundary, not run on.
        VoiceLine[] lines =
        [
            new(0, 3, "Meet the watch."),
            new(3, 3, "Built from aerospace titanium with a sapphire crystal and a battery that lasts a whole week long."),
            new(6, 4, "Order yours today."),
        ];
        var voice = await maker.VoiceTrackAsync(lines, "narrator", 10, folder.File("voice.wav"), token);

        Assert.InRange(await SoundtrackMaker.DurationAsync(voice, token), 9.99, 10.01);
        foreach (var line in lines)
        {
            // Speech within the first 0.6 s of the beat, silence in the gap before the next beat.
            Assert.True(await RmsDbAsync(voice, line.StartSeconds, 0.6, token) > -40, $"no speech at {line.StartSeconds}s");
            var gapStart = line.StartSeconds + line.LengthSeconds - SoundtrackArguments.LineGapSeconds + 0.01;
            Assert.True(await RmsDbAsync(voice, gapStart, SoundtrackArguments.LineGapSeconds - 0.02, token) < -60, $"speech runs into the beat after {line.StartSeconds}s");
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Mix_DucksMusicUnderVoice()
    {
        using var folder = new TempFolder();
        var token = Timeouts.After(110);
        var maker = new SoundtrackMaker(folder.File("work"));
        var music = await maker.MusicBedAsync("upbeat", [0, 4, 8], 8, folder.File("music.wav"), token);
        var voice = await maker.VoiceTrackAsync([new(4, 4, "Order yours today, right now.")], "narrator", 8, folder.File("voice.wav"), token);
        var silent = await maker.VoiceTrackAsync([], "narrator", 8, folder.File("silent.wav"), token);

        // Ducking = music under the voice quieter than the same music mixed with no voice. Compare the music alone
        // by mixing both and subtracting is not possible after loudnorm; instead measure the premix's music channel
        // via the ducked premix of a silent voice (no ducking) and of the voice (ducking), at the same loudness target,
        // in the span 1–3 s (no voice in either): the ducked mix there must be louder relative to the voiced span.
        var withVoice = await maker.MixAsync(voice, music, 8, LoudnessTarget.Web, folder.File("voiced.m4a"), token);
        var musicOnly = await new SoundtrackMaker(folder.File("work2")).MixAsync(silent, music, 8, LoudnessTarget.Web, folder.File("music.m4a"), token);
        Assert.InRange(await SoundtrackMaker.DurationAsync(musicOnly, token), 7.95, 8.05);

        // Music level in 1–3 s minus 4.5–7 s: with no voice the bed is steady; with a voice the bed drops under it.
        // So the low band (below speech, where only the music lives) drops in the voiced span only when ducked.
        var steady = await RmsDbAsync(musicOnly, 1, 2, token, "lowpass=f=70,lowpass=f=70") - await RmsDbAsync(musicOnly, 4.5, 1.5, token, "lowpass=f=70,lowpass=f=70");
        var ducked = await RmsDbAsync(withVoice, 1, 2, token, "lowpass=f=70,lowpass=f=70") - await RmsDbAsync(withVoice, 4.5, 1.5, token, "lowpass=f=70,lowpass=f=70");
        Assert.True(ducked - steady > 3, $"music not ducked under the voice: steady {steady:0.0} dB, with voice {ducked:0.0} dB");
    }

    [Fact]
    public void BarSeconds_PutsEveryBeatBoundaryOnABarLine()
    {
        var bar = SoundtrackArguments.BarSeconds([0, 5, 15, 25, 30], "upbeat");
        Assert.Equal(2.5, bar, 6);
        var odd = SoundtrackArguments.BarSeconds([0, 3.75, 11.25, 15], "calm");
        foreach (var b in new[] { 3.75, 11.25, 15 })
        {
            Assert.Equal(0, Math.IEEERemainder(b, odd), 6);
        }
    }

    [Fact]
    public void FitTempo_WithinTenPercent_ElseNone()
    {
        Assert.Equal(1.0, SoundtrackArguments.FitTempo(2.0, 3.0));
        Assert.Equal(1.05, SoundtrackArguments.FitTempo(3.15, 3.0)!.Value, 6);
        Assert.Null(SoundtrackArguments.FitTempo(3.5, 3.0));
    }

    [Fact]
    public void LoudnormApply_UsesFirstPassMeasurementsLinearly()
    {
        var filter = SoundtrackArguments.LoudnormApply(LoudnessTarget.Broadcast, new LoudnormMeasurement(-20.5, -3.2, 6.1, -31, 0.4), 30);
        Assert.Equal(
            "loudnorm=I=-23:TP=-2:LRA=20:measured_I=-20.5:measured_TP=-3.2:measured_LRA=6.1:measured_thresh=-31:offset=0.4:linear=true,aresample=48000,apad=whole_dur=30,atrim=end=30",
            filter);
    }

    private static async Task<(double Integrated, double TruePeak)> LoudnessAsync(string file, CancellationToken token)
    {
        var (_, stderr) = await FfmpegProbe.RunAsync(token, "-i", file, "-af", "ebur128=peak=true", "-f", "null", "-");
        var summary = stderr[stderr.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        var i = double.Parse(Integrated().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
        var peak = double.Parse(Peak().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
        return (i, peak);
    }

    private static async Task<double> RmsDbAsync(string file, double start, double length, CancellationToken token, string? filter = null)
    {
        var af = (filter is null ? "" : filter + ",") + "astats=metadata=0:measure_perchannel=none";
        var (_, stderr) = await FfmpegProbe.RunAsync(token,
            "-ss", start.ToString("0.###", CultureInfo.InvariantCulture), "-t", length.ToString("0.###", CultureInfo.InvariantCulture),
            "-i", file, "-af", af, "-f", "null", "-");
        var match = RmsLevel().Match(stderr);
        Assert.True(match.Success, stderr);
        var text = match.Groups[1].Value;
        return text.Contains("inf", StringComparison.Ordinal) ? -200 : double.Parse(text, CultureInfo.InvariantCulture);
    }

    private static async Task<(string Stdout, string Stderr)> FfmpegProbeStreams(string file, CancellationToken token)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-show_streams", file })
        {
            start.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(start)!;
        var o = p.StandardOutput.ReadToEndAsync(token);
        var e = p.StandardError.ReadToEndAsync(token);
        await p.WaitForExitAsync(token);
        return (await o, await e);
    }

    [GeneratedRegex(@"I:\s+(-?[0-9.]+) LUFS")]
    private static partial Regex Integrated();

    [GeneratedRegex(@"Peak:\s+(-?[0-9.]+) dBFS")]
    private static partial Regex Peak();

    [GeneratedRegex(@"RMS level dB:\s+(-?[0-9.inf]+)")]
    private static partial Regex RmsLevel();
}
