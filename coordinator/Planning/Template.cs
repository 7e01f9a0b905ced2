using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoGen.Coordinator.Planning;

/// <summary>A video template: data, read from a JSON file (adding a file adds a template).</summary>
public sealed record Template
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("description")] public string Description { get; init; } = "";
    [JsonPropertyName("defaultDurationSeconds")] public double DefaultDurationSeconds { get; init; } = 30;
    [JsonPropertyName("keywords")] public IReadOnlyList<string> Keywords { get; init; } = [];
    [JsonPropertyName("style")] public string Style { get; init; } = "";
    [JsonPropertyName("beats")] public IReadOnlyList<TemplateBeat> Beats { get; init; } = [];
    /// <summary>Transition between takes (see <see cref="FinishCatalog.Transitions"/>); a request may override it.</summary>
    [JsonPropertyName("transition")] public string Transition { get; init; } = "dissolve";
    /// <summary>Length of each transition.</summary>
    [JsonPropertyName("transitionSeconds")] public double TransitionSeconds { get; init; } = FinishCatalog.DefaultTransitionSeconds;
    /// <summary>Colour look (see <see cref="FinishCatalog.Looks"/>); a request may override it.</summary>
    [JsonPropertyName("look")] public string Look { get; init; } = "none";
    /// <summary>Music bed style (see <see cref="SoundtrackPlanner.MusicStyles"/>); a request may override it.</summary>
    [JsonPropertyName("music")] public string Music { get; init; } = "corporate";
    /// <summary>The closing card; null: none. A request may turn it off.</summary>
    [JsonPropertyName("endCard")] public TemplateEndCard? EndCard { get; init; }
}

/// <summary>A template's closing card: how long, what it says ("{Subject}" is replaced), on what colour.</summary>
public sealed record TemplateEndCard
{
    [JsonPropertyName("seconds")] public double Seconds { get; init; } = 2.5;
    /// <summary>Lines of text; "{subject}" and "{Subject}" are replaced.</summary>
    [JsonPropertyName("lines")] public IReadOnlyList<string> Lines { get; init; } = [];
    /// <summary>Background colour, RRGGBB hex.</summary>
    [JsonPropertyName("background")] public string Background { get; init; } = "101418";
}

/// <summary>One beat of a template: its share of the duration and its shot and image guidance.</summary>
public sealed record TemplateBeat
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    /// <summary>Relative length; a beat's length is weight / sum(weights) × duration.</summary>
    [JsonPropertyName("weight")] public double Weight { get; init; } = 1;
    /// <summary>Shot guidance; "{subject}" is replaced by the job's subject.</summary>
    [JsonPropertyName("shot")] public string Shot { get; init; } = "";
    /// <summary>Storyboard image guidance; "{subject}" is replaced by the job's subject.</summary>
    [JsonPropertyName("image")] public string Image { get; init; } = "";
    /// <summary>On-screen text (headline, call to action); "{subject}" and "{Subject}" are replaced. Empty: none.</summary>
    [JsonPropertyName("text")] public string Text { get; init; } = "";
    /// <summary>Where the subject is framed, [x, y] as fractions of the frame; null: the centre. Crops keep it in view.</summary>
    [JsonPropertyName("focus")] public IReadOnlyList<double>? Focus { get; init; }
}

/// <summary>The templates the planner knows, loaded from a folder of JSON files.</summary>
public sealed class TemplateCatalog
{
    public const string DefaultTemplate = "product_showcase";

    private static readonly JsonSerializerOptions JsonOptions = new() { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public TemplateCatalog(IEnumerable<Template> templates)
    {
        Templates = templates.ToDictionary(t => t.Name, StringComparer.Ordinal);
        // Stemmed once here, not on every prompt (Choose runs for every job).
        _stems = Templates.Values.ToDictionary(
            t => t.Name,
            t => (Keywords: t.Keywords.Select(PromptText.StemmedText).Distinct(StringComparer.Ordinal).Where(k => k.Trim().Length > 0).ToArray(),
                Name: PromptText.StemmedText(t.Name.Replace('_', ' '))),
            StringComparer.Ordinal);
        foreach (var t in Templates.Values)
        {
            if (t.Beats.Count == 0 || t.Beats.Any(b => b.Weight <= 0) || t.DefaultDurationSeconds <= 0)
            {
                throw new InvalidOperationException($"Template '{t.Name}' needs beats with positive weights and a positive default duration.");
            }

            if (!FinishCatalog.Transitions.ContainsKey(t.Transition) || !FinishCatalog.Looks.Contains(t.Look)
                || !(t.TransitionSeconds > 0 && t.TransitionSeconds <= FinishCatalog.MaxTransitionSeconds))
            {
                throw new InvalidOperationException($"Template '{t.Name}' names an unknown transition '{t.Transition}' or look '{t.Look}', or a transition length outside (0, {FinishCatalog.MaxTransitionSeconds}].");
            }

            if (t.EndCard is { } card && (!(card.Seconds >= 1 && card.Seconds <= FinishCatalog.MaxEndCardSeconds) || card.Lines.Count == 0
                || card.Background.Length != 6 || !card.Background.All(Uri.IsHexDigit)))
            {
                throw new InvalidOperationException($"Template '{t.Name}': an end card needs 1..{FinishCatalog.MaxEndCardSeconds} s, at least one line and an RRGGBB background.");
            }

            if (t.Beats.Any(b => b.Focus is { } f && (f.Count != 2 || f.Any(v => !(v >= 0 && v <= 1)))))
            {
                throw new InvalidOperationException($"Template '{t.Name}': a beat's focus is [x, y] with both in 0..1.");
            }
        }
    }

    public IReadOnlyDictionary<string, Template> Templates { get; }

    private readonly Dictionary<string, (string[] Keywords, string Name)> _stems;

    /// <summary>Loads every <c>*.json</c> file of <paramref name="directory"/> as a template.</summary>
    public static TemplateCatalog LoadDirectory(string directory)
    {
        var templates = Directory.EnumerateFiles(directory, "*.json")
            .Order(StringComparer.Ordinal)
            .Select(path => JsonSerializer.Deserialize<Template>(File.ReadAllText(path), JsonOptions)
                ?? throw new InvalidOperationException($"Template file {path} is empty."))
            .ToList();
        if (templates.Count == 0)
        {
            throw new InvalidOperationException($"No templates (*.json) in {directory}.");
        }

        return new TemplateCatalog(templates);
    }

    /// <summary>The templates shipped next to the coordinator (Planning/Templates).</summary>
    public static TemplateCatalog LoadDefault() =>
        LoadDirectory(Path.Combine(AppContext.BaseDirectory, "Planning", "Templates"));

    /// <summary>
    /// Picks the template whose keywords the prompt mentions most, by meaning rather than exact words: keywords and
    /// prompt are compared as stems ("announcing" matches "announcement"), keywords may be phrases ("show off"), and
    /// each template lists its synonyms; the template's own name counts 5. The default on a tie at zero.
    /// </summary>
    public Template Choose(string prompt)
    {
        var text = PromptText.StemmedText(prompt);
        var best = Templates.Values
            .Select(t => (Template: t, Score: _stems[t.Name].Keywords.Count(k => text.Contains(k, StringComparison.Ordinal))
                + (text.Contains(_stems[t.Name].Name, StringComparison.Ordinal) ? 5 : 0)))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Template.Name == DefaultTemplate ? 0 : 1)
            .ThenBy(x => x.Template.Name, StringComparer.Ordinal)
            .First();
        return best.Score > 0 ? best.Template : Templates.GetValueOrDefault(DefaultTemplate) ?? best.Template;
    }
}
