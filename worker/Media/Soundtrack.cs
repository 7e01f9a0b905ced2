using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VideoGen.Worker.Media;

/// <summary>One voiceover line: where its beat starts, how long the beat lasts, and the words.</summary>
public sealed record VoiceLine(double StartSeconds, double LengthSeconds, string Text);

/// <summary>A delivery loudness target: integrated LUFS and the true-peak ceiling (dBTP).</summary>
public sealed record LoudnessTarget(double IntegratedLufs, double TruePeakDbtp)
{
    /// <summary>Web and social (the default): -14 LUFS, -1 dBTP.</summary>
    public static LoudnessTarget Web { get; } = new(-14, -1);

    /// <summary>EBU R128 broadcast: -23 LUFS, -1 dBTP.</summary>
    public static LoudnessTarget Broadcast { get; } = new(-23, -1);
}

/// <summary>
/// Pure builders of the soundtrack's FFmpeg filter graphs: the music bed (<c>aevalsrc</c> per mood, a tempo whose
/// bar lines fall on the beat boundaries), a voice line's fit (<c>atempo</c>), the voice track (lines placed at their
/// beats), the duck (<c>sidechaincompress</c>) and the two <c>loudnorm</c> passes.
/// </summary>
public static class SoundtrackArguments
{
    /// <summary>Audio sample rate of every intermediate and of the delivered AAC.</summary>
    public const int SampleRate = 48_000;

    /// <summary>Silence kept before the next beat: a line never runs into it.</summary>
    public const double LineGapSeconds = 0.15;

    /// <summary>Tempo changes a line may get to fit its beat (0.9–1.1).</summary>
    public const double MaxTempo = 1.1;

    /// <summary>The moods the embedded music bed knows.</summary>
    public static IReadOnlyList<string> Moods { get; } = ["upbeat", "calm", "cinematic", "corporate"];

    private static readonly Dictionary<string, (double RootHz, double Decay, double KickLevel, double PreferredBar)> MoodSettings = new(StringComparer.Ordinal)
    {
        // Root note, how fast each pulse decays (1/s), kick level, preferred bar length (s).
        ["upbeat"] = (220.0, 6.0, 0.35, 2.0),       // 120 bpm, A3, punchy
        ["calm"] = (174.61, 1.5, 0.0, 3.0),        // 80 bpm, F3, soft pad
        ["cinematic"] = (146.83, 0.8, 0.25, 2.6),  // ~92 bpm, D3, swelling
        ["corporate"] = (196.0, 3.5, 0.2, 2.2),    // ~109 bpm, G3
    };

