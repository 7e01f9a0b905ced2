using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Hosting;

namespace VideoGen.Worker.Models;

/// <summary>Makes model implementations for one provider ("procedural", "replicate", "openai").</summary>
public interface IModelProvider
{
    /// <summary>The catalog provider name it serves.</summary>
    string Name { get; }

    /// <summary>The implementation of a video model of this provider.</summary>
    IVideoModel CreateVideoModel(ModelSpec spec);

    /// <summary>The implementation of an image model of this provider.</summary>
    IImageModel CreateImageModel(ModelSpec spec);

    /// <summary>The implementation of a speech model of this provider.</summary>
    ISpeechModel CreateSpeechModel(ModelSpec spec) =>
        throw new InvalidOperationException($"Model '{spec.Name}': the {Name} provider serves no speech models.");

    /// <summary>The implementation of a music model of this provider.</summary>
    IMusicModel CreateMusicModel(ModelSpec spec) =>
        throw new InvalidOperationException($"Model '{spec.Name}': the {Name} provider serves no music models.");
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

    /// <inheritdoc />
    public ISpeechModel CreateSpeechModel(ModelSpec spec) => Embedded.Speech;

    /// <inheritdoc />
    public IMusicModel CreateMusicModel(ModelSpec spec) => Embedded.Music;

    /// <summary>The embedded audio models, which every worker can run (espeak-ng and FFmpeg are on every worker image).</summary>
    public static class Embedded
    {
        public static ISpeechModel Speech { get; } = new EspeakSpeechModel();

        public static IMusicModel Music { get; } = new FfmpegMusicBed();
    }
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
    private readonly Dictionary<string, (ModelSpec Spec, ISpeechModel Model)> _speech = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ModelSpec Spec, IMusicModel Model)> _music = new(StringComparer.Ordinal);
    private readonly ModelCatalog _catalog;
    private readonly Dictionary<string, (ModelSpec Spec, IUpscalerModel Model)> _upscalers = new(StringComparer.Ordinal);

    public ModelRegistry(ModelCatalog catalog, IOptions<WorkerOptions> options, IEnumerable<IModelProvider> providers)
    {
        _catalog = catalog;
        var byName = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var name in options.Value.Models)
        {
            if (!catalog.Models.TryGetValue(name, out var spec) || !byName.TryGetValue(spec.Provider, out var provider))
            {
                continue; // Reported by WorkerOptionsValidator at start-up.
            }

            switch (spec.Kind)
            {
                case "image":
                    _image[name] = (spec, provider.CreateImageModel(spec));
                    break;
                case "speech":
                    _speech[name] = (spec, provider.CreateSpeechModel(spec));
                    break;
                case "music":
                    _music[name] = (spec, provider.CreateMusicModel(spec));
                    break;
                case UpscalerKind:
                    if (provider.ServesUpscalers)
                    {
                        _upscalers[name] = (spec, provider.CreateUpscalerModel(spec));
                    }

                    break;
                default:
                    _video[name] = (spec, provider.CreateVideoModel(spec));
                    break;
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

    /// <summary>
    /// The speech model <paramref name="name"/>, when this worker serves it; an embedded one (provider "procedural",
    /// espeak-ng) is served by every worker, listed or not, as the procedural storyboard renderer is.
    /// </summary>
    public bool TryGetSpeechModel(string name, out ModelSpec spec, out ISpeechModel model)
    {
        if (_speech.TryGetValue(name, out var entry))
        {
            (spec, model) = entry;
            return true;
        }

        var embedded = _catalog.Models.TryGetValue(name, out spec!) && spec.Kind == "speech" && spec.Provider == "procedural";
        model = embedded ? ProceduralModelProvider.Embedded.Speech : null!;
        return embedded;
    }

    /// <summary>The music model <paramref name="name"/>, when this worker serves it; the embedded FFmpeg bed on every worker.</summary>
    public bool TryGetMusicModel(string name, out ModelSpec spec, out IMusicModel model)
    {
        if (_music.TryGetValue(name, out var entry))
        {
            (spec, model) = entry;
            return true;
        }

        var embedded = _catalog.Models.TryGetValue(name, out spec!) && spec.Kind == "music" && spec.Provider == "procedural";
        model = embedded ? ProceduralModelProvider.Embedded.Music : null!;
        return embedded;
    }
}
