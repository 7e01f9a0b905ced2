using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace VideoGen.Worker.Models.ComfyUi;

/// <summary>The values a workflow's placeholders take for one chunk.</summary>
/// <param name="Prompt">The chunk's prompt.</param>
/// <param name="NegativePrompt">What the model should avoid.</param>
/// <param name="Image">The uploaded start image's name on the server (ComfyUI's <c>LoadImage</c> input); null for text-to-video.</param>
/// <param name="EndImage">The uploaded end image's name; null when the chunk has none.</param>
/// <param name="Seed">The chunk's seed.</param>
/// <param name="Frames">Frames to render.</param>
/// <param name="Fps">Frames per second.</param>
/// <param name="Width">Width the model renders at.</param>
/// <param name="Height">Height the model renders at.</param>
public sealed record WorkflowValues(string Prompt, string NegativePrompt, string? Image, string? EndImage, long Seed, int Frames, int Fps, int Width, int Height)
{
    /// <summary>The placeholder names a workflow may use.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal)
    {
        "prompt", "negative_prompt", "image", "end_image", "seed", "frames", "fps", "width", "height",
    };

    /// <summary>The value of placeholder <paramref name="name"/>: a number for the numeric ones, else a string (null when the chunk has none).</summary>
    public JsonNode? ValueOf(string name) => name switch
    {
        "prompt" => JsonValue.Create(Prompt),
        "negative_prompt" => JsonValue.Create(NegativePrompt),
        "image" => Image is null ? null : JsonValue.Create(Image),
        "end_image" => EndImage is null ? null : JsonValue.Create(EndImage),
        "seed" => JsonValue.Create(Seed),
        "frames" => JsonValue.Create(Frames),
        "fps" => JsonValue.Create(Fps),
        "width" => JsonValue.Create(Width),
        "height" => JsonValue.Create(Height),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown placeholder"),
    };
}

/// <summary>
/// An API-format ComfyUI workflow ("Save (API format)": node id → <c>class_type</c> and <c>inputs</c>) with named
/// placeholders: an input whose whole value is <c>"{{name}}"</c> takes the value itself (a number for seed, frames,
/// fps, width, height), and <c>{{name}}</c> inside a longer string is replaced by its text. Loading checks that every
/// placeholder is known and that the output node exists, so a bad file fails the worker at start, not a chunk.
/// </summary>
public sealed partial class WorkflowTemplate
{
    private readonly JsonObject _graph;

    private WorkflowTemplate(string name, JsonObject graph, string outputNode, IReadOnlySet<string> placeholders)
    {
        Name = name;
        _graph = graph;
        OutputNode = outputNode;
        Placeholders = placeholders;
    }

    /// <summary>The file name, for messages.</summary>
    public string Name { get; }

    /// <summary>The node whose output is the clip.</summary>
    public string OutputNode { get; }

    /// <summary>The placeholders the workflow uses.</summary>
    public IReadOnlySet<string> Placeholders { get; }

    /// <summary>The node types the workflow needs (a server that lacks one cannot run it).</summary>
    public IEnumerable<string> NodeTypes => _graph.Select(n => n.Value?["class_type"]?.GetValue<string>() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="json"/>; throws <see cref="InvalidDataException"/> naming the problem.</summary>
    public static WorkflowTemplate Parse(string name, string json, string outputNode)
    {
        JsonObject graph;
        try
        {
            graph = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new InvalidDataException($"Workflow {name} is not a JSON object of nodes.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Workflow {name} is not valid JSON: {ex.Message}", ex);
        }

        foreach (var (id, node) in graph)
        {
            if (node is not JsonObject n || n["class_type"] is not JsonValue || n["inputs"] is not JsonObject)
            {
                throw new InvalidDataException($"Workflow {name}: node {id} has no class_type and inputs (export the workflow with \"Save (API format)\").");
            }
        }

        if (string.IsNullOrEmpty(outputNode) || !graph.ContainsKey(outputNode))
        {
            throw new InvalidDataException($"Workflow {name}: the catalog's output node '{outputNode}' is not in it.");
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in Strings(graph))
        {
            foreach (Match m in Placeholder().Matches(text))
            {
                var placeholder = m.Groups[1].Value;
                if (!WorkflowValues.Names.Contains(placeholder))
                {
                    throw new InvalidDataException($"Workflow {name}: unknown placeholder {{{{{placeholder}}}}} (known: {string.Join(", ", WorkflowValues.Names.Order(StringComparer.Ordinal))}).");
                }

                used.Add(placeholder);
            }
        }

        return new WorkflowTemplate(name, graph, outputNode, used);
    }

    /// <summary>Reads and parses the file at <paramref name="path"/>.</summary>
    public static WorkflowTemplate Load(string path, string outputNode) =>
        Parse(Path.GetFileName(path), File.ReadAllText(path), outputNode);

    /// <summary>
    /// A copy of the workflow with every placeholder filled from <paramref name="values"/>. A placeholder whose value the
    /// chunk lacks (an end image for a chunk without one) throws <see cref="ArgumentException"/>.
    /// </summary>
    public JsonObject Fill(WorkflowValues values)
    {
        var copy = (JsonObject)_graph.DeepClone();
        foreach (var (_, node) in copy)
        {
            FillNode(node!, values);
        }

        return copy;
    }

    private void FillNode(JsonNode node, WorkflowValues values)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    var child = obj[key];
                    if (Replace(child, values) is var replaced && !ReferenceEquals(replaced, child))
                    {
                        obj[key] = replaced;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var child = array[i];
                    if (Replace(child, values) is var replaced && !ReferenceEquals(replaced, child))
                    {
                        array[i] = replaced;
                    }
                }

                break;
        }
    }

    private JsonNode? Replace(JsonNode? node, WorkflowValues values)
    {
        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            var whole = Placeholder().Match(text);
            if (whole.Success && whole.Length == text.Length)
            {
                return Required(whole.Groups[1].Value, values);
            }

            return Placeholder().IsMatch(text)
                ? JsonValue.Create(Placeholder().Replace(text, m => Text(Required(m.Groups[1].Value, values)!)))
                : node;
        }

        if (node is not null)
        {
            FillNode(node, values);
        }

        return node;
    }

    private JsonNode? Required(string name, WorkflowValues values) =>
        values.ValueOf(name) ?? throw new ArgumentException($"Workflow {Name} needs {{{{{name}}}}}, which this chunk has none of.", nameof(values));

    private static string Text(JsonNode value) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString().Trim('"');

    private static IEnumerable<string> Strings(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    foreach (var s in Strings(child))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    foreach (var s in Strings(child))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                yield return text;
                break;
        }
    }

    [GeneratedRegex(@"\{\{([a-z_]+)\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