    private static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>
    /// The bar length (seconds, 4 beats) such that every beat boundary is a whole number of bars: the boundaries'
    /// common divisor split into the whole number of bars closest to the mood's preferred bar length (1.5–3.5 s).
    /// </summary>
    public static double BarSeconds(IReadOnlyList<double> boundaries, string mood)
    {
        var preferred = MoodSettings.TryGetValue(mood, out var s) ? s.PreferredBar : 2.0;
        // Work in milliseconds; beats are planned to the millisecond.
        long divisor = 0;
        foreach (var b in boundaries)
        {
            var ms = (long)Math.Round(b * 1000);
            if (ms > 0)
            {
                divisor = Gcd(divisor, ms);
            }
        }

        if (divisor == 0)
        {
            return preferred;
        }

        var common = divisor / 1000.0;
        var bars = Math.Max(1, (int)Math.Round(common / preferred));
        // A common divisor under 1.5 s (odd beat lengths): fall back to the preferred bar.
        var bar = common / bars;
        return bar < 1.0 ? preferred : bar;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>
    /// Sample rate the music bed is synthesised at: the bed is low-passed at 5 kHz, so 24 kHz loses nothing, and it
    /// halves the expression's evaluations before the resample to <see cref="SampleRate"/>.
    /// </summary>
    public const int MusicSynthesisRate = 24_000;

    /// <summary>Bars in one phrase of the bed: the I–vi–IV–V progression, a chord per bar, then it repeats.</summary>
    public const int BarsPerPhrase = 4;

    /// <summary>
    /// The seconds of music the expression is evaluated for: one phrase (the bed repeats it, <c>aloop</c>), or the
    /// whole duration when that is shorter.
    /// </summary>
    public static double PhraseSeconds(double barSeconds, double durationSeconds) => Math.Min(barSeconds * BarsPerPhrase, durationSeconds);

    /// <summary>
    /// The music bed's source: an <c>aevalsrc</c> expression of a I–vi–IV–V progression (a chord per bar, a triad
    /// pulsing on every beat) plus a kick per mood, mono at <see cref="MusicSynthesisRate"/>, for one phrase only.
    /// <c>aevalsrc</c> evaluates its expression per sample and channel; one mono phrase at 24 kHz instead of 30 s of
    /// 48 kHz stereo is a tenth of the evaluations or less (bench figures in Media/README.md).
    /// </summary>
    public static string MusicBedSource(string mood, double barSeconds, double durationSeconds)
    {
        if (!MoodSettings.TryGetValue(mood, out var s))
        {
            throw new ArgumentException($"Unknown music mood '{mood}'.", nameof(mood));
        }

        var beat = barSeconds / 4;
        // Semitones of the chord root per bar: I, vi, IV, V.
        var root = $"{F(s.RootHz)}*pow(2\\,if(eq(mod(floor(t/{F(barSeconds)})\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/{F(barSeconds)})\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/{F(barSeconds)})\\,4)\\,2)\\,5\\,7)))/12)";
        var pulse = $"(0.35+0.65*exp(-{F(s.Decay)}*mod(t\\,{F(beat)})))";
        var triad = $"(sin(2*PI*{root}*t)+0.6*sin(2*PI*{root}*1.259921*t)+0.5*sin(2*PI*{root}*1.498307*t)+0.3*sin(PI*{root}*t))";
        var kick = s.KickLevel > 0 ? $"+{F(s.KickLevel)}*sin(2*PI*55*mod(t\\,{F(beat)}))*exp(-18*mod(t\\,{F(beat)}))" : "";
        var expr = $"0.12*{pulse}*{triad}{kick}";
        return $"aevalsrc='{expr}':s={MusicSynthesisRate}:c=mono:d={F(PhraseSeconds(barSeconds, durationSeconds))}";
    }

    /// <summary>
    /// The filter after the music source: the phrase looped (<c>aloop</c>, whole phrases, so bar lines stay on the
    /// beat boundaries) and cut to the duration, low-passed, faded in over a second and out over the last two,
    /// resampled to 48 kHz stereo.
    /// </summary>
    public static string MusicBedFilter(double barSeconds, double durationSeconds)
    {
        var fadeOut = Math.Max(0, durationSeconds - 2);
        var phraseSamples = (long)Math.Round(PhraseSeconds(barSeconds, durationSeconds) * MusicSynthesisRate);
        return $"aloop=loop=-1:size={phraseSamples},atrim=end={F(durationSeconds)},lowpass=f=5000," +
            $"afade=t=in:st=0:d=1,afade=t=out:st={F(fadeOut)}:d={F(Math.Min(2, durationSeconds))}," +
            $"aresample={SampleRate},aformat=sample_fmts=s16:channel_layouts=stereo";
    }

    /// <summary>
    /// A hosted model's music brought to the bed's form: looped when shorter than the duration, 48 kHz stereo, faded in
    /// over a second and out over the last two, exactly the duration.
    /// </summary>
    public static IReadOnlyList<string> NormaliseMusicArguments(string inputPath, double durationSeconds, string outputPath)
    {
        var fadeOut = Math.Max(0, durationSeconds - 2);
        return
        [
            "-y", "-stream_loop", "-1", "-i", inputPath,
            "-af", $"aresample={SampleRate},aformat=sample_fmts=s16:channel_layouts=stereo,atrim=end={F(durationSeconds)}," +
                $"afade=t=in:st=0:d=1,afade=t=out:st={F(fadeOut)}:d={F(Math.Min(2, durationSeconds))}",
            "-t", F(durationSeconds), "-c:a", "pcm_s16le", outputPath,
        ];
    }

    /// <summary>The tempo (1 = unchanged, at most 1.1) that fits a line of <paramref name="spokenSeconds"/> into its slot; null when it cannot.</summary>
    public static double? FitTempo(double spokenSeconds, double slotSeconds)
    {
        if (spokenSeconds <= slotSeconds)
        {
            return 1.0;
        }

        var tempo = spokenSeconds / slotSeconds;
        return tempo <= MaxTempo ? tempo : null;
    }

    /// <summary>The usable length of a beat for its line: the beat less a gap before the next beat.</summary>
    public static double SlotSeconds(VoiceLine line) => Math.Max(0.2, line.LengthSeconds - LineGapSeconds);

    /// <summary>
    /// The voice track's <c>-filter_complex</c>: each fitted line (input i) resampled, tempo-fitted, hard-limited to its
    /// slot with a 30 ms fade, delayed to its beat start; the lines mixed and padded or cut to exactly the duration.
    /// </summary>
    public static string VoiceTrackFilter(IReadOnlyList<(VoiceLine Line, double Tempo)> lines, double durationSeconds)
    {
        var graph = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            var (line, tempo) = lines[i];
            var slot = SlotSeconds(line);
            var delayMs = (long)Math.Round(line.StartSeconds * 1000);
            graph.Append(CultureInfo.InvariantCulture,
                $"[{i}:a]aresample={SampleRate},aformat=sample_fmts=fltp:channel_layouts=mono,atempo={F(tempo)},atrim=end={F(slot)},afade=t=out:st={F(Math.Max(0, slot - 0.03))}:d=0.03,adelay={delayMs}:all=1[v{i}];");
        }

        if (lines.Count == 0)
        {
            return $"anullsrc=r={SampleRate}:cl=mono,atrim=end={F(durationSeconds)}[voice]";
        }

        for (var i = 0; i < lines.Count; i++)
        {
            graph.Append(CultureInfo.InvariantCulture, $"[v{i}]");
        }

        graph.Append(CultureInfo.InvariantCulture,
            $"amix=inputs={lines.Count}:normalize=0:duration=longest,apad=whole_dur={F(durationSeconds)},atrim=end={F(durationSeconds)}[voice]");
        return graph.ToString();
    }

