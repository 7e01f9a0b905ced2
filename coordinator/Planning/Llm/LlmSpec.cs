using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning.Llm;

/// <summary>The spec as the LLM answers it: the wire shape of <see cref="LlmSpecSchema"/>.</summary>
internal sealed record LlmSpec
{
    [JsonPropertyName("template")] public string? Template { get; init; }
    [JsonPropertyName("subject")] public string? Subject { get; init; }
    [JsonPropertyName("style")] public string? Style { get; init; }
    [JsonPropertyName("duration_seconds")] public double? DurationSeconds { get; init; }
    [JsonPropertyName("beats")] public IReadOnlyList<LlmBeat?>? Beats { get; init; }
}

/// <summary>One beat as the LLM answers it; its length is relative until it is laid over the duration.</summary>
internal sealed record LlmBeat
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("length_seconds")] public double? LengthSeconds { get; init; }
    [JsonPropertyName("shot_description")] public string? ShotDescription { get; init; }
    [JsonPropertyName("image_prompt")] public string? ImagePrompt { get; init; }
    [JsonPropertyName("voiceover_line")] public string? VoiceoverLine { get; init; }
}

/// <summary>The strict JSON schema the LLM must answer with (OpenAI structured output).</summary>
internal static class LlmSpecSchema
{
    public const string Name = "video_spec";

    /// <summary>
    /// Strict mode wants every property required and <c>additionalProperties: false</c>, and ignores
    /// most numeric constraints, so ranges are checked by <see cref="LlmSpecMapper"/> afterwards.
    /// </summary>
    public static string Build(IEnumerable<string> templateNames)
    {
        var names = new JsonArray(templateNames.Select(n => (JsonNode)JsonValue.Create(n)).ToArray());
        var beat = new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["required"] = new JsonArray("name", "length_seconds", "shot_description", "image_prompt", "voiceover_line"),
            ["properties"] = new JsonObject
            {
                ["name"] = Text("Short snake_case name of the beat, e.g. hero_shot."),
                ["length_seconds"] = new JsonObject { ["type"] = "number", ["description"] = "Length of the beat in seconds (> 0); the beats' lengths should sum to duration_seconds." },
                ["shot_description"] = Text("What the camera shows during the beat."),
                ["image_prompt"] = Text("Prompt for one storyboard image of the beat."),
                ["voiceover_line"] = Text("What the narrator says over the beat, at most 2.5 words per second of the beat; empty for silence."),
            },
        };
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["required"] = new JsonArray("template", "subject", "style", "duration_seconds", "beats"),
            ["properties"] = new JsonObject
            {
                ["template"] = new JsonObject { ["type"] = "string", ["enum"] = names, ["description"] = "The video template." },
                ["subject"] = Text("What the video is about, in a few words."),
                ["style"] = Text("Visual style of the whole video."),
                ["duration_seconds"] = new JsonObject { ["type"] = "number", ["description"] = "Length of the final video in seconds." },
                ["beats"] = new JsonObject { ["type"] = "array", ["description"] = "The beats in order.", ["items"] = beat },
            },
        };
        return schema.ToJsonString();

        static JsonObject Text(string description) => new() { ["type"] = "string", ["description"] = description };
    }
}

