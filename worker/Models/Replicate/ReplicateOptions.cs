using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Hosting;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>How the worker talks to Replicate (configuration section <c>Replicate</c>).</summary>
public sealed class ReplicateOptions
{
    public const string Section = "Replicate";

    /// <summary>The environment variable read when <see cref="ApiToken"/> is not configured.</summary>
    public const string TokenEnvironmentVariable = "REPLICATE_API_TOKEN";

    /// <summary>API token sent as <c>Authorization: Bearer</c>; default: the <c>REPLICATE_API_TOKEN</c> environment variable.</summary>
    public string ApiToken { get; set; } = "";

    /// <summary>The API's base URL (a stand-in's in tests).</summary>
    public string BaseUrl { get; set; } = "https://api.replicate.com";

    /// <summary>
    /// <c>Prefer: wait=N</c> on create: the create call holds up to N seconds (1–60) for the result, saving polls for
    /// fast models; 0 sends no <c>Prefer</c> header.
    /// </summary>
    public int WaitSeconds { get; set; } = 60;

    /// <summary>
    /// <c>Cancel-After</c> on create: Replicate cancels a prediction that has not finished after this many seconds,
    /// so a stuck prediction stops costing money even if this worker dies; 0 sends no header.
    /// </summary>
    public int CancelAfterSeconds { get; set; } = 600;

    /// <summary>First poll interval in seconds; grows ×1.5 per poll up to <see cref="PollMaxSeconds"/>.</summary>
    public double PollSeconds { get; set; } = 1;

    /// <summary>Longest poll interval in seconds.</summary>
    public double PollMaxSeconds { get; set; } = 5;

    /// <summary>Retries of one API call on 429, 5xx or a network error before the attempt fails (retryable).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First retry delay in seconds when no <c>Retry-After</c> is given; doubles per retry, with jitter.</summary>
    public double RetryBaseSeconds { get; set; } = 1;

    /// <summary>Longest retry delay in seconds (also caps a <c>Retry-After</c>).</summary>
    public double RetryMaxSeconds { get; set; } = 30;

    /// <summary>Timeout of one API call in seconds; must exceed <see cref="WaitSeconds"/>.</summary>
    public double RequestTimeoutSeconds { get; set; } = 90;

    /// <summary>Timeout of one output download in seconds.</summary>
    public double DownloadTimeoutSeconds { get; set; } = 300;

    /// <summary>Catalog model name → deployment <c>owner/name</c>: predictions go to <c>/v1/deployments/owner/name/predictions</c>.</summary>
    public Dictionary<string, string> Deployments { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Catalog image-to-video model → the text-to-video model used when a chunk has no start image; default: the catalog's sibling.</summary>
    public Dictionary<string, string> TextToVideoFallbacks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Catalog model name → extra input fields sent with every prediction (numbers and booleans are sent as such).</summary>
    public Dictionary<string, Dictionary<string, string>> Inputs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Input field that carries the start image (a data: URI).</summary>
    public string ImageInput { get; set; } = "image";

    /// <summary>Input field of an upscaler model that carries the clip (a data: URI); lucataco/real-esrgan-video calls it <c>video_path</c>.</summary>
    public string VideoInput { get; set; } = "video_path";

    /// <summary>Input field that carries the seed; empty sends none.</summary>
    public string SeedInput { get; set; } = "seed";
}

/// <summary>Start-up checks of <see cref="ReplicateOptions"/>; strict only when this worker serves a Replicate model.</summary>
public sealed class ReplicateOptionsValidator : IValidateOptions<ReplicateOptions>
{
    private readonly ModelCatalog _catalog;
    private readonly IOptions<WorkerOptions> _worker;

    public ReplicateOptionsValidator(ModelCatalog catalog, IOptions<WorkerOptions> worker)
    {
        _catalog = catalog;
        _worker = worker;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ReplicateOptions options)
    {
        var served = _worker.Value.Models
            .Select(m => _catalog.Models.GetValueOrDefault(m))
            .Where(m => m?.Provider == ReplicateModelProvider.ProviderName)
            .Select(m => m!)
            .ToList();
        if (served.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ApiToken))
        {
            failures.Add($"Replicate:ApiToken (or the {ReplicateOptions.TokenEnvironmentVariable} environment variable) is required to serve {string.Join(", ", served.Select(m => m.Name))}.");
        }

        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            failures.Add($"Replicate:BaseUrl must be an http(s) URL, got '{options.BaseUrl}'.");
        }

        if (options.WaitSeconds is < 0 or > 60)
        {
            failures.Add($"Replicate:WaitSeconds must be between 0 and 60 (Replicate holds a request at most 60 s), got {options.WaitSeconds}.");
        }

        if (options.CancelAfterSeconds < 0)
        {
            failures.Add($"Replicate:CancelAfterSeconds must not be negative, got {options.CancelAfterSeconds}.");
        }

        if (options.PollSeconds <= 0 || options.PollMaxSeconds < options.PollSeconds)
        {
            failures.Add($"Replicate:PollSeconds must be > 0 and Replicate:PollMaxSeconds at least as large, got {options.PollSeconds} and {options.PollMaxSeconds}.");
        }

        if (options.MaxRetries < 0 || options.RetryBaseSeconds < 0 || options.RetryMaxSeconds < options.RetryBaseSeconds)
        {
            failures.Add("Replicate:MaxRetries and Replicate:RetryBaseSeconds must not be negative, and Replicate:RetryMaxSeconds must be at least Replicate:RetryBaseSeconds.");
        }

        if (options.RequestTimeoutSeconds <= options.WaitSeconds)
        {
            failures.Add($"Replicate:RequestTimeoutSeconds ({options.RequestTimeoutSeconds}) must exceed Replicate:WaitSeconds ({options.WaitSeconds}).");
        }

        if (options.DownloadTimeoutSeconds <= 0)
        {
            failures.Add($"Replicate:DownloadTimeoutSeconds must be > 0, got {options.DownloadTimeoutSeconds}.");
        }

        if (string.IsNullOrWhiteSpace(options.ImageInput))
        {
            failures.Add("Replicate:ImageInput must not be empty.");
        }

        if (served.Any(m => m.Kind == Models.ModelRegistry.UpscalerKind) && string.IsNullOrWhiteSpace(options.VideoInput))
        {
            failures.Add("Replicate:VideoInput must not be empty when this worker serves an upscaler.");
        }

        foreach (var model in served)
        {
            var target = options.Deployments.GetValueOrDefault(model.Name) ?? model.ProviderModel;
            if (target.Split('/') is not [{ Length: > 0 }, { Length: > 0 }])
            {
                failures.Add($"Model '{model.Name}' needs an 'owner/name' providerModel in the catalog or a Replicate:Deployments:{model.Name}, got '{target}'.");
            }
        }

        foreach (var (from, to) in options.TextToVideoFallbacks)
        {
            if (!_catalog.Models.TryGetValue(to, out var fallback) || fallback.Provider != ReplicateModelProvider.ProviderName || fallback.TakesImage)
            {
                failures.Add($"Replicate:TextToVideoFallbacks:{from} names '{to}', which is not a Replicate text-to-video model of the catalog.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
