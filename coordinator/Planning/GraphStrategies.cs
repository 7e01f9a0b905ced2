using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Which task graphs a model allows, from its catalog capabilities: <c>i2v</c> → <see cref="GraphStrategy.Chain"/>,
/// <c>flf2v</c> → <see cref="GraphStrategy.Keyframes"/> (only with a keyframe image model that makes an image from another,
/// capability <c>i2i</c>), <c>extend</c> → <see cref="GraphStrategy.Extend"/>, <c>t2v</c> → <see cref="GraphStrategy.Text"/>.
/// A job's default is the model's first allowed one. Pure.
/// </summary>
public static class GraphStrategies
{
    /// <summary>The capability a strategy needs of the video model.</summary>
    public static string Capability(GraphStrategy strategy) => strategy switch
    {
        GraphStrategy.Keyframes => ModelCapabilities.FirstLastFrame,
        GraphStrategy.Extend => ModelCapabilities.Extend,
        GraphStrategy.Text => ModelCapabilities.TextToVideo,
        _ => ModelCapabilities.ImageToVideo,
    };

    /// <summary>The strategy of a capability; null for one that makes no graph (image capabilities).</summary>
    public static GraphStrategy? Of(string capability) => capability switch
    {
        ModelCapabilities.ImageToVideo => GraphStrategy.Chain,
        ModelCapabilities.FirstLastFrame => GraphStrategy.Keyframes,
        ModelCapabilities.Extend => GraphStrategy.Extend,
        ModelCapabilities.TextToVideo => GraphStrategy.Text,
        _ => null,
    };

    /// <summary>Lower-case name for messages and the CLI: "chain", "keyframes", "extend", "text".</summary>
    public static string Name(GraphStrategy strategy) => strategy.ToString().ToLowerInvariant();

    /// <summary>The strategies <paramref name="model"/> allows, its preferred first; keyframes only when <paramref name="keyframeModel"/> makes images from images.</summary>
    public static IReadOnlyList<GraphStrategy> Allowed(ModelSpec model, ModelSpec? keyframeModel) =>
        model.EffectiveCapabilities
            .Select(Of)
            .OfType<GraphStrategy>()
            .Where(s => s != GraphStrategy.Keyframes || keyframeModel?.Can(ModelCapabilities.ImageToImage) == true)
            .Distinct()
            .ToList();

    /// <summary>
    /// The request's strategy when the model allows it, else the model's default; a strategy the model does not allow
    /// (or an unknown value) adds a violation naming <c>job.strategy</c>.
    /// </summary>
    public static GraphStrategy Resolve(GraphStrategy requested, ModelSpec? model, ModelSpec? keyframeModel, List<FieldViolation> violations)
    {
        if (!Enum.IsDefined(requested))
        {
            violations.Add(new("job.strategy", $"unknown strategy value {(int)requested}; use CHAIN, KEYFRAMES, EXTEND or TEXT"));
            return GraphStrategy.Chain;
        }

        if (model is null)
        {
            return GraphStrategy.Chain;
        }

        var allowed = Allowed(model, keyframeModel);
        if (requested == GraphStrategy.Unspecified)
        {
            return allowed.Count > 0 ? allowed[0] : GraphStrategy.Chain;
        }

        if (allowed.Contains(requested))
        {
            return requested;
        }

        var why = requested == GraphStrategy.Keyframes && model.Can(ModelCapabilities.FirstLastFrame)
            ? $"the keyframe image model '{keyframeModel?.Name}' cannot make an image from another (capability i2i)"
            : $"model '{model.Name}' lacks capability {Capability(requested)} (it has: {string.Join(", ", model.EffectiveCapabilities)})";
        violations.Add(new("job.strategy", $"{Name(requested)} is not allowed: {why}; allowed: {string.Join(", ", allowed.Select(Name))}"));
        return requested;
    }
}