    /// <summary>
    /// The pre-mix (input 0 voice, input 1 music) and loudnorm's first pass in one graph: the music ducked under the
    /// voice with <c>sidechaincompress</c> (the voice is the side chain), both summed in stereo, exactly the duration
    /// (<c>[mix]</c>), and the same audio measured (<c>[measure]</c>, to a null output; the JSON is on stderr).
    /// </summary>
    public static string PremixFilter(double durationSeconds, LoudnessTarget target) =>
        "[0:a]aformat=sample_fmts=fltp:channel_layouts=stereo,asplit=2[voice][side];" +
        "[1:a]aformat=sample_fmts=fltp:channel_layouts=stereo[music];" +
        "[music][side]sidechaincompress=threshold=0.015:ratio=12:attack=15:release=350:makeup=1[ducked];" +
        $"[voice][ducked]amix=inputs=2:normalize=0:duration=longest,apad=whole_dur={F(durationSeconds)},atrim=end={F(durationSeconds)},asplit=2[mix][premix];" +
        $"[premix]{LoudnormMeasure(target)}[measure]";

    /// <summary>The pre-mix run: <see cref="PremixFilter"/> to a 32-bit float WAV and to the measurement.</summary>
    public static IReadOnlyList<string> PremixArguments(string voicePath, string musicPath, double durationSeconds, LoudnessTarget target, string premixPath) =>
    [
        "-y", "-i", voicePath, "-i", musicPath,
        "-filter_complex", PremixFilter(durationSeconds, target),
        "-map", "[mix]", "-c:a", "pcm_f32le", premixPath,
        "-map", "[measure]", "-f", "null", "-",
    ];

