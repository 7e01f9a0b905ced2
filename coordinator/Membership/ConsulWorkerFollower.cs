using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VideoGen.Consul;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Membership;

/// <summary>What the follower just did (for tests to wait on instead of sleeping).</summary>
internal enum FollowerEventKind
{
    /// <summary>A health query answered and the orchestrator was brought in line with it.</summary>
    Synced,

    /// <summary>A worker became healthy (or changed its registration) and joined.</summary>
    Joined,

    /// <summary>A worker turned critical or was deregistered, and left.</summary>
    Left,

    /// <summary>The first failed query of an outage.</summary>
    Unreachable,

    /// <summary>A retry delay has started (its timer exists).</summary>
    BackingOff,

    /// <summary>The first successful query after an outage.</summary>
    Recovered,
}

internal readonly record struct FollowerEvent(FollowerEventKind Kind, string WorkerId = "");

/// <summary>
/// <c>Membership:Mode=consul</c>: follows the healthy instances of <c>Consul:ServiceName</c> through blocking health
/// queries and turns what it sees into the orchestrator's membership API. The contract with the orchestrator:
/// <list type="bullet">
/// <item>an instance whose checks are all passing, first seen or with a changed registration (address, models,
/// slots, GPUs, version) → <see cref="Orchestrator.JoinAsync"/> with models/slots/gpus from its Meta;</item>
/// <item>an instance with a warning check → still a member, heartbeated with <c>draining=true</c>: no new tasks, running
/// ones finish (the orchestrator holds a drain until the worker leaves; a worker warns only while shutting down);</item>
/// <item>an instance that turned critical or vanished → <see cref="Orchestrator.LeaveAsync"/>, which requeues its
/// running tasks;</item>
/// <item>every known instance → <see cref="Orchestrator.HeartbeatAsync"/> after every query and at least every
/// <c>Scheduling:WorkerLeaseSeconds</c>/3 from a timer, so the orchestrator's heartbeat lease never expires for a
/// Consul-managed worker: Consul's health check is the liveness signal, and this timer also keeps the last known set
/// alive while Consul is unreachable. A heartbeat the orchestrator answers "unknown" makes the follower join again.</item>
/// </list>
/// No change to the orchestrator was needed.
/// </summary>
internal sealed class ConsulWorkerFollower : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly Leadership.Leadership? _leadership;
    private readonly IConsulClient _consul;
    private readonly ConsulOptions _options;
    private readonly SchedulingOptions _scheduling;
    private readonly Orchestrator _orchestrator;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WorkerAddressPolicy _addresses;
    private readonly HashSet<string> _reportedInvalid = new(StringComparer.Ordinal);
    private volatile ImmutableDictionary<string, Member> _members = ImmutableDictionary<string, Member>.Empty.WithComparers(StringComparer.Ordinal);

    public ConsulWorkerFollower(
        IConsulClient consul,
        IOptions<ConsulOptions> options,
        IOptions<SchedulingOptions> scheduling,
        Orchestrator orchestrator,
        TimeProvider time,
        ILogger<ConsulWorkerFollower> logger,
        WorkerAddressPolicy? addresses = null,
        Leadership.Leadership? leadership = null)
    {
        _leadership = leadership;
        _addresses = addresses ?? new WorkerAddressPolicy(null, null);
        _consul = consul;
        _options = options.Value;
        _scheduling = scheduling.Value;
        _orchestrator = orchestrator;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised on the follower's thread after each step; tests wait on it.</summary>
    internal event Action<FollowerEvent>? Observed;

    /// <summary>The workers the follower currently holds as members.</summary>
    internal IReadOnlyCollection<string> Members => _members.Keys.ToArray();

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Only the leader follows Consul: a standby's orchestrator is not running, and takes over the members it finds.
        await (_leadership?.Leading ?? Task.CompletedTask).WaitAsync(stoppingToken);
        var keepAlivePeriod = TimeSpan.FromSeconds(_scheduling.WorkerLeaseSeconds / 3);
        var wait = TimeSpan.FromSeconds(_options.WaitSeconds);
        ConsulLog.Following(_logger, _options.ServiceName, _consul.Address, _options.WaitSeconds, keepAlivePeriod.TotalSeconds);
        using var keepAlive = _time.CreateTimer(_ => KeepAlive(), null, keepAlivePeriod, keepAlivePeriod);

        ulong index = 0;
        var failures = 0;
        var downSince = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            HealthQueryResult result;
            try
            {
                // All instances, not ?passing: a warning check means "draining", which the passing filter would hide.
                result = await _consul.HealthServiceAsync(_options.ServiceName, passingOnly: false, index, wait, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is HttpRequestException or ConsulException or OperationCanceledException or JsonException)
            {
                // The first query after an outage does not block: it reads the full current state at once.
                index = 0;
                if (++failures == 1)
                {
                    downSince = _time.GetUtcNow();
                    ConsulLog.Unreachable(_logger, _consul.Address, ex.Message, _members.Count);
                    Raise(new(FollowerEventKind.Unreachable));
                }

                var delay = Task.Delay(_options.RetryDelay(failures, Random.Shared.NextDouble()), _time, stoppingToken);
                Raise(new(FollowerEventKind.BackingOff));
                await delay;
                continue;
            }

            if (failures > 0)
            {
                failures = 0;
                ConsulLog.Recovered(_logger, (_time.GetUtcNow() - downSince).TotalSeconds);
                Raise(new(FollowerEventKind.Recovered));
            }

            index = ConsulIndex.Next(index, result.Index);
            try
            {
                await ReconcileAsync(result.Entries, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is TimeoutException or Grpc.Core.RpcException)
            {
                // The orchestrator did not answer in time: read the full state again shortly.
                ConsulLog.ReconcileFailed(_logger, ex.Message);
                index = 0;
                await Task.Delay(TimeSpan.FromSeconds(_options.RetryBaseSeconds), _time, stoppingToken);
                continue;
            }

            Raise(new(FollowerEventKind.Synced));
        }
    }

    /// <summary>Parses a health entry into the orchestrator's join request; null (with a reason) when it lacks what the scheduler needs.</summary>
    internal static JoinRequest? ToJoinRequest(ServiceHealthEntry entry, out string problem)
    {
        var meta = entry.Service.Meta ?? [];
        var host = entry.EffectiveAddress;
        var models = Split(meta.GetValueOrDefault(WorkerServiceMeta.Models));
        problem = "";
        if (string.IsNullOrEmpty(host) || entry.Service.Port is <= 0 or > 65535)
        {
            problem = $"no usable address ('{host}', port {entry.Service.Port})";
        }
        else if (models.Length == 0)
        {
            problem = $"Meta.{WorkerServiceMeta.Models} names no model";
        }
        else if (!int.TryParse(meta.GetValueOrDefault(WorkerServiceMeta.Slots), NumberStyles.None, CultureInfo.InvariantCulture, out var slots) || slots <= 0)
        {
            problem = $"Meta.{WorkerServiceMeta.Slots} must be a positive integer, got '{meta.GetValueOrDefault(WorkerServiceMeta.Slots)}'";
        }
        else
        {
            var scheme = meta.GetValueOrDefault(WorkerServiceMeta.Scheme) is { Length: > 0 } s ? s : "http";
            var formattedHost = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
            return new JoinRequest
            {
                WorkerId = entry.Service.Id,
                Address = $"{scheme}://{formattedHost}:{entry.Service.Port.ToString(CultureInfo.InvariantCulture)}",
                Models = { models },
                Slots = slots,
                Gpus = { Split(meta.GetValueOrDefault(WorkerServiceMeta.Gpus)) },
                Version = meta.GetValueOrDefault(WorkerServiceMeta.Version) ?? "",
            };
        }

        return null;
    }

    private async Task ReconcileAsync(IReadOnlyList<ServiceHealthEntry> entries, CancellationToken cancellationToken)
    {
        var current = _members;
        var desired = ImmutableDictionary.CreateBuilder<string, Member>(StringComparer.Ordinal);
        var gone = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var status = entry.AggregatedStatus;
            if (status == CheckStatus.Critical)
            {
                var failing = entry.Checks.FirstOrDefault(c => c.ParsedStatus == CheckStatus.Critical);
                gone[entry.Service.Id] = $"check {failing?.CheckId} is critical ({failing?.Output})";
                continue;
            }

            var join = ToJoinRequest(entry, out var problem);
            if (join is not null && !_addresses.Allows(join.Address, out var refusal))
            {
                problem = $"address {join.Address} {refusal}";
                join = null;
            }

            if (join is null)
            {
                if (_reportedInvalid.Add(entry.Service.Id + "|" + problem))
                {
                    ConsulLog.InvalidInstance(_logger, entry.Service.Id, _options.ServiceName, problem);
                }

                continue;
            }

            desired[join.WorkerId] = new Member(join, Fingerprint(join), Draining: status == CheckStatus.Warning);
        }

        foreach (var (id, member) in desired)
        {
            var isNew = !current.TryGetValue(id, out var known) || known.Fingerprint != member.Fingerprint;
            if (isNew)
            {
                await JoinAsync(member, cancellationToken);
            }

            if (!await _orchestrator.HeartbeatAsync(member.Heartbeat).WaitAsync(CallTimeout, cancellationToken))
            {
                // The orchestrator forgot the worker (or declared it lost): join it again.
                await JoinAsync(member, cancellationToken);
                await _orchestrator.HeartbeatAsync(member.Heartbeat).WaitAsync(CallTimeout, cancellationToken);
            }
        }

        _members = desired.ToImmutable();
        foreach (var id in current.Keys.Where(id => !desired.ContainsKey(id)))
        {
            ConsulLog.WorkerGone(_logger, id, gone.GetValueOrDefault(id, "was deregistered"));
            await _orchestrator.LeaveAsync(id).WaitAsync(CallTimeout, cancellationToken);
            Raise(new(FollowerEventKind.Left, id));
        }
    }

    private async Task JoinAsync(Member member, CancellationToken cancellationToken)
    {
        ConsulLog.WorkerHealthy(_logger, member.Join.WorkerId, member.Join.Address);
        await _orchestrator.JoinAsync(member.Join).WaitAsync(CallTimeout, cancellationToken);
        Raise(new(FollowerEventKind.Joined, member.Join.WorkerId));
    }

    /// <summary>Timer callback: posts a heartbeat for every known member. Posting is synchronous, so under a fake clock
    /// the heartbeats are queued before any lease check the same clock advance triggers later.</summary>
    private void KeepAlive()
    {
        foreach (var member in _members.Values)
        {
            _orchestrator.HeartbeatAsync(member.Heartbeat).ContinueWith(
                static t => _ = t.Exception, // shutting down: nothing to keep alive
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private void Raise(FollowerEvent e) => Observed?.Invoke(e);

    private static string[] Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Fingerprint(JoinRequest join) =>
        string.Join('|', join.Address, string.Join(',', join.Models), join.Slots, string.Join(',', join.Gpus), join.Version);

    private sealed record Member(JoinRequest Join, string Fingerprint, bool Draining)
    {
        public HeartbeatRequest Heartbeat => new() { WorkerId = Join.WorkerId, Draining = Draining };
    }
}
