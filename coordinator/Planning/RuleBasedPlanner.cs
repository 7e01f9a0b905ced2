using System.Text.RegularExpressions;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// The embedded planner: duration, template, subject and beats from the prompt by rules, no network.
/// It also validates a request (every other planner starts from a request it accepted), so its
/// <see cref="Plan"/> doubles as the validator for submit and estimate.
/// </summary>
public sealed partial class RuleBasedPlanner(TemplateCatalog templates, ModelCatalog models, Resolution defaultResolution = Resolution._720P, SoundtrackModels? soundtrackModels = null, string upscaler = "",
    string keyframeImageModel = "")
{
    public const string PlannerName = "rules";

    /// <summary>Resolution of jobs that ask for none (Coordinator:DefaultResolution).</summary>
    public Resolution DefaultResolution { get; } = defaultResolution == Resolution.Unspecified ? Resolution._720P : defaultResolution;

    /// <summary>Catalog upscaler the finish uses above a model's native height (Coordinator:Upscaler); empty: FFmpeg scaling.</summary>
    public string Upscaler { get; } = upscaler ?? "";

    public TemplateCatalog Templates { get; } = templates;

    public ModelCatalog Models { get; } = models;

    /// <summary>
    /// The image model that makes first-and-last-frame keyframes: the storyboards' (<c>Storyboard:ImageModel</c>), else the
    /// procedural renderer. Keyframes need one with capability <c>i2i</c>.
    /// </summary>
    public ModelSpec? KeyframeImageModel { get; } =
        models.Models.GetValueOrDefault(string.IsNullOrEmpty(keyframeImageModel) ? ModelCatalog.ProceduralImageModel : keyframeImageModel);

    /// <summary>The speech and music models soundtracks use (Soundtrack:VoiceModel, Soundtrack:MusicModel).</summary>
    public SoundtrackModels SoundtrackModels { get; } = soundtrackModels ?? SoundtrackModels.Embedded;

    /// <summary>Validates <paramref name="request"/> and plans it; throws <see cref="RequestValidationException"/> naming every bad field.</summary>
    /// <remarks>With <paramref name="strategyOverride"/> (EstimateJob's other strategies) that strategy is planned instead of the request's.</remarks>
    public Plan Plan(JobRequest request, GraphStrategy? strategyOverride = null)
    {
        if (strategyOverride is { } other)
        {
            request = request.Clone();
            request.Strategy = other;
        }

        var violations = new List<FieldViolation>();
        var prompt = request.Prompt ?? "";
        if (string.IsNullOrWhiteSpace(prompt))
        {
            violations.Add(new("job.prompt", "must not be empty"));
        }
        else if (prompt.Length > PlanningLimits.MaxPromptLength)
        {
            violations.Add(new("job.prompt", $"is {prompt.Length} characters; the limit is {PlanningLimits.MaxPromptLength}"));
        }
        else if (!prompt.Any(PlanningLimits.IsVisible))
        {
            violations.Add(new("job.prompt", "needs visible characters (it holds only spaces and control characters)"));
        }
        else if (prompt.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
        {
            violations.Add(new("job.prompt", "must not hold control characters other than line breaks and tabs"));
        }

        Template? template = null;
        if (!string.IsNullOrEmpty(request.Template) && !Templates.Templates.TryGetValue(request.Template, out template))
        {
            violations.Add(new("job.template", $"unknown template '{Quote(request.Template)}'; known: {string.Join(", ", Templates.Templates.Keys.Order())}"));
        }

        ModelSpec? model = null;
        if (!Models.TryGet(request.Model, out var found) || found.Kind != "video")
        {
            violations.Add(new("job.model", $"unknown video model '{Quote(request.Model)}'; known: {string.Join(", ", Models.Models.Values.Where(m => m.Kind == "video").Select(m => m.Name).Order())}"));
        }
        else
        {
            model = found;
        }

        // At least one frame of the model (1e-300 s is not a video), at most the limit.
        var shortest = model is { Fps: > 0 } ? 1.0 / model.Fps : 1.0 / 24;
        if (request.HasDurationSeconds && !(request.DurationSeconds >= shortest && request.DurationSeconds <= PlanningLimits.MaxDurationSeconds))
        {
            violations.Add(new("job.duration_seconds", $"must be at least one frame of the model ({PromptText.Format(shortest)} s) and at most {PlanningLimits.MaxDurationSeconds} s; got {request.DurationSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
        }

        if (!Enum.IsDefined(request.Continuity))
        {
            violations.Add(new("job.continuity", $"unknown continuity value {(int)request.Continuity}; use STRICT, BEAT or NONE"));
        }

        if (request.Priority is < -PlanningLimits.MaxPriority or > PlanningLimits.MaxPriority)
        {
            violations.Add(new("job.priority", $"must be between -{PlanningLimits.MaxPriority} and {PlanningLimits.MaxPriority}"));
        }

        if (!string.IsNullOrEmpty(request.Tenant) && !PlanningLimits.IsTenantName(request.Tenant))
        {
            violations.Add(new("job.tenant", $"must match [a-z0-9][a-z0-9_-]{{0,{PlanningLimits.MaxTenantLength - 1}}}; got '{Quote(request.Tenant)}'"));
        }

        if (request.HasMaxCostUsd && !(request.MaxCostUsd >= 0))
        {
            violations.Add(new("job.max_cost_usd", "must be >= 0"));
        }

        if (request.RevisionOf.Length > 0)
        {
            violations.Add(new("job.revision_of", "is set by the coordinator on a revision; revise a job with ReviseJob"));
        }

        FinishPlanner.Validate(request, model, violations);
        SoundtrackPlanner.Validate(request, violations);
        var strategy = GraphStrategies.Resolve(request.Strategy, model, KeyframeImageModel, violations);

        // Duration: the request field wins, then a duration stated in the prompt, then the template's default.
        double duration = 0;
        string durationSource = "";
        var stated = violations.Any(v => v.Field == "job.prompt") ? null : DurationParser.Find(prompt);
        if (request.HasDurationSeconds)
        {
            duration = request.DurationSeconds;
            durationSource = "request";
        }
        else if (stated is { } s)
        {
            if (!(s.Seconds > 0 && s.Seconds <= PlanningLimits.MaxDurationSeconds))
            {
                violations.Add(new("job.prompt", $"states a duration of {PromptText.Format(s.Seconds)} s ('{s.Text}'); the limit is {PlanningLimits.MaxDurationSeconds} s"));
            }

            duration = s.Seconds;
            durationSource = "prompt";
        }

        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        template ??= Templates.Choose(prompt);
        if (durationSource == "")
        {
            duration = template.DefaultDurationSeconds;
            durationSource = "template";
        }

        var subject = ExtractSubject(prompt, stated?.Text);
        var spec = BuildSpec(template, subject, duration, durationSource);
        spec.Planner = PlannerName;
        var continuity = request.Continuity == Continuity.Unspecified ? Continuity.Beat : request.Continuity;
        SoundtrackPlanner.Apply(request, template, spec, Models, SoundtrackModels);
        var finish = FinishPlanner.Build(request, template, DefaultResolution, subject);
        var upscalerSpec = FinishPlanner.ApplyUpscaler(finish, model!, Models, Upscaler);
        return ChunkPlanner.Build(spec, model!, continuity, finish, upscalerSpec, strategy, KeyframeImageModel?.PricePerSecondUsd ?? 0);
    }

    /// <summary>Lays the template's beats over the duration: lengths by weight, starts cumulative, summing exactly to the duration.</summary>
    public static Spec BuildSpec(Template template, string subject, double duration, string durationSource)
    {
        var spec = new Spec
        {
            DurationSeconds = duration,
            Template = template.Name,
            Subject = subject,
            Style = template.Style,
            DurationSource = durationSource,
        };
        var totalWeight = template.Beats.Sum(b => b.Weight);
        double start = 0;
        for (var i = 0; i < template.Beats.Count; i++)
        {
            var beat = template.Beats[i];
            var length = i == template.Beats.Count - 1
                ? duration - start
                : Math.Round(duration * beat.Weight / totalWeight, 3);
            spec.Beats.Add(new Beat
            {
                Index = i,
                Name = beat.Name,
                StartSeconds = Math.Round(start, 3),
                LengthSeconds = Math.Round(length, 3),
                ShotDescription = beat.Shot.Replace("{subject}", subject, StringComparison.Ordinal),
                ImagePrompt = beat.Image.Replace("{subject}", subject, StringComparison.Ordinal),
                OnScreenText = OnScreenText(beat.Text, subject),
                Focus = beat.Focus is { } f ? new FocusPoint { X = f[0], Y = f[1] } : null,
            });
            start += length;
        }

        return spec;
    }

    /// <summary>Maximum length of a beat's on-screen text: it must fit the title-safe width at the title size.</summary>
    public const int MaxOnScreenTextLength = 36;

    /// <summary>A template beat's text with the subject filled in ("{Subject}" capitalised), cut at a word to fit one title line.</summary>
    public static string OnScreenText(string template, string subject)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return "";
        }

        var capitalised = subject.Length == 0 ? subject : char.ToUpperInvariant(subject[0]) + subject[1..];
        var text = template.Replace("{Subject}", capitalised, StringComparison.Ordinal).Replace("{subject}", subject, StringComparison.Ordinal).Trim();
        if (text.Length <= MaxOnScreenTextLength)
        {
            return text;
        }

        var cut = text[..MaxOnScreenTextLength];
        var space = cut.LastIndexOf(' ');
        return (space > 8 ? cut[..space] : cut).TrimEnd(' ', ',', '.', ';', ':', '-');
    }

    /// <summary>"a 30 second product showcase for a titanium smartwatch" → "titanium smartwatch".</summary>
    public static string ExtractSubject(string prompt, string? durationText)
    {
        var text = prompt.Trim();
        if (!string.IsNullOrEmpty(durationText))
        {
            text = text.Replace(durationText, " ", StringComparison.OrdinalIgnoreCase);
        }

        var m = SubjectAfterForRegex().Match(text);
        var subject = m.Success ? m.Groups["s"].Value : LeadingArticleRegex().Replace(LeadingVerbRegex().Replace(text, ""), "");
        subject = TrailingRegex().Replace(subject, "").Trim();
        subject = Regex.Replace(subject, @"\s+", " ");
        if (subject.Length > 80)
        {
            subject = subject[..80].TrimEnd();
        }

        return subject.Length == 0 ? "the product" : subject;
    }

    [GeneratedRegex(@"\b(?:for|of|about|showing|featuring)\s+(?:a|an|the|our|my|your)?\s*(?<s>[^,.;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex SubjectAfterForRegex();

    [GeneratedRegex(@"^\s*(?:please\s+)?(?:make|create|generate|produce|render|announce|give me|i want)\s+(?:a|an|the|our)?\s*", RegexOptions.IgnoreCase)]
    private static partial Regex LeadingVerbRegex();

    [GeneratedRegex(@"^\s*(?:a|an|the|our|my|your)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex LeadingArticleRegex();

    [GeneratedRegex(@"[\s,.;:!?-]+$|\s+(?:video|clip|spot|ad)$", RegexOptions.IgnoreCase)]
    private static partial Regex TrailingRegex();

    /// <summary>Input quoted in a message: at most 200 characters, control characters escaped.</summary>
    private static string Quote(string value) => Services.InputText.Quote(value);
}