    /// <summary>The second pass: the pre-mix normalised with the first pass's measurements, AAC-LC 192 kb/s 48 kHz stereo, exactly the duration.</summary>
    public static IReadOnlyList<string> EncodeArguments(string premixPath, LoudnessTarget target, LoudnormMeasurement measured, double durationSeconds, string outputPath) =>
    [
        "-y", "-i", premixPath,
        "-af", LoudnormApply(target, measured, durationSeconds),
        "-c:a", "aac", "-profile:a", "aac_low", "-b:a", "192k", "-ar", SampleRate.ToString(CultureInfo.InvariantCulture), "-ac", "2",
        "-t", F(durationSeconds), "-movflags", "+faststart", outputPath,
    ];

    /// <summary>The music bed run: one phrase synthesised, looped, shaped and written as a 48 kHz stereo WAV.</summary>
    public static IReadOnlyList<string> MusicBedArguments(string mood, double barSeconds, double durationSeconds, string outputPath) =>
    [
        "-y", "-f", "lavfi", "-i", MusicBedSource(mood, barSeconds, durationSeconds),
        "-af", MusicBedFilter(barSeconds, durationSeconds),
        "-c:a", "pcm_s16le", outputPath,
    ];

    /// <summary>
    /// loudnorm's targets. The true-peak ceiling is set 1 dB under the delivery ceiling: AAC encoding overshoots by a
    /// fraction of a dB.
    /// </summary>
    public static string LoudnormTargets(LoudnessTarget target) =>
        $"I={F(target.IntegratedLufs)}:TP={F(target.TruePeakDbtp - 1)}:LRA=20";

    /// <summary>Pass 1: measure (prints a JSON block on stderr).</summary>
    public static string LoudnormMeasure(LoudnessTarget target) => $"loudnorm={LoudnormTargets(target)}:print_format=json";

    /// <summary>Pass 2: normalise linearly with pass 1's measurements, back to 48 kHz, exactly the duration.</summary>
    public static string LoudnormApply(LoudnessTarget target, LoudnormMeasurement m, double durationSeconds) =>
        $"loudnorm={LoudnormTargets(target)}:measured_I={F(m.InputI)}:measured_TP={F(m.InputTp)}:measured_LRA={F(m.InputLra)}:measured_thresh={F(m.InputThresh)}:offset={F(m.TargetOffset)}:linear=true," +
        $"aresample={SampleRate},apad=whole_dur={F(durationSeconds)},atrim=end={F(durationSeconds)}";
}

/// <summary>loudnorm's first-pass measurement.</summary>
public sealed record LoudnormMeasurement(double InputI, double InputTp, double InputLra, double InputThresh, double TargetOffset)
{
    /// <summary>Parses the JSON block loudnorm prints at the end of stderr.</summary>
    public static LoudnormMeasurement Parse(string stderr)
    {
        var open = stderr.LastIndexOf('{');
        var close = stderr.LastIndexOf('}');
        if (open < 0 || close < open)
        {
            throw new InvalidDataException("loudnorm printed no measurement.");
        }

        using var doc = JsonDocument.Parse(stderr[open..(close + 1)]);
        double Read(string name)
        {
            var text = doc.RootElement.GetProperty(name).GetString() ?? "";
            // Silence measures as -inf: treat it as very quiet.
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : -70;
        }

        return new LoudnormMeasurement(Read("input_i"), Read("input_tp"), Read("input_lra"), Read("input_thresh"), Read("target_offset"));
    }
}

