using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Hosting;

namespace VideoGen.Worker.Models.OpenAi;

/// <summary>How the worker reaches OpenAI images and speech (configuration section <c>OpenAI</c>): OpenAI or any compatible server.</summary>
public sealed class OpenAiOptions
{
    public const string Section = "OpenAI";

    /// <summary>The setting and environment variable read when <see cref="ApiKey"/> is not configured.</summary>
    public const string KeyEnvironmentVariable = "OPENAI_API_KEY";

    /// <summary>Image qualities gpt-image-1 accepts.</summary>
    public static readonly string[] Qualities = ["auto", "low", "medium", "high"];

    /// <summary>Base URL of the API, up to and including the version segment.</summary>
    public string BaseUrl { get; set; } = "https://api.openai.com/v1";

    /// <summary>API key; default: the <c>OPENAI_API_KEY</c> setting or environment variable.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The model sent to <c>/images/generations</c> when the catalog entry names no <c>providerModel</c>.</summary>
    public string ImageModel { get; set; } = "gpt-image-1";

    /// <summary>The model sent to <c>/audio/speech</c> when the catalog entry names no <c>providerModel</c>.</summary>
    public string SpeechModel { get; set; } = "tts-1";

    /// <summary><c>auto</c>, <c>low</c>, <c>medium</c> or <c>high</c> (the price per image depends on it; the catalog price assumes medium).</summary>
    public string ImageQuality { get; set; } = "medium";

    /// <summary>Time one storyboard image or one spoken line gets, every attempt and back-off included; also the per-request network timeout.</summary>
    public double TimeoutSeconds { get; set; } = 120;

    /// <summary>Retries by the SDK after the first attempt, on 408, 429, 5xx and network errors.</summary>
    public int MaxRetries { get; set; } = 2;
}

/// <summary>Start-up checks of <see cref="OpenAiOptions"/>; strict only when this worker serves an "openai" model.</summary>
/// <remarks>
/// It reads <see cref="WorkerOptions"/> when it validates, not in its constructor: the worker options' own validator
/// needs every <see cref="IModelProvider"/>, which needs these options, so a constructor dependency is a DI cycle.
/// </remarks>
public sealed class OpenAiOptionsValidator : IValidateOptions<OpenAiOptions>
{
    private readonly ModelCatalog _catalog;
    private readonly IServiceProvider _services;

    public OpenAiOptionsValidator(ModelCatalog catalog, IServiceProvider services)
    {
        _catalog = catalog;
        _services = services;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OpenAiOptions options)
    {
        var served = _services.GetRequiredService<IOptions<WorkerOptions>>().Value.Models
            .Select(m => _catalog.Models.GetValueOrDefault(m))
            .Where(m => m?.Provider == OpenAiModelProvider.ProviderName)
            .Select(m => m!)
            .ToList();
        if (served.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            failures.Add($"OpenAI:ApiKey (or the {OpenAiOptions.KeyEnvironmentVariable} environment variable) is required to serve {string.Join(", ", served.Select(m => m.Name))} (a local OpenAI-compatible server that ignores keys accepts any value).");
        }

        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            failures.Add($"OpenAI:BaseUrl must be an absolute http(s) URL such as https://api.openai.com/v1, got '{options.BaseUrl}'.");
        }

        if (served.Any(m => m.Kind == "image" && string.IsNullOrWhiteSpace(m.ProviderModel)) && string.IsNullOrWhiteSpace(options.ImageModel))
        {
            failures.Add("OpenAI:ImageModel must name an image model, e.g. gpt-image-1.");
        }

        if (!OpenAiOptions.Qualities.Contains(options.ImageQuality, StringComparer.Ordinal))
        {
            failures.Add($"OpenAI:ImageQuality must be one of {string.Join(", ", OpenAiOptions.Qualities)}, got '{options.ImageQuality}'.");
        }

        if (!(options.TimeoutSeconds > 0 && options.TimeoutSeconds <= 600))
        {
            failures.Add($"OpenAI:TimeoutSeconds must be > 0 and <= 600, got {options.TimeoutSeconds}.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add($"OpenAI:MaxRetries must be between 0 and 10, got {options.MaxRetries}.");
        }

        foreach (var model in served.Where(m => m.Kind is not ("image" or "speech")))
        {
            failures.Add($"Worker:Models names '{model.Name}' of provider 'openai' and kind '{model.Kind}'; this build serves only OpenAI image and speech models.");
        }

        if (served.Any(m => m.Kind == "speech" && string.IsNullOrWhiteSpace(m.ProviderModel)) && string.IsNullOrWhiteSpace(options.SpeechModel))
        {
            failures.Add("OpenAI:SpeechModel must name a speech model, e.g. tts-1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
