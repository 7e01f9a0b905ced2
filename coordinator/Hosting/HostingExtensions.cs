using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Grpc.AspNetCore.Web;
using Prometheus;
using VideoGen.Catalog;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Leadership;
using VideoGen.Coordinator.Membership;
using VideoGen.Coordinator.Observability;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Planning.Llm;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Coordinator.Services;
using VideoGen.Coordinator.Web;
using VideoGen.Coordinator.Webhooks;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Hosting;

/// <summary>Wires the coordinator: options, Kestrel endpoints, services, the orchestrator's lifetime.</summary>
public static partial class HostingExtensions
{
    public static WebApplicationBuilder AddCoordinator(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("Coordinator").Get<CoordinatorOptions>() ?? new CoordinatorOptions();
        builder.Services.AddOptions<CoordinatorOptions>().BindConfiguration("Coordinator");
        builder.Services.AddOptions<SchedulingOptions>().BindConfiguration("Scheduling")
            .Validate(o => o.MaxAttempts > 0 && o.TaskLeaseSeconds > 0 && o.WorkerLeaseSeconds > o.HeartbeatIntervalSeconds, "Scheduling: MaxAttempts > 0, TaskLeaseSeconds > 0, WorkerLeaseSeconds > HeartbeatIntervalSeconds")
            .Validate(o => o.SeamGate.Problem() is null, "Scheduling:SeamGate: MinSsim from 0 to 1, MaxColourDistance and MaxMotionJump not negative, MaxRegenerations from 0 to 10")
            .PostConfigure(o => o.StoryboardImageModel = builder.Configuration["Storyboard:ImageModel"] ?? o.StoryboardImageModel)
            .Validate<ModelCatalog>(
                (o, catalog) => o.StoryboardImageModel.Length == 0 || (catalog.Models.TryGetValue(o.StoryboardImageModel, out var image) && image.Kind == "image"),
                "Storyboard:ImageModel must be empty (procedural storyboards) or name an image model of the model catalog, e.g. gpt-image-1")
            .ValidateOnStart();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, options.GrpcUrl, HttpProtocols.Http2, options.Tls);
            Listen(kestrel, options.HttpUrl, HttpProtocols.Http1);
        });

        // JSON transcoding: the google.api.http routes of jobs.proto (REST/JSON on the HTTP/1.1 endpoint),
        // through the same interceptors as gRPC.
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorMappingInterceptor>(new ErrorMappingOptions("coordinator"));
            o.Interceptors.Add<StandbyInterceptor>(); // inside the error mapping: a standby's answer is UNAVAILABLE
            // Explicit limits: the largest request is a job request (a 4,000-character prompt); a Job with its plan and
            // event log stays far below 16 MiB.
            o.MaxReceiveMessageSize = GrpcLimits.MaxReceiveMessageBytes;
            o.MaxSendMessageSize = GrpcLimits.MaxSendMessageBytes;
        }).AddJsonTranscoding(o =>
            // Error bodies carry the status details (google.rpc.BadRequest names the field).
            o.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.BadRequest.Descriptor, Google.Rpc.ErrorInfo.Descriptor, Google.Rpc.QuotaFailure.Descriptor, Google.Rpc.RetryInfo.Descriptor));
        // grpc.health.v1.Health: "" and videogen.v1.JobService report the orchestrator's readiness.
        builder.Services.AddRestOpenApi();
        builder.Services.AddWebhooks();
        builder.Services.AddGrpcHealthChecks()
            .AddCheck<OrchestratorHealthCheck>("orchestrator");
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => ModelCatalog.FromFileOrEmbedded(options.ModelCatalogPath));
        builder.Services.AddSingleton(_ => string.IsNullOrEmpty(options.TemplatesDirectory)
            ? TemplateCatalog.LoadDefault()
            : TemplateCatalog.LoadDirectory(options.TemplatesDirectory));
        var resolution = options.ParsedDefaultResolution
            ?? throw new InvalidOperationException($"Coordinator:DefaultResolution must be 480p, 720p or 1080p; got '{options.DefaultResolution}'.");
        // The soundtrack's models: the embedded espeak-ng and FFmpeg bed unless Soundtrack:VoiceModel / MusicModel name others.
        var soundtrackModels = new SoundtrackModels(
            builder.Configuration["Soundtrack:VoiceModel"] is { Length: > 0 } voiceModel ? voiceModel : SoundtrackModels.Embedded.VoiceModel,
            builder.Configuration["Soundtrack:MusicModel"] is { Length: > 0 } musicModel ? musicModel : SoundtrackModels.Embedded.MusicModel);
        builder.Services.AddSingleton(sp =>
        {
            var catalog = sp.GetRequiredService<ModelCatalog>();
            if (SoundtrackPlanner.ValidateModels(soundtrackModels, catalog) is { Count: > 0 } failures)
            {
                throw new OptionsValidationException("Soundtrack", typeof(SoundtrackModels), failures);
            }

            ValidateUpscaler(options.Upscaler, catalog);
            return new RuleBasedPlanner(sp.GetRequiredService<TemplateCatalog>(), catalog, resolution, soundtrackModels, options.Upscaler.Trim(),
                builder.Configuration["Storyboard:ImageModel"] ?? "");
        });
        builder.Services.AddJobPlanner(builder.Configuration);
        builder.Services.AddJobStore(builder.Configuration, options);
        builder.Services.AddSingleton<JobEventHub>();
        builder.Services.AddSingleton<Membership.WorkerAdmission>();
        var leadership = builder.Configuration.GetSection(LeadershipOptions.Section).Get<LeadershipOptions>() ?? new LeadershipOptions();
        var storeOptions = builder.Configuration.GetSection(JobStoreOptions.Section).Get<JobStoreOptions>() ?? new JobStoreOptions();
        if (leadership.Problem(storeOptions.UsesPostgres) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        builder.Services.AddSingleton(new Leadership.Leadership(standbys: leadership.Enabled));
        builder.Services.AddSingleton<IWorkerTransport>(sp => new GrpcWorkerTransport(
            sp.GetRequiredService<Membership.WorkerAdmission>().Token, options.Tls, sp.GetRequiredService<Leadership.Leadership>(), options.WorkerStreams));
        builder.Services.AddSingleton<IFarmMetrics, PrometheusFarmMetrics>();
        builder.Services.AddSingleton(sp => new Membership.WorkerAddressPolicy(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CoordinatorOptions>>()));
        builder.Services.AddSingleton(sp => new Orchestrator(
            sp.GetRequiredService<IJobStore>(),
            sp.GetRequiredService<JobEventHub>(),
            sp.GetRequiredService<IWorkerTransport>(),
            sp.GetRequiredService<IJobPlanner>(),
            sp.GetRequiredService<ModelCatalog>(),
            sp.GetRequiredService<IOptions<SchedulingOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Orchestrator>>(),
            sp.GetRequiredService<IFarmMetrics>(),
            sp.GetRequiredService<RuleBasedPlanner>()));
        if (leadership.Enabled)
        {
            // Standby coordinators: the orchestrator starts when this one wins the store's lease.
            var advertised = leadership.AdvertisedAddress.Length > 0 ? leadership.AdvertisedAddress : options.GrpcUrl;
            builder.Services.AddHostedService(sp => new LeaderElection(
                (ILeaderLease)sp.GetRequiredService<IJobStore>(),
                sp.GetRequiredService<Leadership.Leadership>(),
                sp.GetRequiredService<Orchestrator>(),
                leadership,
                advertised,
                sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<LeaderElection>>()));
        }
        else
        {
            builder.Services.AddHostedService<OrchestratorHost>();
        }
        builder.Services.AddMembership(builder.Configuration);
        builder.Services.AddAccessControl();
        return builder;
    }

    /// <summary>Coordinator:Upscaler must be empty or name an upscaler of the catalog; throws a message that says which exist.</summary>
    public static void ValidateUpscaler(string? upscaler, ModelCatalog catalog)
    {
        var name = (upscaler ?? "").Trim();
        if (name.Length > 0 && !(catalog.Models.TryGetValue(name, out var spec) && spec.Kind == FinishPlanner.UpscalerKind))
        {
            var known = catalog.Models.Values.Where(m => m.Kind == FinishPlanner.UpscalerKind).Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
            throw new InvalidOperationException(
                $"Coordinator:Upscaler must be empty (FFmpeg scaling) or name an upscaler of the model catalog; got '{name}'. Upscalers: {(known.Count == 0 ? "none" : string.Join(", ", known))}.");
        }
    }

    public static WebApplication MapCoordinator(this WebApplication app)
    {
        app.UseHttpMetrics();
        // gRPC-Web (application/grpc-web and -text) for every service, on both endpoints.
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.MapGrpcService<JobGrpcService>();
        app.MapGrpcService<KeyGrpcService>();
        app.MapGrpcService<MembershipGrpcService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapMetrics();
        app.MapRestOpenApi();
        app.MapWebPage();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            LogListening(app.Logger, string.Join(" ", addresses));
        });
        return app;
    }

    /// <summary>
    /// Listens on the host and port of <paramref name="url"/> ("http://127.0.0.1:7070"; port 0 picks one); with
    /// <paramref name="tls"/> serving, over TLS (the URL must then be https://), asking for client certificates when it requires them.
    /// </summary>
    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, VideoGen.Security.TlsSettings? tls = null)
    {
        var uri = new Uri(url);
        var address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" or "0.0.0.0" => IPAddress.Any,
            _ => IPAddress.Parse(uri.Host),
        };
        var secure = tls is { Serves: true };
        if (secure != (uri.Scheme == Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"'{url}': use https:// exactly when Coordinator:Tls:CertificateFile is set.");
        }

        kestrel.Listen(address, uri.Port, o =>
        {
            o.Protocols = protocols;
            if (secure)
            {
                tls!.Validate("Coordinator:Tls");
                var certificate = tls.LoadCertificate()!;
                var roots = tls.LoadCa();
                o.UseHttps(https =>
                {
                    https.ServerCertificate = certificate;
                    if (tls.RequireClientCertificate)
                    {
                        https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                        https.ClientCertificateValidation = (client, _, _) => VideoGen.Security.TlsSettings.ChainsTo(client, roots);
                    }
                });
            }
        });
    }

    [LoggerMessage(1, LogLevel.Information, "coordinator listening {Addresses}")]
    private static partial void LogListening(ILogger logger, string addresses);
}

/// <summary>Starts the orchestrator with the host and stops it (and the app, if its loop dies) with it.</summary>
internal sealed class OrchestratorHost(Orchestrator orchestrator) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        orchestrator.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await orchestrator.DisposeAsync();
}