/// <summary>Speaks one text into an audio file (any format FFmpeg reads); returns what the call billed, in characters.</summary>
public delegate Task<int> SpeakText(string text, string outputPath, CancellationToken cancellationToken);

/// <summary>The voice track and what making it took: model calls, characters sent, seconds of the calls.</summary>
public sealed record VoiceTrack(string Path, int Calls, int CharactersBilled, double SpokenSeconds);

/// <summary>
/// Makes the soundtrack's parts with real tools: speech fitted per beat (espeak-ng, or any <see cref="SpeakText"/>),
/// the FFmpeg music bed, and the ducked, two-pass loudness-normalised AAC mix.
/// </summary>
public sealed class SoundtrackMaker
{
    private readonly string _workDirectory;

    public SoundtrackMaker(string workDirectory)
    {
        _workDirectory = workDirectory;
        Directory.CreateDirectory(workDirectory);
    }

    /// <summary>The catalog's voice names (a request's <c>voice</c>); every speech model maps them to its own voices.</summary>
    public static IReadOnlyList<string> Voices { get; } = ["narrator", "bright", "warm", "calm"];

    /// <summary>espeak-ng voices offered (the catalog's voice names map to these).</summary>
    public static IReadOnlyDictionary<string, string> EspeakVoices { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["narrator"] = "en-us+m3",
        ["bright"] = "en-us+f3",
        ["warm"] = "en-gb+m1",
        ["calm"] = "en-gb+f2",
    };

    /// <summary>espeak-ng's argv for one line: the voice, 165 words a minute, a WAV file.</summary>
    public static IReadOnlyList<string> EspeakArguments(string voice, string text, string outputPath) =>
        ["-v", EspeakVoices.TryGetValue(voice, out var v) ? v : throw new ArgumentException($"Unknown voice '{voice}'.", nameof(voice)), "-s", "165", "-w", outputPath, text];

    /// <summary>Speaks with espeak-ng (offline, free: bills nothing).</summary>
    public static SpeakText Espeak(string voice) => async (text, outputPath, cancellationToken) =>
    {
        await ProcessRunner.RunAsync("espeak-ng", EspeakArguments(voice, text, outputPath), cancellationToken);
        return 0;
    };

    /// <summary>
    /// Speaks one line into an audio file that fits its beat: as is, or up to 1.1× faster, else with words cut from the
    /// end (a word boundary) until it fits at 1.1×. Returns the file, the tempo to apply, and the calls and characters
    /// it took (each re-speak is billed again).
    /// </summary>
    public async Task<(string Path, double Tempo, int Calls, int Characters)> SpeakFittedAsync(VoiceLine line, SpeakText speak, int index, CancellationToken cancellationToken)
    {
        var slot = SoundtrackArguments.SlotSeconds(line);
        var words = line.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var path = Path.Combine(_workDirectory, $"line-{index}.wav");
        var (calls, characters) = (0, 0);
        while (true)
        {
            characters += await speak(string.Join(' ', words), path, cancellationToken);
            calls++;
            var spoken = await DurationAsync(path, cancellationToken);
            if (SoundtrackArguments.FitTempo(spoken, slot) is { } tempo)
            {
                return (path, Math.Max(tempo, 0.9), calls, characters);
            }

            if (words.Count <= 1)
            {
                // One word that does not fit: the filter cuts it at the slot.
                return (path, SoundtrackArguments.MaxTempo, calls, characters);
            }

            // Drop words in proportion to the overrun, at least one.
            var keep = (int)Math.Floor(words.Count * slot * SoundtrackArguments.MaxTempo / spoken);
            words = words.Take(Math.Clamp(keep, 1, words.Count - 1)).ToList();
        }
    }

