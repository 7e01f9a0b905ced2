namespace VideoGen.Catalog;

/// <summary>The capability names of the catalog's <c>"capabilities"</c> (see <see cref="ModelSpec.Capabilities"/>).</summary>
public static class ModelCapabilities
{
    /// <summary>Image-to-video: a clip from a start image. Chunks of a take chain.</summary>
    public const string ImageToVideo = "i2v";

    /// <summary>First-and-last-frame: a clip pinned at both ends by two images. Keyframes first, then a take's chunks at once.</summary>
    public const string FirstLastFrame = "flf2v";

    /// <summary>Extend: a clip that continues the last frames of another (it starts with them). Chunks chain with an overlap.</summary>
    public const string Extend = "extend";

    /// <summary>Text-to-video: no image. Every chunk at once.</summary>
    public const string TextToVideo = "t2v";

    /// <summary>Image-to-image (image models): an image made from another; what keyframes need.</summary>
    public const string ImageToImage = "i2i";

    /// <summary>The capabilities a video model may list.</summary>
    public static IReadOnlyList<string> Video { get; } = [ImageToVideo, FirstLastFrame, Extend, TextToVideo];

    /// <summary>The capabilities an image model may list.</summary>
    public static IReadOnlyList<string> Image { get; } = [ImageToImage];

    /// <summary>
    /// Checks every model's capabilities (known for its kind, no repeats; an extend model with 1 to 64 overlap frames, fewer
    /// than a clip has): a catalog file with a typo fails at start-up with the model and the name, not at a job's plan.
    /// </summary>
    public static void Validate(IEnumerable<ModelSpec> models)
    {
        foreach (var model in models)
        {
            var allowed = model.Kind switch { "video" => Video, "image" => Image, _ => [] };
            foreach (var capability in model.Capabilities)
            {
                if (!allowed.Contains(capability, StringComparer.Ordinal))
                {
                    throw new ArgumentException(
                        $"Model '{model.Name}' (kind {model.Kind}) lists capability '{capability}'; known for its kind: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed))}.");
                }
            }

            if (model.Capabilities.Distinct(StringComparer.Ordinal).Count() != model.Capabilities.Count)
            {
                throw new ArgumentException($"Model '{model.Name}' lists a capability twice.");
            }

            if (model.Can(Extend) && (model.OverlapFrames < 1 || model.OverlapFrames > 64 || model.OverlapFrames >= model.FramesPerClip))
            {
                throw new ArgumentException($"Model '{model.Name}' extends clips with overlapFrames {model.OverlapFrames}; it must be 1 to 64 and fewer than its {model.FramesPerClip} frames per clip.");
            }
        }
    }
}
