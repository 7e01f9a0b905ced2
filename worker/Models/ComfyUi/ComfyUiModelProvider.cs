using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models.ComfyUi;

/// <summary>
/// The "comfyui" provider: catalog video models that run on this worker's own GPU through the ComfyUI server beside
/// it (<c>ComfyUI:BaseUrl</c>), each from its workflow file (<see cref="ModelSpec.Workflow"/>, read at start).
/// </summary>
public sealed class ComfyUiModelProvider : IModelProvider
{
    public const string ProviderName = "comfyui";

    private readonly ComfyUiClient _client;
    private readonly ComfyUiOptions _options;
    private readonly GpuServerState _state;
    private readonly FfmpegRunner _ffmpeg;
    private readonly ILogger _logger;

    public ComfyUiModelProvider(IHttpClientFactory http, IOptions<ComfyUiOptions> options, GpuServerState state, FfmpegRunner ffmpeg, ILogger<ComfyUiVideoModel> logger)
    {
        _options = options.Value;
        _client = new ComfyUiClient(http.CreateClient(ComfyUiClient.HttpClientName), new Uri(_options.BaseUrl.TrimEnd('/') + "/"));
        _state = state;
        _ffmpeg = ffmpeg;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => ProviderName;

    /// <summary>The client of the worker's server.</summary>
    public ComfyUiClient Client => _client;

    /// <inheritdoc />
    public IVideoModel CreateVideoModel(ModelSpec spec)
    {
        _state.Enabled = true;
        var workflow = WorkflowTemplate.Load(Path.Combine(_options.ResolvedWorkflowDirectory, spec.Workflow), spec.OutputNode);
        return new ComfyUiVideoModel(spec, workflow, _client, _options, _state, _ffmpeg, _logger);
    }

    /// <inheritdoc />
    public IImageModel CreateImageModel(ModelSpec spec) =>
        throw new InvalidOperationException($"Model '{spec.Name}': the {Name} provider serves video models only.");
}

/// <summary>
/// Probes the worker's ComfyUI (<c>GET /system_stats</c>) every <c>ComfyUI:ProbeSeconds</c>: its GPUs and free memory
/// go out with the next heartbeat, and while it does not answer the worker reports itself unhealthy (no tasks).
/// </summary>
public sealed class ComfyUiProbe(ComfyUiModelProvider provider, ModelRegistry registry, GpuServerState state, IOptions<ComfyUiOptions> options, TimeProvider time, ILogger<ComfyUiProbe> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = registry; // the registry creates the models, which enables the state; it must exist before the first probe
        if (!state.Enabled)
        {
            return;
        }

        var interval = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.ProbeSeconds));
        string? identity = null;
        var wasReachable = (bool?)null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, Math.Min(options.Value.RequestTimeoutSeconds, 10))));
                var (gpus, id) = await provider.Client.GetSystemStatsAsync(timeout.Token);
                state.Probed(gpus, restarted: identity is not null && identity != id);
                identity = id;
                if (wasReachable != true)
                {
                    ComfyUiLog.Reachable(logger, options.Value.BaseUrl, string.Join("; ", gpus.Select(g => $"{g.Name} {g.FreeBytes / 1048576} of {g.TotalBytes / 1048576} MiB free")));
                }

                wasReachable = true;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                var reason = $"ComfyUI at {options.Value.BaseUrl} does not answer: {ex.Message}";
                state.Unreachable(reason);
                if (wasReachable != false)
                {
                    ComfyUiLog.Unreachable(logger, options.Value.BaseUrl, ex.Message);
                }

                wasReachable = false;
            }

            await Task.Delay(interval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}

/// <summary>Registers the ComfyUI provider, its HTTP client, options and probe.</summary>
public static class ComfyUiServiceCollectionExtensions
{
    /// <summary>Adds the "comfyui" <see cref="IModelProvider"/> (options from section <c>ComfyUI</c>).</summary>
    public static IServiceCollection AddComfyUiProvider(this IServiceCollection services)
    {
        services.AddOptions<ComfyUiOptions>()
            .BindConfiguration(ComfyUiOptions.Section)
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https", "ComfyUI:BaseUrl must be an absolute http(s) URL, e.g. http://127.0.0.1:8188.")
            .Validate(o => o.ProbeSeconds > 0 && o.RequestTimeoutSeconds > 0 && o.ExecutionTimeoutSeconds > 0, "ComfyUI:ProbeSeconds, RequestTimeoutSeconds and ExecutionTimeoutSeconds must be positive.")
            .ValidateOnStart();
        // The probe calls every few seconds: the provider logs what matters itself, not four lines per request.
        services.AddHttpClient(ComfyUiClient.HttpClientName, (sp, client) =>
            client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<ComfyUiOptions>>().Value.RequestTimeoutSeconds))
            .RemoveAllLoggers();
        services.AddSingleton<GpuServerState>();
        services.AddSingleton<ComfyUiModelProvider>();
        services.AddSingleton<IModelProvider>(sp => sp.GetRequiredService<ComfyUiModelProvider>());
        services.AddHostedService<ComfyUiProbe>();
        return services;
    }
}
