using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoGen.Contracts.Catalog;

/// <summary>One model as the farm knows it (video, image, speech or music): who runs it and what it really produces.</summary>
public sealed record ModelSpec
{
    /// <summary>Catalog name clients use, e.g. "procedural-i2v", "wan-2.1-i2v-480p".</summary>
    public string Name { get; init; } = "";

    /// <summary>"procedural" (embedded, no network), "replicate" or "openai" (image and speech models).</summary>
    public string Provider { get; init; } = "procedural";

    /// <summary>"video", "image", "speech" (a voiceover's text-to-speech), "music" (a music bed) or "upscaler" (a video-to-video upscaler for the finish).</summary>
    public string Kind { get; init; } = "video";

    /// <summary>For upscalers: the factor it enlarges a frame by (2, 4); the worker scales its output to the master's size.</summary>
    public double Scale { get; init; } = 1;

    /// <summary>Seconds per clip the model really returns, whatever it is asked for.</summary>
    public double ClipSeconds { get; init; } = 5;

    public int Width { get; init; } = 854;

    public int Height { get; init; } = 480;

    public int Fps { get; init; } = 24;

    /// <summary>Price per second of generated video or audio (per second of input video for upscalers, per image for image models).</summary>
    public double PricePerSecondUsd { get; init; }

    /// <summary>Price per character of text sent to a speech model (OpenAI prices its tts models so); 0 for others.</summary>
    public double PricePerCharacterUsd { get; init; }

    /// <summary>True when the model takes a start image (image-to-video).</summary>
    public bool TakesImage { get; init; } = true;

    /// <summary>Calls to the model at once on one worker; 0: limited by the worker's slots only.</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>Provider-specific model id (e.g. "wavespeedai/wan-2.1-i2v-480p").</summary>
    public string ProviderModel { get; init; } = "";

    /// <summary>True when only workers that reported a GPU may run the model.</summary>
    public bool RequiresGpu { get; init; }

    /// <summary>Expected seconds of one model call, used by estimates.</summary>
    public double ExpectedLatencySeconds { get; init; } = 2;
}

/// <summary>The model catalog: configuration, not code. The embedded default lives in Catalog/models.json.</summary>
public sealed class ModelCatalog
{
    /// <summary>The embedded image model: storyboards use it unless configured otherwise.</summary>
    public const string ProceduralImageModel = "procedural-image";

    /// <summary>The embedded speech model (espeak-ng): voiceovers use it unless configured otherwise.</summary>
    public const string EmbeddedSpeechModel = "espeak-ng";

    /// <summary>The embedded music model (an FFmpeg-synthesised bed): music uses it unless configured otherwise.</summary>
    public const string EmbeddedMusicModel = "ffmpeg-bed";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public ModelCatalog(IEnumerable<ModelSpec> models, string defaultModel)
    {
        Models = models.ToDictionary(m => m.Name, StringComparer.Ordinal);
        if (!Models.ContainsKey(defaultModel))
        {
            throw new ArgumentException($"Default model '{defaultModel}' is not in the catalog.", nameof(defaultModel));
        }

        DefaultModel = defaultModel;
    }

    public IReadOnlyDictionary<string, ModelSpec> Models { get; }

    public string DefaultModel { get; }

    public bool TryGet(string name, out ModelSpec model) =>
        Models.TryGetValue(string.IsNullOrEmpty(name) ? DefaultModel : name, out model!);

    /// <summary>The catalog shipped with the farm (procedural models and the Replicate models).</summary>
    public static ModelCatalog Embedded()
    {
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream("VideoGen.Contracts.Catalog.models.json")
            ?? throw new InvalidOperationException("Embedded model catalog is missing.");
        return Load(stream);
    }

    /// <summary>Reads a catalog file: <c>{ "defaultModel": "...", "models": [ { ... } ] }</c>.</summary>
    public static ModelCatalog Load(Stream json)
    {
        var file = JsonSerializer.Deserialize<CatalogFile>(json, JsonOptions)
            ?? throw new InvalidOperationException("Model catalog is empty.");
        return new ModelCatalog(file.Models, file.DefaultModel);
    }

    /// <summary>The embedded catalog, or the file at <paramref name="path"/> when one is given.</summary>
    public static ModelCatalog FromFileOrEmbedded(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return Embedded();
        }

        using var stream = File.OpenRead(path);
        return WithBuiltIns(Load(stream));
    }

    /// <summary>
    /// <paramref name="catalog"/> plus the embedded speech and music models (espeak-ng and the FFmpeg bed, which every
    /// worker serves and the soundtrack uses by default) when it does not name them itself: a catalog file written for
    /// video models alone still plans jobs with sound. An entry of the same name in the file wins.
    /// </summary>
    public static ModelCatalog WithBuiltIns(ModelCatalog catalog)
    {
        var embedded = Embedded().Models;
        var missing = new[] { EmbeddedSpeechModel, EmbeddedMusicModel }.Where(n => !catalog.Models.ContainsKey(n) && embedded.ContainsKey(n)).ToList();
        return missing.Count == 0
            ? catalog
            : new ModelCatalog(catalog.Models.Values.Concat(missing.Select(n => embedded[n])), catalog.DefaultModel);
    }

    private sealed class CatalogFile
    {
        [JsonPropertyName("defaultModel")]
        public string DefaultModel { get; set; } = "";

        [JsonPropertyName("models")]
        public List<ModelSpec> Models { get; set; } = [];
    }
}
