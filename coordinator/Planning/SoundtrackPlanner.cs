using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Errors;

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

    /// <summary>
    /// Sets the spec's soundtrack plan (none when audio is off): the request's options, the farm's speech and music
    /// models (<paramref name="models"/>), a line for every beat that has none, and the planned cost of both models.
    /// </summary>
    public static void Apply(JobRequest request, Template template, Spec spec, ModelCatalog catalog, SoundtrackModels models)
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
            VoiceModel = models.VoiceModel,
            MusicModel = models.MusicModel,
        };
        FillLines(spec);
        Price(spec, catalog);
    }

    /// <summary>Gives <paramref name="spec"/> the rules plan's soundtrack settings (an LLM spec), fills its lines and prices them.</summary>
    public static void Adopt(Spec rulesSpec, Spec spec, ModelCatalog catalog)
    {
        if (rulesSpec.Soundtrack is null)
        {
            return;
        }

        spec.Soundtrack = rulesSpec.Soundtrack.Clone();
        FillLines(spec);
        Price(spec, catalog);
    }

    /// <summary>
    /// The planned cost of the voiceover (characters of every line × the speech model's price per character, plus the
    /// beats' seconds × its price per second) and of the music (the duration × the music model's price per second).
    /// </summary>
    public static void Price(Spec spec, ModelCatalog catalog)
    {
        var plan = spec.Soundtrack;
        if (plan is null)
        {
            return;
        }

        var characters = spec.Beats.Sum(b => b.VoiceoverLine.Length);
        var spoken = spec.Beats.Where(b => b.VoiceoverLine.Length > 0).Sum(b => b.LengthSeconds);
        plan.VoiceCostUsd = catalog.Models.TryGetValue(VoiceModelOf(plan), out var voice)
            ? Math.Round(characters * voice.PricePerCharacterUsd + spoken * voice.PricePerSecondUsd, 6)
            : 0;
        plan.MusicCostUsd = catalog.Models.TryGetValue(MusicModelOf(plan), out var music)
            ? Math.Round(spec.DurationSeconds * music.PricePerSecondUsd, 6)
            : 0;
    }

    /// <summary>The plan's speech model; plans made before it was recorded used the embedded one.</summary>
    public static string VoiceModelOf(SoundtrackPlan plan) => plan.VoiceModel.Length > 0 ? plan.VoiceModel : ModelCatalog.EmbeddedSpeechModel;

    /// <summary>The plan's music model; plans made before it was recorded used the embedded one.</summary>
    public static string MusicModelOf(SoundtrackPlan plan) => plan.MusicModel.Length > 0 ? plan.MusicModel : ModelCatalog.EmbeddedMusicModel;

    /// <summary>The planned cost of the soundtrack's models (0 without a soundtrack).</summary>
    public static double Cost(Spec spec) => spec.Soundtrack is { } s ? Math.Round(s.VoiceCostUsd + s.MusicCostUsd, 6) : 0;

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

    /// <summary>
    /// Checks the configured models (<c>Soundtrack:VoiceModel</c>, <c>Soundtrack:MusicModel</c>) against the catalog;
    /// returns one message per bad key.
    /// </summary>
    public static IReadOnlyList<string> ValidateModels(SoundtrackModels models, ModelCatalog catalog)
    {
        var failures = new List<string>();
        foreach (var (key, name, kind) in new[] { ("Soundtrack:VoiceModel", models.VoiceModel, "speech"), ("Soundtrack:MusicModel", models.MusicModel, "music") })
        {
            if (!catalog.Models.TryGetValue(name, out var spec) || spec.Kind != kind)
            {
                var known = string.Join(", ", catalog.Models.Values.Where(m => m.Kind == kind).Select(m => m.Name).Order(StringComparer.Ordinal));
                failures.Add($"{key} must name a {kind} model of the model catalog ({known}), got '{Quote(name)}'.");
            }
        }

        return failures;
    }

    private static string Quote(string value) => value.Length <= 40 ? value : value[..40] + "…";
}

/// <summary>The speech and music models a farm's soundtracks use (<c>Soundtrack:VoiceModel</c>, <c>Soundtrack:MusicModel</c>).</summary>
public sealed record SoundtrackModels(string VoiceModel = ModelCatalog.EmbeddedSpeechModel, string MusicModel = ModelCatalog.EmbeddedMusicModel)
{
    /// <summary>The embedded defaults: espeak-ng and the FFmpeg bed, free and offline.</summary>
    public static SoundtrackModels Embedded { get; } = new();
}
