using System.Globalization;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// What the finish step can do: the transitions, looks, resolutions and deliverable aspect ratios the
/// API accepts. The worker maps each name to its FFmpeg filter; this is the one list both sides agree on.
/// </summary>
public static class FinishCatalog
{
    public const double DefaultTransitionSeconds = 0.5;

    public const double MaxTransitionSeconds = 2.0;

    public const int MaxDeliverables = 2;

    /// <summary>Longest end card a template may have.</summary>
    public const double MaxEndCardSeconds = 5.0;

    /// <summary>Transition name → whether it overlaps the takes (everything but "cut").</summary>
    public static readonly IReadOnlyDictionary<string, bool> Transitions = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["cut"] = false,
        ["dissolve"] = true,
        ["fade_black"] = true,
        ["wipe"] = true,
        ["zoom"] = true,
    };

    public static readonly IReadOnlySet<string> Looks = new HashSet<string>(StringComparer.Ordinal) { "none", "warm", "cool", "teal_orange", "mono" };

    public static readonly IReadOnlySet<string> AspectRatios = new HashSet<string>(StringComparer.Ordinal) { "9:16", "1:1" };

    /// <summary>The 16:9 master's size for a resolution.</summary>
    public static (int Width, int Height) Size(Resolution resolution) => resolution switch
    {
        Resolution._480P => (854, 480),
        Resolution._1080P => (1920, 1080),
        _ => (1280, 720),
    };

    /// <summary>A deliverable's size cut from a master of <paramref name="masterWidth"/>×<paramref name="masterHeight"/>: 9:16 turns the master's sides, 1:1 keeps its height.</summary>
    public static (int Width, int Height) DeliverableSize(string aspectRatio, int masterWidth, int masterHeight) => aspectRatio switch
    {
        "9:16" => (masterHeight, masterWidth),
        "1:1" => (masterHeight, masterHeight),
        _ => (masterWidth, masterHeight),
    };

    /// <summary>Frame rate of the finished ad: every model's chunks are normalised to it once, in the finish.</summary>
    public const int OutputFps = 24;
}

/// <summary>Turns a request's finishing options and its template's defaults into a <see cref="FinishPlan"/>, validating each field.</summary>
public static class FinishPlanner
{
    /// <summary>Validates the finishing fields of <paramref name="request"/>; adds a violation per bad field.</summary>
    public static void Validate(JobRequest request, ModelSpec? model, List<FieldViolation> violations)
    {
        if (!string.IsNullOrEmpty(request.Transition) && !FinishCatalog.Transitions.ContainsKey(request.Transition))
        {
            violations.Add(new("job.transition", $"unknown transition '{Quote(request.Transition)}'; known: {string.Join(", ", FinishCatalog.Transitions.Keys.Order())}"));
        }

        if (request.HasTransitionSeconds)
        {
            var max = Math.Min(FinishCatalog.MaxTransitionSeconds, (model?.ClipSeconds ?? 2 * FinishCatalog.MaxTransitionSeconds) / 2);
            var min = 1.0 / FinishCatalog.OutputFps;
            if (!(request.TransitionSeconds >= min && request.TransitionSeconds <= max))
            {
                violations.Add(new("job.transition_seconds", $"must be at least one frame ({min.ToString("0.###", CultureInfo.InvariantCulture)} s) and at most {max.ToString("0.###", CultureInfo.InvariantCulture)} (half the model's clip); got {request.TransitionSeconds.ToString(CultureInfo.InvariantCulture)}"));
            }
        }

        if (!string.IsNullOrEmpty(request.Look) && !FinishCatalog.Looks.Contains(request.Look))
        {
            violations.Add(new("job.look", $"unknown look '{Quote(request.Look)}'; known: {string.Join(", ", FinishCatalog.Looks.Order())}"));
        }

        if (!Enum.IsDefined(request.Resolution))
        {
            violations.Add(new("job.resolution", $"unknown resolution value {(int)request.Resolution}; use RESOLUTION_480P, RESOLUTION_720P or RESOLUTION_1080P"));
        }

        if (request.AspectRatios.Count > FinishCatalog.MaxDeliverables)
        {
            violations.Add(new("job.aspect_ratios", $"asks for {request.AspectRatios.Count} deliverables; the limit is {FinishCatalog.MaxDeliverables}"));
        }

        for (var i = 0; i < request.AspectRatios.Count && i < FinishCatalog.MaxDeliverables; i++)
        {
            var ratio = request.AspectRatios[i];
            if (!FinishCatalog.AspectRatios.Contains(ratio))
            {
                violations.Add(new($"job.aspect_ratios[{i}]", $"unknown aspect ratio '{Quote(ratio)}'; known: {string.Join(", ", FinishCatalog.AspectRatios.Order())} (the 16:9 master is always made)"));
            }
            else if (request.AspectRatios.Take(i).Contains(ratio))
            {
                violations.Add(new($"job.aspect_ratios[{i}]", $"'{ratio}' is asked twice"));
            }
        }
    }

    /// <summary>The finish settings of a valid request: its own options, else the template's, else the coordinator's defaults.</summary>
    public static FinishPlan Build(JobRequest request, Template template, Resolution defaultResolution, string subject = "")
    {
        var resolution = request.Resolution == Resolution.Unspecified ? defaultResolution : request.Resolution;
        var (width, height) = FinishCatalog.Size(resolution);
        var transition = string.IsNullOrEmpty(request.Transition) ? template.Transition : request.Transition;
        var finish = new FinishPlan
        {
            Transition = transition,
            TransitionSeconds = FinishCatalog.Transitions[transition]
                ? (request.HasTransitionSeconds ? request.TransitionSeconds : template.TransitionSeconds)
                : 0,
            Look = string.IsNullOrEmpty(request.Look) ? template.Look : request.Look,
            Resolution = resolution,
            WidthPixels = width,
            HeightPixels = height,
            Fps = FinishCatalog.OutputFps,
            Titles = true,
            ColourMatch = !request.HasColourMatch || request.ColourMatch,
        };
        finish.AspectRatios.AddRange(request.AspectRatios);
        if (template.EndCard is { } card && (!request.HasEndCard || request.EndCard))
        {
            finish.EndCard = new EndCard
            {
                Seconds = card.Seconds,
                Text = string.Join('\n', card.Lines.Select(line => RuleBasedPlanner.OnScreenText(line, subject)).Where(line => line.Length > 0)),
                Background = card.Background,
            };
        }

        return finish;
    }

    /// <summary>
    /// Records <paramref name="upscaler"/> (Coordinator:Upscaler) on <paramref name="finish"/> when the master is taller than
    /// <paramref name="model"/>'s native frames (below that the finish only keeps or lowers the size, which FFmpeg does well);
    /// returns the upscaler's catalog entry when it applies, else null.
    /// </summary>
    public static ModelSpec? ApplyUpscaler(FinishPlan finish, ModelSpec model, ModelCatalog catalog, string upscaler)
    {
        if (string.IsNullOrEmpty(upscaler) || finish.HeightPixels <= model.Height
            || !catalog.Models.TryGetValue(upscaler, out var spec) || spec.Kind != UpscalerKind)
        {
            return null;
        }

        finish.Upscaler = spec.Name;
        return spec;
    }

    /// <summary>The catalog kind of upscaler models.</summary>
    public const string UpscalerKind = "upscaler";

    private static string Quote(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
