using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoGen.Catalog;

/// <summary>The model catalog: configuration, not code. The embedded default lives in models.json beside this file.</summary>
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
        ModelCapabilities.Validate(Models.Values);
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
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream("VideoGen.Catalog.models.json")
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
