using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Leadership;

/// <summary>
/// Standby coordinators: competes for the store's lease every <see cref="LeadershipOptions.PollSeconds"/>. On winning it
/// fences the store at the new epoch, stamps that epoch on every task sent (<see cref="Leadership"/>) and starts the
/// orchestrator, which resumes every job as after a restart. A leader that loses the lease — another holder, a new
/// epoch, or no renewal for a whole lease — stops the process at once (crash-only: its supervisor starts it again as a
/// standby); until then the store refuses its commits and workers its tasks, so two leaders never both act.
/// </summary>
internal sealed partial class LeaderElection(
    ILeaderLease lease,
    Leadership leadership,
    Orchestrator orchestrator,
    LeadershipOptions options,
    string advertisedAddress,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<LeaderElection> log) : BackgroundService
{
    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():n}"[..^24];
    private long _epoch;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ttl = TimeSpan.FromSeconds(options.LeaseSeconds);
        var poll = TimeSpan.FromSeconds(options.PollSeconds);
        var lastRenewed = DateTimeOffset.MinValue;
        var lastLeader = "";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var view = await Task.Run(() => lease.Acquire(_holder, advertisedAddress, ttl), stoppingToken);
                if (_epoch == 0 && view.Held)
                {
                    _epoch = view.Epoch;
                    lastRenewed = time.GetUtcNow();
                    lease.Fence(_epoch);
                    LogLeading(log, _epoch, advertisedAddress);
                    orchestrator.Start(); // the loop runs before the API stops answering "standby"
                    leadership.Lead(_epoch, advertisedAddress);
                }
                else if (_epoch != 0 && (!view.Held || view.Epoch != _epoch))
                {
                    Deposed($"the lease is now epoch {view.Epoch} held by {view.Holder} at {view.Address}");
                    return;
                }
                else if (view.Held)
                {
                    lastRenewed = time.GetUtcNow();
                }
                else
                {
                    leadership.StandBy(view.Epoch, view.Address);
                    if (view.Address != lastLeader)
                    {
                        lastLeader = view.Address;
                        LogStandingBy(log, view.Epoch, view.Address.Length > 0 ? view.Address : "none yet");
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLeaseUnreachable(log, ex.Message);
            }

            if (_epoch != 0 && !orchestrator.IsRunning && !stoppingToken.IsCancellationRequested)
            {
                // Its loop died (a failed commit is crash-only): renewing the lease now would hold the farm with no one
                // scheduling. Stop, and let a standby take over.
                Deposed("the orchestrator's loop stopped");
                return;
            }

            if (_epoch != 0 && time.GetUtcNow() - lastRenewed >= ttl)
            {
                Deposed($"the lease could not be renewed for {ttl.TotalSeconds:0.#} s");
                return;
            }

            try
            {
                await Task.Delay(poll, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await orchestrator.DisposeAsync();
        if (_epoch != 0 && leadership.IsLeader)
        {
            try
            {
                lease.Release(_holder); // a clean stop hands over at once
            }
            catch (Exception ex)
            {
                LogLeaseUnreachable(log, ex.Message);
            }
        }
    }

    private void Deposed(string why)
    {
        leadership.Depose(_epoch);
        LogDeposed(log, _epoch, why);
        // Crash-only: stop acting now (the process exits with code 3). The store refuses this epoch's commits from here
        // on and workers its tasks.
        lifetime.StopApplication();
    }

    [LoggerMessage(1, LogLevel.Warning, "leading the farm at epoch {Epoch}, advertised as {Address}; resuming every active job")]
    private static partial void LogLeading(ILogger logger, long epoch, string address);

    [LoggerMessage(2, LogLevel.Information, "standing by at epoch {Epoch}: the leader is {Address}")]
    private static partial void LogStandingBy(ILogger logger, long epoch, string address);

    [LoggerMessage(3, LogLevel.Critical, "no longer the leader (epoch {Epoch}): {Why}; stopping")]
    private static partial void LogDeposed(ILogger logger, long epoch, string why);

    [LoggerMessage(4, LogLevel.Warning, "the leader lease could not be read or renewed: {Error}")]
    private static partial void LogLeaseUnreachable(ILogger logger, string error);
}
