using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>The "replicate" provider: catalog models whose predictions run on Replicate (or a stand-in at <c>Replicate:BaseUrl</c>).</summary>
public sealed class ReplicateModelProvider : IModelProvider
{
    public const string ProviderName = "replicate";

    private readonly ModelCatalog _catalog;
    private readonly ReplicatePredictionRunner _runner;
    private readonly FfmpegRunner _ffmpeg;
    private readonly ILogger _logger;

    public ReplicateModelProvider(ModelCatalog catalog, ReplicatePredictionRunner runner, FfmpegRunner ffmpeg, ILogger<ReplicateVideoModel> logger)
    {
        _catalog = catalog;
        _runner = runner;
        _ffmpeg = ffmpeg;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => ProviderName;

    /// <inheritdoc />
    public IVideoModel CreateVideoModel(ModelSpec spec) => new ReplicateVideoModel(spec, TextToVideoFor(spec), _runner, _ffmpeg, _logger);

    /// <inheritdoc />
    public IImageModel CreateImageModel(ModelSpec spec) => new ReplicateImageModel(spec, _runner, _ffmpeg);

    /// <inheritdoc />
    public IMusicModel CreateMusicModel(ModelSpec spec) => new ReplicateMusicModel(spec, _runner);
    public bool ServesUpscalers => true;

    /// <inheritdoc />
    public IUpscalerModel CreateUpscalerModel(ModelSpec spec) => new ReplicateUpscalerModel(spec, _runner);

    /// <summary>
    /// The text-to-video model that stands in for <paramref name="spec"/> when a chunk has no start image: the
    /// configured one, else the catalog's Replicate text-to-video model with the same clip length, size and frame
    /// rate (wan-2.1-i2v-480p → wan-2.1-t2v-480p), so the chunk still fits the plan and the stitch.
    /// </summary>
    public ModelSpec? TextToVideoFor(ModelSpec spec)
    {
        if (!spec.TakesImage)
        {
            return null;
        }

        if (_runner.Options.TextToVideoFallbacks.TryGetValue(spec.Name, out var configured))
        {
            return _catalog.Models.GetValueOrDefault(configured);
        }

        return _catalog.Models.Values.FirstOrDefault(m =>
            m.Provider == ProviderName && m.Kind == "video" && !m.TakesImage &&
            m.ClipSeconds == spec.ClipSeconds && m.Width == spec.Width && m.Height == spec.Height && m.Fps == spec.Fps);
    }
}

/// <summary>Registers the Replicate provider, its HTTP clients and its options.</summary>
public static class ReplicateServiceCollectionExtensions
{
    /// <summary>Adds the "replicate" <see cref="IModelProvider"/> (options from section <c>Replicate</c>, validated at start).</summary>
    public static IServiceCollection AddReplicateProvider(this IServiceCollection services)
    {
        services.AddOptions<ReplicateOptions>()
            .BindConfiguration(ReplicateOptions.Section)
            .PostConfigure(options =>
            {
                if (string.IsNullOrWhiteSpace(options.ApiToken))
                {
                    options.ApiToken = Environment.GetEnvironmentVariable(ReplicateOptions.TokenEnvironmentVariable) ?? "";
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReplicateOptions>, ReplicateOptionsValidator>();
        services.AddHttpClient(ReplicateClient.ApiClient, (sp, client) =>
            ReplicateClient.Configure(client, sp.GetRequiredService<IOptions<ReplicateOptions>>().Value, api: true));
        services.AddHttpClient(ReplicateClient.FilesClient, (sp, client) =>
            ReplicateClient.Configure(client, sp.GetRequiredService<IOptions<ReplicateOptions>>().Value, api: false));
        services.AddSingleton<ReplicateClient>();
        services.AddSingleton<ReplicatePredictionRunner>();
        services.AddSingleton<IModelProvider, ReplicateModelProvider>();
        return services;
    }
}