    /// <summary>The voice track spoken by espeak-ng in <paramref name="voice"/>.</summary>
    public async Task<string> VoiceTrackAsync(IReadOnlyList<VoiceLine> lines, string voice, double durationSeconds, string outputPath, CancellationToken cancellationToken) =>
        (await VoiceTrackAsync(lines, Espeak(voice), durationSeconds, outputPath, cancellationToken)).Path;

    /// <summary>
    /// The voice track: every line spoken (lines at once, at most <paramref name="parallelLines"/>: a hosted model's
    /// round trips overlap), fitted and placed at its beat, in one mono WAV of exactly the duration.
    /// </summary>
    public async Task<VoiceTrack> VoiceTrackAsync(IReadOnlyList<VoiceLine> lines, SpeakText speak, double durationSeconds, string outputPath, CancellationToken cancellationToken, int parallelLines = 1, Action<int>? lineDone = null)
    {
        var spoken = new (VoiceLine Line, string Path, double Tempo, int Calls, int Characters)?[lines.Count];
        using var gate = new SemaphoreSlim(Math.Max(1, parallelLines));
        // The first line that fails stops the others: the task fails anyway, and a hosted model bills every call.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var done = 0;
        var speaking = Enumerable.Range(0, lines.Count).Where(i => !string.IsNullOrWhiteSpace(lines[i].Text)).Select(async i =>
        {
            await gate.WaitAsync(failed.Token);
            try
            {
                var (path, tempo, calls, characters) = await SpeakFittedAsync(lines[i], speak, i, failed.Token);
                spoken[i] = (lines[i], path, tempo, calls, characters);
                lineDone?.Invoke(Interlocked.Increment(ref done));
            }
            catch (Exception) when (!failed.IsCancellationRequested)
            {
                await failed.CancelAsync();
                throw;
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        try
        {
            await Task.WhenAll(speaking);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A sibling's cancellation surfaced first: report the line that failed, not the lines it stopped.
            throw speaking.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException) ?? throw new InvalidOperationException("A voiceover line was cancelled.");
        }

        var fitted = spoken.Where(x => x is not null).Select(x => x!.Value).ToList();
        var args = new List<string> { "-y" };
        foreach (var line in fitted)
        {
            args.AddRange(["-i", line.Path]);
        }

        if (fitted.Count == 0)
        {
            args.AddRange(["-f", "lavfi", "-i", $"anullsrc=r={SoundtrackArguments.SampleRate}:cl=mono"]);
            args.AddRange(["-filter_complex", $"[0:a]atrim=end={durationSeconds.ToString(CultureInfo.InvariantCulture)}[voice]"]);
        }
        else
        {
            args.AddRange(["-filter_complex", SoundtrackArguments.VoiceTrackFilter(fitted.Select(l => (l.Line, l.Tempo)).ToList(), durationSeconds)]);
        }

        args.AddRange(["-map", "[voice]", "-ar", SoundtrackArguments.SampleRate.ToString(CultureInfo.InvariantCulture), "-c:a", "pcm_s16le", outputPath]);
        await Ffmpeg(args, cancellationToken);
        return new VoiceTrack(outputPath, fitted.Sum(l => l.Calls), fitted.Sum(l => l.Characters), fitted.Sum(l => l.Line.LengthSeconds));
    }

    /// <summary>The embedded music bed per mood, bars on the beat boundaries, as a stereo WAV of exactly the duration.</summary>
    public async Task<string> MusicBedAsync(string mood, IReadOnlyList<double> beatBoundaries, double durationSeconds, string outputPath, CancellationToken cancellationToken)
    {
        var bar = SoundtrackArguments.BarSeconds(beatBoundaries, mood);
        await Ffmpeg(SoundtrackArguments.MusicBedArguments(mood, bar, durationSeconds, outputPath), cancellationToken);
        return outputPath;
    }

    /// <summary>A hosted model's music as the bed: looped when short, 48 kHz stereo, faded, exactly the duration.</summary>
    public async Task<string> NormaliseMusicAsync(string inputPath, double durationSeconds, string outputPath, CancellationToken cancellationToken)
    {
        await Ffmpeg(SoundtrackArguments.NormaliseMusicArguments(inputPath, durationSeconds, outputPath), cancellationToken);
        return outputPath;
    }

    /// <summary>
    /// The delivered soundtrack: music ducked under the voice and measured in one run, then normalised (loudnorm's
    /// second pass) and encoded AAC-LC 48 kHz stereo, exactly the duration (an .m4a).
    /// </summary>
    public async Task<string> MixAsync(string voicePath, string musicPath, double durationSeconds, LoudnessTarget target, string outputPath, CancellationToken cancellationToken)
    {
        var premix = Path.Combine(_workDirectory, "premix.wav");
        var stderr = await Ffmpeg(SoundtrackArguments.PremixArguments(voicePath, musicPath, durationSeconds, target, premix), cancellationToken);
        var measured = LoudnormMeasurement.Parse(stderr);
        await Ffmpeg(SoundtrackArguments.EncodeArguments(premix, target, measured, durationSeconds, outputPath), cancellationToken);
        return outputPath;
    }

    /// <summary>
    /// A file's duration in seconds: from its header when it is a plain PCM WAV (espeak-ng's and OpenAI's lines; no
    /// process to start), else from ffprobe.
    /// </summary>
    public static async Task<double> DurationAsync(string path, CancellationToken cancellationToken)
    {
        if (WavHeader.TryReadSeconds(path) is { } seconds)
        {
            return seconds;
        }

        var stdout = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path], cancellationToken, captureStdout: true);
        return double.Parse(stdout.Trim(), CultureInfo.InvariantCulture);
    }

