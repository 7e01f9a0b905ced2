using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using VideoGen.Catalog;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Leadership;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Coordinator.Tests.Scheduling;

namespace VideoGen.Coordinator.Tests.Leadership;

/// <summary>
/// The election loop against a scripted lease: a standby waits and names the leader, a winner fences the store at its
/// epoch and starts the orchestrator, and a leader that loses the lease (another holder, a new epoch, no renewal)
/// stops the process. Real time with short polls; every wait bounded by a signal (the application stopping, the leading task).
/// </summary>
public sealed class LeaderElectionTests : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
    private readonly SqliteJobStore _store;
    private readonly Orchestrator _orchestrator;
    private readonly Lifetime _lifetime = new();
    private readonly Coordinator.Leadership.Leadership _leadership = new(standbys: true);

    public LeaderElectionTests()
    {
        _store = new SqliteJobStore(Path.Combine(_directory, "videogen.db"));
        _orchestrator = new Orchestrator(_store, new JobEventHub(), new FakeWorkerTransport(), new RulesOnlyPlanner(), ModelCatalog.Embedded(),
            new SchedulingOptions(), TimeProvider.System, NullLogger<Orchestrator>.Instance, rules: OrchestratorHarness.Rules);
    }

    private LeaderElection Election(ScriptedLease lease) => new(lease, _leadership, _orchestrator,
        new LeadershipOptions { Enabled = true, LeaseSeconds = 2, PollSeconds = 0.05 }, "http://me:7070", _lifetime, TimeProvider.System,
        NullLogger<LeaderElection>.Instance);

    [Fact]
    public async Task AStandby_NamesTheLeader_ThenWinsFencesAndStarts_AndStopsWhenANewerEpochTakesTheLease()
    {
        var lease = new ScriptedLease();
        lease.Next = new LeaseView(false, 3, "other", "http://other:7070", DateTimeOffset.MaxValue);
        using var election = Election(lease);
        await election.StartAsync(CancellationToken.None);

        // The second look at the lease means the first one's answer was applied.
        await lease.PolledTwice.WaitAsync(Bound);
        Assert.False(_leadership.IsLeader);
        Assert.Equal(("http://other:7070", 3L), (_leadership.LeaderAddress, _leadership.Epoch));
        Assert.False(_orchestrator.IsRunning);

        lease.Next = new LeaseView(true, 4, "me", "http://me:7070", DateTimeOffset.MaxValue);
        await _leadership.Leading.WaitAsync(Bound);
        Assert.Equal((true, 4L, 4L), (_leadership.IsLeader, _leadership.Epoch, lease.FencedAt));
        Assert.True(_orchestrator.IsRunning);

        lease.Next = new LeaseView(false, 5, "other", "http://other:7070", DateTimeOffset.MaxValue);
        await _lifetime.Stopping.Task.WaitAsync(Bound);
        Assert.False(_leadership.IsLeader);
        Assert.True(_leadership.Deposed); // the process exits 3
        await election.StopAsync(CancellationToken.None);
        Assert.Empty(lease.Released); // deposed: the lease is not its to release
    }

    [Fact]
    public async Task ALeaderThatCannotRenewForAWholeLease_Stops()
    {
        var lease = new ScriptedLease { Next = new LeaseView(true, 1, "me", "http://me:7070", DateTimeOffset.MaxValue) };
        using var election = Election(lease);
        await election.StartAsync(CancellationToken.None);
        await _leadership.Leading.WaitAsync(Bound);

        lease.Failing = true; // the database is unreachable from here on
        await _lifetime.Stopping.Task.WaitAsync(Bound);
        Assert.False(_leadership.IsLeader);
        await election.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ALeaderStoppedCleanly_ReleasesTheLease()
    {
        var lease = new ScriptedLease { Next = new LeaseView(true, 1, "me", "http://me:7070", DateTimeOffset.MaxValue) };
        using var election = Election(lease);
        await election.StartAsync(CancellationToken.None);
        await _leadership.Leading.WaitAsync(Bound);

        await election.StopAsync(CancellationToken.None);

        Assert.Single(lease.Released);
        Assert.False(_orchestrator.IsRunning);
        Assert.False(_leadership.Deposed);
        Assert.False(_lifetime.Stopping.Task.IsCompleted);
    }

    public async ValueTask DisposeAsync()
    {
        await _orchestrator.DisposeAsync();
        _store.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class ScriptedLease : ILeaderLease
    {
        private readonly TaskCompletionSource _polledTwice = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public volatile LeaseView? Next;
        public volatile bool Failing;
        public long FencedAt;
        public List<string> Released { get; } = [];

        public Task PolledTwice => _polledTwice.Task;

        public LeaseView Acquire(string holder, string address, TimeSpan ttl)
        {
            if (Interlocked.Increment(ref _calls) >= 2)
            {
                _polledTwice.TrySetResult();
            }

            return Failing ? throw new InvalidOperationException("database unreachable") : Next!;
        }

        public void Release(string holder)
        {
            lock (Released)
            {
                Released.Add(holder);
            }
        }

        public void Fence(long epoch) => Interlocked.Exchange(ref FencedAt, epoch);
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public TaskCompletionSource Stopping { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => Stopping.TrySetResult();
    }
}
