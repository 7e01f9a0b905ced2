using System.Globalization;
using Microsoft.Extensions.Options;
using VideoGen.Consul;
using VideoGen.Worker.Hosting;

namespace VideoGen.Worker.Membership;

/// <summary>
/// Joins the farm through the local Consul agent (<c>Worker:Membership=consul</c>): registers the worker as a service
/// (gRPC host and port, tags, and Meta the coordinator reads: models, slots, gpus, version, metrics_port) with a TTL
/// check, keeps the check passing (warning while draining), and deregisters on a clean shutdown. A crashed worker
/// stops passing its check, turns critical after the TTL (the coordinator drops it then) and Consul removes it after
/// <c>Consul:DeregisterCriticalAfterSeconds</c>. <see cref="MembershipLoop"/> owns cadence, backoff and rejoining.
/// </summary>
public sealed class ConsulMembershipAgent : IMembershipAgent
{
    private readonly IConsulClient _consul;
    private readonly ConsulOptions _options;
    private readonly WorkerEndpoints _endpoints;

    public ConsulMembershipAgent(IConsulClient consul, IOptions<ConsulOptions> options, WorkerEndpoints endpoints)
    {
        _consul = consul;
        _options = options.Value;
        _endpoints = endpoints;
    }

    /// <summary>The TTL check's id for a worker (Consul's own default for a service's single check).</summary>
    public static string CheckId(string workerId) => $"service:{workerId}";

    /// <summary>The registration this agent sends for <paramref name="registration"/>; <paramref name="metricsPort"/> is the HTTP (metrics) port.</summary>
    public static ServiceRegistration ToServiceRegistration(WorkerRegistration registration, int metricsPort, ConsulOptions options)
    {
        var address = new Uri(registration.Address);
        return new ServiceRegistration
        {
            Id = registration.WorkerId,
            Name = options.ServiceName,
            Tags = ["videogen", "grpc", .. options.Tags],
            Address = address.Host,
            Port = address.Port,
            Meta = new Dictionary<string, string>
            {
                [WorkerServiceMeta.Models] = string.Join(',', registration.Models),
                [WorkerServiceMeta.Slots] = registration.Slots.ToString(CultureInfo.InvariantCulture),
                [WorkerServiceMeta.Gpus] = string.Join(',', registration.Gpus),
                [WorkerServiceMeta.GpuCount] = registration.Gpus.Count.ToString(CultureInfo.InvariantCulture),
                [WorkerServiceMeta.Version] = registration.Version.Length > 512 ? registration.Version[..512] : registration.Version,
                [WorkerServiceMeta.Scheme] = address.Scheme,
                [WorkerServiceMeta.MetricsPort] = metricsPort.ToString(CultureInfo.InvariantCulture),
            },
            Check = new ServiceCheck
            {
                CheckId = CheckId(registration.WorkerId),
                Name = "videogen worker heartbeat",
                Ttl = GoDuration.Format(TimeSpan.FromSeconds(options.CheckTtlSeconds)),
                Status = "passing", // healthy at once; Consul's default is critical until the first pass
                DeregisterCriticalServiceAfter = GoDuration.Format(TimeSpan.FromSeconds(options.DeregisterCriticalAfterSeconds)),
            },
        };
    }

    /// <inheritdoc />
    public async Task<MembershipTerms> JoinAsync(WorkerRegistration registration, CancellationToken cancellationToken)
    {
        var metricsPort = new Uri(_endpoints.HttpAddress).Port;
        await _consul.RegisterServiceAsync(ToServiceRegistration(registration, metricsPort, _options), cancellationToken);
        var ttl = TimeSpan.FromSeconds(_options.CheckTtlSeconds);
        return new MembershipTerms(ttl / 3, ttl);
    }

    /// <inheritdoc />
    public async Task<HeartbeatOutcome> HeartbeatAsync(string workerId, bool draining, int runningTasks, CancellationToken cancellationToken)
    {
        try
        {
            // Warning (not critical) while draining: the coordinator stops placing tasks but lets running ones finish.
            var known = await _consul.UpdateTtlAsync(
                CheckId(workerId),
                draining ? CheckStatus.Warning : CheckStatus.Passing,
                draining ? $"draining; {runningTasks} running" : $"{runningTasks} running",
                cancellationToken);
            return known ? HeartbeatOutcome.Known : HeartbeatOutcome.Unknown;
        }
        catch (Exception ex) when (ex is HttpRequestException or ConsulException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HeartbeatOutcome.Unreachable;
        }
    }

    /// <inheritdoc />
    public Task LeaveAsync(string workerId, CancellationToken cancellationToken) =>
        _consul.DeregisterServiceAsync(workerId, cancellationToken);
}
