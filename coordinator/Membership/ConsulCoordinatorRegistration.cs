using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using VideoGen.Consul;
using VideoGen.Coordinator.Hosting;

namespace VideoGen.Coordinator.Membership;

/// <summary>
/// Registers the coordinator with the local Consul agent as <c>Consul:CoordinatorServiceName</c> (its gRPC host and
/// port, <c>metrics_port</c> in Meta) with a TTL check it keeps passing, so workers, clients and Prometheus can find
/// it; registers again when the agent forgot it, backs off while Consul is unreachable, deregisters on shutdown.
/// </summary>
internal sealed class ConsulCoordinatorRegistration : BackgroundService
{
    private static readonly TimeSpan DeregisterTimeout = TimeSpan.FromSeconds(3);

    private readonly IConsulClient _consul;
    private readonly ConsulOptions _options;
    private readonly CoordinatorOptions _coordinator;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private string? _serviceId;

    public ConsulCoordinatorRegistration(
        IConsulClient consul,
        IOptions<ConsulOptions> options,
        IOptions<CoordinatorOptions> coordinator,
        IServer server,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<ConsulCoordinatorRegistration> logger)
    {
        _consul = consul;
        _options = options.Value;
        _coordinator = coordinator.Value;
        _server = server;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    /// <summary>The registration for a coordinator reached at <paramref name="host"/>:<paramref name="grpcPort"/>.</summary>
    internal static ServiceRegistration ToServiceRegistration(string host, int grpcPort, int metricsPort, ConsulOptions options) => new()
    {
        Id = $"{options.CoordinatorServiceName}-{host.Trim('[', ']').Replace(':', '-')}-{grpcPort.ToString(CultureInfo.InvariantCulture)}".ToLowerInvariant(),
        Name = options.CoordinatorServiceName,
        Tags = ["videogen", "grpc", .. options.Tags],
        Address = host,
        Port = grpcPort,
        Meta = new Dictionary<string, string>
        {
            [WorkerServiceMeta.MetricsPort] = metricsPort.ToString(CultureInfo.InvariantCulture),
            [WorkerServiceMeta.Scheme] = "http",
        },
        Check = new ServiceCheck
        {
            CheckId = $"service:{options.CoordinatorServiceName}-{host.Trim('[', ']').Replace(':', '-')}-{grpcPort.ToString(CultureInfo.InvariantCulture)}".ToLowerInvariant(),
            Name = "videogen coordinator heartbeat",
            Ttl = GoDuration.Format(TimeSpan.FromSeconds(options.CheckTtlSeconds)),
            Status = "passing",
            DeregisterCriticalServiceAfter = GoDuration.Format(TimeSpan.FromSeconds(options.DeregisterCriticalAfterSeconds)),
        },
    };

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        var registration = BuildRegistration();
        var interval = TimeSpan.FromSeconds(_options.CheckTtlSeconds / 3);
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _consul.RegisterServiceAsync(registration, stoppingToken);
                _serviceId = registration.Id;
                ConsulLog.Registered(_logger, registration.Id, registration.Address, registration.Port);
                attempt = 0;
                do
                {
                    await Task.Delay(interval, _time, stoppingToken);
                }
                while (await _consul.UpdateTtlAsync(registration.Check!.CheckId!, CheckStatus.Passing, "serving", stoppingToken));
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is HttpRequestException or ConsulException or OperationCanceledException)
            {
                if (++attempt == 1)
                {
                    ConsulLog.RegistrationFailed(_logger, attempt, ex.Message);
                }

                await Task.Delay(_options.RetryDelay(attempt, Random.Shared.NextDouble()), _time, stoppingToken);
            }
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_serviceId is not { } id)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(DeregisterTimeout);
            await _consul.DeregisterServiceAsync(id, timeout.Token);
            ConsulLog.Deregistered(_logger, id);
        }
        catch (Exception ex)
        {
            ConsulLog.DeregisterFailed(_logger, id, ex.Message);
        }
    }

    private ServiceRegistration BuildRegistration()
    {
        // Kestrel lists its addresses in listen order: the gRPC endpoint first, then HTTP (used when a port is 0).
        var bound = _server.Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a)).ToList() ?? [];
        var grpc = new Uri(_coordinator.GrpcUrl);
        var grpcPort = grpc.Port != 0 ? grpc.Port : bound.FirstOrDefault()?.Port ?? 0;
        var http = new Uri(_coordinator.HttpUrl);
        var metricsPort = http.Port != 0 ? http.Port : bound.FirstOrDefault(a => a.Port != grpcPort)?.Port ?? 0;
        var host = !string.IsNullOrWhiteSpace(_options.AdvertiseHost) ? _options.AdvertiseHost
            : grpc.Host is "0.0.0.0" or "*" or "+" or "[::]" ? Dns.GetHostName()
            : grpc.Host;
        return ToServiceRegistration(host, grpcPort, metricsPort, _options);
    }
}
