using Microsoft.Extensions.Options;
using VideoGen.Contracts.Catalog;
using VideoGen.Worker.Hosting;

namespace VideoGen.Worker.Models;

/// <summary>Makes model implementations for one provider ("procedural" now, "replicate" later).</summary>
public interface IModelProvider
{
    /// <summary>The catalog provider name it serves.</summary>
    string Name { get; }

    /// <summary>The implementation of a video model of this provider.</summary>
    IVideoModel CreateVideoModel(ModelSpec spec);

    /// <summary>The implementation of an image model of this provider.</summary>
    IImageModel CreateImageModel(ModelSpec spec);

    /// <summary>Whether the provider runs upscaler models (catalog kind "upscaler").</summary>
    bool ServesUpscalers => false;

    /// <summary>The implementation of an upscaler model of this provider (only when <see cref="ServesUpscalers"/>).</summary>
    IUpscalerModel CreateUpscalerModel(ModelSpec spec) => throw new NotSupportedException($"Provider {Name} has no upscaler models.");
}

/// <summary>The embedded provider: FFmpeg-made clips and storyboards, no network, no account.</summary>
public sealed class ProceduralModelProvider : IModelProvider
{
    private readonly ProceduralVideoModel _video;
    private readonly ProceduralStoryboardRenderer _image;

    public ProceduralModelProvider(ProceduralVideoModel video, ProceduralStoryboardRenderer image)
    {
        _video = video;
        _image = image;
    }

    /// <inheritdoc />
    public string Name => "procedural";

    /// <inheritdoc />
    public IVideoModel CreateVideoModel(ModelSpec spec) => _video;

    /// <inheritdoc />
    public IImageModel CreateImageModel(ModelSpec spec) => _image;
}

/// <summary>
/// The models this worker serves (<c>Worker:Models</c>), each mapped from its catalog entry to an implementation
/// by its provider. Start-up validation (<see cref="WorkerOptionsValidator"/>) guarantees every served model is
/// in the catalog and has a provider.
/// </summary>
public sealed class ModelRegistry
{
    private readonly Dictionary<string, (ModelSpec Spec, IVideoModel Model)> _video = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ModelSpec Spec, IImageModel Model)> _image = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ModelSpec Spec, IUpscalerModel Model)> _upscalers = new(StringComparer.Ordinal);

    public ModelRegistry(ModelCatalog catalog, IOptions<WorkerOptions> options, IEnumerable<IModelProvider> providers)
    {
        var byName = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var name in options.Value.Models)
        {
            if (!catalog.Models.TryGetValue(name, out var spec) || !byName.TryGetValue(spec.Provider, out var provider))
            {
                continue; // Reported by WorkerOptionsValidator at start-up.
            }

            if (spec.Kind == "image")
            {
                _image[name] = (spec, provider.CreateImageModel(spec));
            }
            else if (spec.Kind == UpscalerKind)
            {
                if (provider.ServesUpscalers)
                {
                    _upscalers[name] = (spec, provider.CreateUpscalerModel(spec));
                }
            }
            else
            {
                _video[name] = (spec, provider.CreateVideoModel(spec));
            }
        }

        Served = options.Value.Models.ToArray();
    }

    /// <summary>The catalog kind of upscaler models.</summary>
    public const string UpscalerKind = "upscaler";

    /// <summary>The upscaler model <paramref name="name"/>, when this worker serves it.</summary>
    public bool TryGetUpscaler(string name, out ModelSpec spec, out IUpscalerModel model)
    {
        var found = _upscalers.TryGetValue(name, out var entry);
        (spec, model) = found ? entry : (null!, null!);
        return found;
    }

    /// <summary>Every model this worker serves, in configuration order.</summary>
    public IReadOnlyList<string> Served { get; }

    /// <summary>The video model <paramref name="name"/>, when this worker serves it.</summary>
    public bool TryGetVideoModel(string name, out ModelSpec spec, out IVideoModel model)
    {
        var found = _video.TryGetValue(name, out var entry);
        (spec, model) = found ? entry : (null!, null!);
        return found;
    }

    /// <summary>The image model <paramref name="name"/>; an empty name means the first image model served.</summary>
    public bool TryGetImageModel(string name, out ModelSpec spec, out IImageModel model)
    {
        var found = string.IsNullOrEmpty(name) ? _image.Count > 0 : _image.ContainsKey(name);
        var entry = found ? (string.IsNullOrEmpty(name) ? _image.First().Value : _image[name]) : default;
        (spec, model) = found ? entry : (null!, null!);
        return found;
    }
}
