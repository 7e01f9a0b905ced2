using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;
using VideoGen.Catalog;
using VideoGen.Errors;
using VideoGen.Worker.Media;
using VideoGen.Worker.Membership;
using VideoGen.Worker.Models;
using VideoGen.Worker.Models.OpenAi;
using VideoGen.Worker.Models.ComfyUi;
using VideoGen.Worker.Models.Replicate;
using VideoGen.Worker.Services;
using VideoGen.Worker.Storage;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Hosting;

/// <summary>Wires the worker: options, Kestrel endpoints, models, media, storage, tasks, membership, gRPC and metrics.</summary>
public static class WorkerHostingExtensions
{
    /// <summary>Adds every worker service and the two Kestrel endpoints to <paramref name="builder"/>.</summary>
    public static WebApplicationBuilder AddVideoGenWorker(this WebApplicationBuilder builder)
    {
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });

        var services = builder.Services;
        services.AddWorkerOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => ModelCatalog.FromFileOrEmbedded(sp.GetRequiredService<IOptions<ModelCatalogOptions>>().Value.Path));

        services.AddSingleton<FfmpegRunner>();
        services.AddSingleton<LastFrameExtractor>();
        services.AddSingleton<ChunkStitcher>();

        services.AddSingleton<ProceduralVideoModel>();
        // The font comes from configuration, not IOptions<WorkerOptions>: validating those options resolves the model
        // registry, which holds this renderer (reading the options here deadlocked the worker's start).
        services.AddSingleton(sp => new ProceduralStoryboardRenderer(
            sp.GetRequiredService<FfmpegRunner>(),
            sp.GetRequiredService<IConfiguration>()[$"{WorkerOptions.Section}:{nameof(WorkerOptions.FontFile)}"] ?? WorkerOptions.DefaultFontFile));
        services.AddSingleton<IModelProvider, ProceduralModelProvider>();
        services.AddReplicateProvider();
        services.AddOpenAiImageProvider();
        services.AddComfyUiProvider();
        services.AddSingleton<ModelRegistry>();

        services.AddArtifactStore();

        services.AddSingleton<WorkerCapacity>();
        services.AddSingleton<Membership.CoordinatorEpochs>();
        services.AddSingleton<StoryboardExecutor>();
        services.AddSingleton<KeyframeExecutor>();
        services.AddSingleton<ChunkExecutor>();
        services.AddSingleton<StitchExecutor>();
        services.AddSingleton<FinishExecutor>();
        services.AddSingleton<SoundtrackExecutor>();
        services.AddSingleton<VoiceoverExecutor>();
        services.AddSingleton<MusicExecutor>();
        services.AddSingleton<UpscaleExecutor>();
        services.AddSingleton<TaskRunner>();
        services.AddSingleton<TaskExecutions>();

        services.AddSingleton<GpuInventory>();
        services.AddSingleton<WorkerEndpoints>();
        if (!string.Equals(builder.Configuration["Worker:Membership"], "none", StringComparison.Ordinal))
        {
            if (string.Equals(builder.Configuration["Worker:Membership"], "consul", StringComparison.Ordinal))
            {
                services.AddConsulMembership();
            }

            services.TryAddSingleton<IMembershipAgent, DirectMembershipAgent>();
            services.AddHostedService<MembershipLoop>();
        }

        services.AddGrpc(o =>
        {
            // Domain errors → statuses, the same table as the coordinator's (libs/VideoGen.Errors); first, so it
            // wraps the others.
            o.Interceptors.Add<ErrorMappingInterceptor>(new ErrorMappingOptions("worker"));
            // Calls come from this worker's coordinator only (the worker token); health probes stay open.
            o.Interceptors.Add<CoordinatorOnlyInterceptor>();
            // Explicit limits: a RunTask request carries a plan's beats and URIs (a few KiB); 1 MiB in, 4 MiB out.
            o.MaxReceiveMessageSize = 1 << 20;
            o.MaxSendMessageSize = 4 << 20;
        });
        // grpc.health.v1.Health: "" and videogen.v1.WorkerService report readiness (NOT_SERVING while draining),
        // evaluated on every call rather than from a cache, so a drain shows at once.
        services.AddGrpcHealthChecks(o => o.UseHealthChecksCache = false).AddCheck<WorkerHealthCheck>("worker");

        var plan = new KestrelListenPlan();
        services.AddSingleton(plan);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = context.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
            var secure = options.Tls.Serves;
            kestrel.Listen(KestrelListenPlan.ParseListenUrl(options.GrpcUrl, "Worker:GrpcUrl", secure), listen =>
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2;
                if (secure)
                {
                    options.Tls.Validate("Worker:Tls");
                    var certificate = options.Tls.LoadCertificate()!;
                    var roots = options.Tls.LoadCa();
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        if (options.Tls.RequireClientCertificate)
                        {
                            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                            https.ClientCertificateValidation = (client, _, _) => VideoGen.Security.TlsSettings.ChainsTo(client, roots);
                        }
                    });
                }

                plan.Grpc = listen;
            });
            kestrel.Listen(KestrelListenPlan.ParseListenUrl(options.HttpUrl, "Worker:HttpUrl", secure: false), listen =>
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1;
                plan.Http = listen;
            });
        });
        return builder;
    }

    /// <summary>Maps the worker's gRPC service, <c>/metrics</c> and <c>/healthz</c>, and logs the bound addresses at start.</summary>
    public static WebApplication MapVideoGenWorker(this WebApplication app)
    {
        app.UseHttpMetrics();
        app.MapGrpcService<WorkerGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapMetrics();
        app.MapGet("/healthz", (WorkerCapacity capacity) => Results.Ok(new { status = capacity.Draining ? "draining" : "ok" }));

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var endpoints = app.Services.GetRequiredService<WorkerEndpoints>();
            var options = app.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoGen.Worker");
            WorkerLog.Listening(logger, options.Id, endpoints.GrpcAddress, endpoints.HttpAddress);
            if (options.Membership == "none")
            {
                MembershipLog.Disabled(logger);
            }

            if (VideoGen.Security.WorkerToken.Resolve(options.Token).Length == 0)
            {
                WorkerLog.OpenToAnyCaller(logger);
            }
        });
        return app;
    }

    private static void AddWorkerOptions(this IServiceCollection services)
    {
        // One default id per process, so every options instance agrees.
        var defaultId = $"worker-{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";

        services.AddOptions<ModelCatalogOptions>().BindConfiguration(ModelCatalogOptions.Section);
        services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.Section)
            .PostConfigure<ModelCatalog, IConfiguration>((options, catalog, configuration) =>
            {
                if (string.IsNullOrWhiteSpace(options.Id))
                {
                    options.Id = defaultId;
                }

                // Also accept a comma-separated Worker:Models=a,b (command lines, environment variables).
                if (options.Models.Count == 0 && configuration["Worker:Models"] is { Length: > 0 } list)
                {
                    options.Models = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
                }

                if (options.Models.Count == 0)
                {
                    options.Models = catalog.Models.Values.Where(m => m.Provider == "procedural").Select(m => m.Name).ToList();
                }

                if (string.IsNullOrWhiteSpace(options.WorkDirectory))
                {
                    options.WorkDirectory = Path.Combine(Path.GetTempPath(), "videogen-worker", options.Id);
                }

                options.WorkDirectory = Path.GetFullPath(options.WorkDirectory);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();

        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .PostConfigure(options => options.LocalRoot = Path.GetFullPath(options.LocalRoot))
            .ValidateOnStart();
        services.AddOptions<ProceduralOptions>().BindConfiguration(ProceduralOptions.Section).ValidateOnStart();
        services.AddSingleton<SupportOptionsValidator>();
        services.AddSingleton<IValidateOptions<StorageOptions>>(sp => sp.GetRequiredService<SupportOptionsValidator>());
        services.AddSingleton<IValidateOptions<ProceduralOptions>>(sp => sp.GetRequiredService<SupportOptionsValidator>());
    }
}
