using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// The soundtrack's request options (audio on or off, voice, music style, loudness target), validated, and the
/// voiceover script the rules write: one line per beat, at most <see cref="WordsPerSecond"/> words per second of the beat.
/// </summary>
public static class SoundtrackPlanner
{
    /// <summary>Speech pace the lines are sized to: a line fits its beat spoken at a natural rate.</summary>
    public const double WordsPerSecond = 2.5;

    public static readonly IReadOnlyList<string> Voices = ["narrator", "bright", "warm", "calm"];

    public static readonly IReadOnlyList<string> MusicStyles = ["upbeat", "calm", "cinematic", "corporate"];

    /// <summary>Loudness target name → integrated LUFS.</summary>
    public static readonly IReadOnlyDictionary<string, double> LoudnessTargets = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["web"] = -14,
        ["broadcast"] = -23,
    };

    /// <summary>Adds a violation per bad soundtrack field of <paramref name="request"/>.</summary>
    public static void Validate(JobRequest request, List<FieldViolation> violations)
    {
        if (request.Voice.Length > 0 && !Voices.Contains(request.Voice))
        {
            violations.Add(new("job.voice", $"unknown voice '{Quote(request.Voice)}'; known: {string.Join(", ", Voices)}"));
        }

        if (request.MusicStyle.Length > 0 && !MusicStyles.Contains(request.MusicStyle))
        {
            violations.Add(new("job.music_style", $"unknown music style '{Quote(request.MusicStyle)}'; known: {string.Join(", ", MusicStyles)}"));
        }

        if (request.LoudnessTarget.Length > 0 && !LoudnessTargets.ContainsKey(request.LoudnessTarget))
        {
            violations.Add(new("job.loudness_target", $"unknown loudness target '{Quote(request.LoudnessTarget)}'; known: web (-14 LUFS), broadcast (-23 LUFS)"));
        }
    }

    /// <summary>Sets the spec's soundtrack plan (none when audio is off) and writes a line for every beat that has none.</summary>
    public static void Apply(JobRequest request, Template template, Spec spec)
    {
        if (request.HasAudio && !request.Audio)
        {
            return;
        }

        spec.Soundtrack = new SoundtrackPlan
        {
            Voice = request.Voice.Length > 0 ? request.Voice : "narrator",
            MusicStyle = request.MusicStyle.Length > 0 ? request.MusicStyle : MusicStyles.Contains(template.Music) ? template.Music : "corporate",
            LoudnessLufs = LoudnessTargets[request.LoudnessTarget.Length > 0 ? request.LoudnessTarget : "web"],
        };
        FillLines(spec);
    }

    /// <summary>Gives <paramref name="spec"/> the rules plan's soundtrack settings (an LLM spec) and fills its lines.</summary>
    public static void Adopt(Spec rulesSpec, Spec spec)
    {
        if (rulesSpec.Soundtrack is null)
        {
            return;
        }

        spec.Soundtrack = rulesSpec.Soundtrack.Clone();
        FillLines(spec);
    }

    /// <summary>Writes a line for every beat that has none and fits every line to its beat.</summary>
    public static void FillLines(Spec spec)
    {
        for (var i = 0; i < spec.Beats.Count; i++)
        {
            var beat = spec.Beats[i];
            beat.VoiceoverLine = Fit(beat.VoiceoverLine.Length > 0 ? beat.VoiceoverLine : Line(spec, beat, i), beat.LengthSeconds);
        }
    }

    /// <summary>The rules' line for a beat: an introduction, the beat's on-screen text, a call to action at the end.</summary>
    public static string Line(Spec spec, Beat beat, int index)
    {
        var text = beat.OnScreenText.TrimEnd('.', '!', ' ');
        if (index == 0)
        {
            return $"Introducing the {spec.Subject}.";
        }

        if (index == spec.Beats.Count - 1)
        {
            return text.Length > 0 ? $"{text}. Get yours today." : "Get yours today.";
        }

        return text.Length > 0 ? $"{text}." : $"The {spec.Subject}.";
    }

    /// <summary>Cuts <paramref name="line"/> at a word so it holds at most 2.5 words per second of the beat (at least one word).</summary>
    public static string Fit(string line, double beatSeconds)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var max = Math.Max(1, (int)Math.Floor(beatSeconds * WordsPerSecond));
        if (words.Length <= max)
        {
            return string.Join(' ', words);
        }

        return string.Join(' ', words.Take(max)).TrimEnd(',', ';', ':') + ".";
    }

    private static string Quote(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
