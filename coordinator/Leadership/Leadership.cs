namespace VideoGen.Coordinator.Leadership;

/// <summary>
/// Whether this coordinator leads, at which epoch, and where the leader is: written by <see cref="LeaderElection"/>,
/// read by the standby interceptor, the worker transport (which stamps the epoch on every task) and the background
/// services that only the leader runs. Without standbys it leads from the start at epoch 0 (not fenced).
/// </summary>
public sealed class Leadership
{
    private volatile State _state;

    public Leadership(bool standbys)
    {
        _state = new State(!standbys, 0, "");
        if (!standbys)
        {
            _leading.TrySetResult();
        }
    }

    public bool IsLeader => _state.Leads;

    /// <summary>This coordinator's epoch while it leads (0 without standbys); the epoch it last saw otherwise.</summary>
    public long Epoch => _state.Epoch;

    /// <summary>The leader's advertised address, when known ("" without standbys or before a leader is seen).</summary>
    public string LeaderAddress => _state.LeaderAddress;

    /// <summary>Completes when this coordinator starts to lead.</summary>
    public Task Leading => _leading.Task;

    private readonly TaskCompletionSource _leading = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void Lead(long epoch, string address)
    {
        _state = new State(true, epoch, address);
        _leading.TrySetResult();
    }

    internal void StandBy(long epoch, string leaderAddress) => _state = new State(false, epoch, leaderAddress);

    /// <summary>True once this coordinator led and lost the lease (the process then exits with code 3).</summary>
    public bool Deposed { get; private set; }

    internal void Depose(long epoch)
    {
        Deposed = true;
        StandBy(epoch, "");
    }

    private sealed record State(bool Leads, long Epoch, string LeaderAddress);
}