/// <summary>
/// Checks an LLM answer and turns it into a <see cref="Spec"/>: the rules' precedence (a duration the
/// user stated, a template the request named) wins over the LLM, and the LLM's beat lengths are
/// re-laid as weights so starts are real and lengths sum exactly to the duration. Pure.
/// </summary>
internal static class LlmSpecMapper
{
    public const int MaxBeats = 24;
    private const int MaxTextLength = 1000;

    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = JsonNumberHandling.Strict };

    /// <summary>Parses the message content; throws <see cref="JsonException"/> when it is not a JSON object of the schema's shape.</summary>
    public static LlmSpec Parse(string content)
    {
        var text = StripCodeFence(content);
        return JsonSerializer.Deserialize<LlmSpec>(text, JsonOptions) ?? throw new JsonException("the answer is JSON null");
    }

    /// <summary>The spec, or the reasons it does not validate.</summary>
    public static (Spec? Spec, string? Error) ToSpec(LlmSpec answer, JobRequest request, Spec rulesSpec, TemplateCatalog templates)
    {
        var errors = new List<string>();
        var templateName = !string.IsNullOrEmpty(request.Template) ? request.Template : answer.Template;
        if (string.IsNullOrWhiteSpace(templateName))
        {
            errors.Add("template missing");
        }
        else if (!templates.Templates.ContainsKey(templateName))
        {
            errors.Add($"unknown template '{Clip(templateName)}'");
        }

        // A duration the user stated (request field or prompt) always wins; only a template default is the LLM's to change.
        var userStated = rulesSpec.DurationSource is "request" or "prompt";
        var duration = rulesSpec.DurationSeconds;
        var durationSource = rulesSpec.DurationSource;
        if (!userStated)
        {
            if (answer.DurationSeconds is not { } d || !double.IsFinite(d) || !(d > 0 && d <= PlanningLimits.MaxDurationSeconds))
            {
                errors.Add($"duration_seconds must be > 0 and <= {PlanningLimits.MaxDurationSeconds}; got {(answer.DurationSeconds is { } x ? PromptText.Format(x) : "none")}");
            }
            else
            {
                duration = Math.Round(d, 3);
                durationSource = "llm";
            }
        }

        var beats = answer.Beats;
        if (beats is null || beats.Count == 0)
        {
            errors.Add("beats missing");
        }
        else if (beats.Count > MaxBeats)
        {
            errors.Add($"{beats.Count} beats; at most {MaxBeats}");
        }
        else
        {
            for (var i = 0; i < beats.Count; i++)
            {
                var b = beats[i];
                if (b is null)
                {
                    errors.Add($"beat {i} is null");
                    continue;
                }

                if (b.LengthSeconds is not { } len || !double.IsFinite(len) || len <= 0)
                {
                    errors.Add($"beat {i} length_seconds must be > 0; got {(b.LengthSeconds is { } l ? PromptText.Format(l) : "none")}");
                }

                if (string.IsNullOrWhiteSpace(b.ShotDescription) || string.IsNullOrWhiteSpace(b.ImagePrompt))
                {
                    errors.Add($"beat {i} needs a shot_description and an image_prompt");
                }
            }
        }

        if (errors.Count > 0)
        {
            return (null, string.Join("; ", errors));
        }

        var template = templates.Templates[templateName!];
        var subject = string.IsNullOrWhiteSpace(answer.Subject) ? rulesSpec.Subject : Clip(answer.Subject.Trim(), 200);
        var spec = new Spec
        {
            DurationSeconds = duration,
            Template = template.Name,
            Subject = subject,
            Style = string.IsNullOrWhiteSpace(answer.Style) ? template.Style : Clip(answer.Style.Trim()),
            DurationSource = durationSource,
        };

        // The LLM's lengths are weights: its own duration may have been overruled, and its arithmetic is not to be trusted.
        var totalWeight = beats!.Sum(b => b!.LengthSeconds!.Value);
        double start = 0;
        for (var i = 0; i < beats!.Count; i++)
        {
            var b = beats[i]!;
            var length = i == beats.Count - 1 ? duration - start : Math.Round(duration * b.LengthSeconds!.Value / totalWeight, 3);
            length = Math.Round(length, 3);
            if (length <= 0)
            {
                return (null, $"beat {i} would last {PromptText.Format(length)} s of {PromptText.Format(duration)} s");
            }

            spec.Beats.Add(new Beat
            {
                Index = i,
                Name = string.IsNullOrWhiteSpace(b.Name) ? $"beat_{i}" : Clip(b.Name.Trim(), 80),
                StartSeconds = Math.Round(start, 3),
                LengthSeconds = length,
                ShotDescription = Clip(b.ShotDescription!.Trim()),
                ImagePrompt = Clip(b.ImagePrompt!.Trim()),
                OnScreenText = RuleBasedPlanner.OnScreenText(TemplateText(template, b.Name, i, beats.Count), subject),
                // The script is the LLM's; SoundtrackPlanner fits each line to its beat (and writes one where it left none).
                VoiceoverLine = Clip(new string((b.VoiceoverLine ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim(), 500),
            });
            start += length;
        }

        return (spec, null);
    }

    /// <summary>
    /// On-screen text for an LLM beat: the template's text of the beat with the same name, else the template's
    /// opening text for the first beat and its closing text (the call to action) for the last.
    /// </summary>
    private static string TemplateText(Template template, string? name, int index, int count)
    {
        var named = template.Beats.FirstOrDefault(t => string.Equals(t.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (named is not null)
        {
            return named.Text;
        }

        return index == 0 ? template.Beats[0].Text : index == count - 1 ? template.Beats[^1].Text : "";
    }

    /// <summary>Some OpenAI-compatible servers wrap JSON in a Markdown code fence even when asked for a schema.</summary>
    private static string StripCodeFence(string content)
    {
        var text = content.Trim();
        if (!text.StartsWith("```", StringComparison.Ordinal))
        {
            return text;
        }

        var firstNewline = text.IndexOf('\n');
        var end = text.LastIndexOf("```", StringComparison.Ordinal);
        return firstNewline > 0 && end > firstNewline ? text[(firstNewline + 1)..end].Trim() : text;
    }

    public static string Clip(string text, int max = MaxTextLength) => text.Length <= max ? text : text[..max].TrimEnd() + "…";
}
