using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Models;
using VideoGen.Worker.Models.ComfyUi;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Membership;

/// <summary>Capped exponential backoff with jitter for joining a farm that may not be up yet.</summary>
public static class JoinBackoff
{
    /// <summary>First retry delay.</summary>
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest delay between tries.</summary>
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(5);

    /// <summary>The delay before try <paramref name="attempt"/> + 1; <paramref name="jitter"/> in [0, 1) adds up to 20 %.</summary>
    public static TimeSpan Delay(int attempt, double jitter)
    {
        var exponential = Initial.TotalSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromSeconds(Math.Min(Cap.TotalSeconds, exponential) * (1 + 0.2 * jitter));
    }
}

/// <summary>
/// Keeps the worker a member of the farm: joins once the server listens (retrying with backoff until the
/// coordinator is up), heartbeats with the drain flag and load, joins again when the farm forgot the worker or
/// cannot be reached, and on shutdown stops taking tasks, lets running ones finish, and leaves.
/// </summary>
public sealed class MembershipLoop : BackgroundService
{
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(3);

    private readonly IMembershipAgent _agent;
    private readonly WorkerEndpoints _endpoints;
    private readonly WorkerCapacity _capacity;
    private readonly ModelRegistry _models;
    private readonly GpuInventory _gpus;
    private readonly WorkerOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<MembershipLoop> _logger;
    private readonly GpuServerState? _gpuServer;
    private volatile bool _joined;

    public MembershipLoop(
        IMembershipAgent agent,
        WorkerEndpoints endpoints,
        WorkerCapacity capacity,
        ModelRegistry models,
        GpuInventory gpus,
        IOptions<WorkerOptions> options,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<MembershipLoop> logger,
        GpuServerState? gpuServer = null)
    {
        _gpuServer = gpuServer;
        _agent = agent;
        _endpoints = endpoints;
        _capacity = capacity;
        _models = models;
        _gpus = gpus;
        _options = options.Value;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopping = _lifetime.ApplicationStopping.Register(() => _capacity.BeginDrain());

        // The advertised address is only known once Kestrel bound its ports.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        // A GPU worker joins with its server's GPUs known (bounded: an unreachable server must not keep it out).
        var gpus = await _gpus.GetAsync(stoppingToken);
        if (_gpuServer is not null)
        {
            await _gpuServer.WaitForFirstProbeAsync(TimeSpan.FromSeconds(10), stoppingToken);
            if (gpus.Count == 0)
            {
                gpus = _gpuServer.Gpus.Select(g => g.Name).ToList();
            }
        }

        var registration = new WorkerRegistration(
            _options.Id,
            _endpoints.AdvertisedAddress,
            _models.Served,
            _capacity.Slots,
            gpus,
            typeof(MembershipLoop).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0");

        while (!stoppingToken.IsCancellationRequested)
        {
            var terms = await JoinWithBackoffAsync(registration, stoppingToken);
            var interval = _options.HeartbeatSeconds is > 0 ? TimeSpan.FromSeconds(_options.HeartbeatSeconds.Value) : terms.HeartbeatInterval;
            await HeartbeatUntilForgottenAsync(interval, stoppingToken);
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _capacity.BeginDrain();
        await base.StopAsync(cancellationToken);
        if (!_joined)
        {
            return;
        }

        try
        {
            // Let running tasks finish (bounded by the host's shutdown timeout), then leave, bounded on its own.
            await _capacity.WaitUntilIdleAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LeaveTimeout);
            await _agent.LeaveAsync(_options.Id, timeout.Token);
            MembershipLog.Left(_logger, _options.Id);
        }
        catch (Exception ex)
        {
            MembershipLog.LeaveFailed(_logger, ex.Message);
        }
    }

    private async Task<MembershipTerms> JoinWithBackoffAsync(WorkerRegistration registration, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var terms = await _agent.JoinAsync(registration, stoppingToken);
                _joined = true;
                MembershipLog.Joined(_logger, registration.WorkerId, registration.Address, terms.HeartbeatInterval.TotalSeconds);
                return terms;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                var delay = JoinBackoff.Delay(attempt, Random.Shared.NextDouble());
                MembershipLog.JoinFailed(_logger, attempt, delay.TotalSeconds, ex.Message);
                await Task.Delay(delay, _time, stoppingToken);
            }
        }
    }

    private async Task HeartbeatUntilForgottenAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        while (true)
        {
            await Task.Delay(interval, _time, stoppingToken);
            HeartbeatOutcome outcome;
            try
            {
                outcome = await _agent.HeartbeatAsync(_options.Id, _capacity.Draining, _capacity.RunningTasks.Count, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                MembershipLog.HeartbeatFailed(_logger, ex.Message);
                continue;
            }

            if (outcome != HeartbeatOutcome.Known)
            {
                MembershipLog.Rejoining(_logger, outcome);
                return;
            }
        }
    }
}