    private static Task<string> Ffmpeg(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", .. args], cancellationToken);
}

/// <summary>Reads a RIFF/WAVE header: the PCM data's length in seconds.</summary>
public static class WavHeader
{
    /// <summary>
    /// Seconds of PCM audio in the WAV at <paramref name="path"/>; null when it is not a WAV this reader understands.
    /// A streamed WAV whose data size is a placeholder (0 or 0xFFFFFFFF: OpenAI's) is measured by the file's length.
    /// </summary>
    public static double? TryReadSeconds(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[12];
        if (file.Read(head) != 12 || !head[..4].SequenceEqual("RIFF"u8) || !head[8..12].SequenceEqual("WAVE"u8))
        {
            return null;
        }

        int? byteRate = null;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> format = stackalloc byte[16];
        while (file.Read(chunk) == 8)
        {
            var size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("fmt "u8))
            {
                if (size < 16 || file.Read(format) != 16 || System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(format) is not (1 or 3))
                {
                    return null; // Not PCM or float PCM.
                }

                byteRate = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(format[8..]);
                file.Seek(size - 16 + (size & 1), SeekOrigin.Current);
            }
            else if (chunk[..4].SequenceEqual("data"u8))
            {
                var left = file.Length - file.Position;
                var bytes = size is 0 or uint.MaxValue || size > left ? left : size;
                return byteRate is > 0 ? bytes / (double)byteRate.Value : null;
            }
            else
            {
                file.Seek(size + (size & 1), SeekOrigin.Current);
            }
        }

        return null;
    }
}

/// <summary>Runs a tool, killing it at once on cancellation; throws with its stderr on failure.</summary>
internal static class ProcessRunner
{
    public static async Task<string> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool captureStdout = false)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            throw;
        }

        var errors = await stderr;
        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidDataException($"{fileName} failed ({process.ExitCode}): {Tail(errors)}");
        }

        Observability.WorkerMetrics.FfmpegStep.WithLabels(fileName == "ffmpeg" ? "audio" : fileName).Observe(stopwatch.Elapsed.TotalSeconds);
        return captureStdout ? output : errors;
    }

    private static string Tail(string text) => text.Length <= 800 ? text : text[^800..];
}
