using Npgsql;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Leadership;
using VideoGen.Coordinator.Persistence;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>
/// The leader lease of standby coordinators on a real PostgreSQL: one holder at a time, a new epoch at every change of
/// holder, takeover after expiry, and fencing — a deposed leader's commits are refused by the store.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LeaderLeaseTests(PostgresServerFixture server)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static Job NewJob(string id) => new() { JobId = id, State = JobState.Queued, Request = new JobRequest { Prompt = "p", Tenant = "default" }, CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) };

    [Fact]
    public async Task OneHolderAtATime_RenewalKeepsTheEpoch_ReleaseHandsOverWithTheNext()
    {
        var connectionString = await server.CreateSchemaAsync();
        using var a = new PostgresJobStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true);
        using var b = new PostgresJobStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true);

        var first = a.Acquire("a", "http://a:7070", Long);
        Assert.True(first.Held);
        Assert.Equal(1, first.Epoch);

        var other = b.Acquire("b", "http://b:7070", Long);
        Assert.False(other.Held);
        Assert.Equal(("a", "http://a:7070", 1L), (other.Holder, other.Address, other.Epoch));

        Assert.Equal((true, 1L), (a.Acquire("a", "http://a:7070", Long) is var renewed ? (renewed.Held, renewed.Epoch) : default));

        a.Release("a");
        var next = b.Acquire("b", "http://b:7070", Long);
        Assert.Equal((true, 2L), (next.Held, next.Epoch));
        Assert.False(a.Acquire("a", "http://a:7070", Long).Held);
    }

    [Fact]
    public async Task AnExpiredLease_IsTakenOverWithANewEpoch_AndTheDeposedLeadersCommitsAreRefused()
    {
        var connectionString = await server.CreateSchemaAsync();
        using var a = new PostgresJobStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true);
        using var b = new PostgresJobStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true);
        var leader = a.Acquire("a", "http://a:7070", TimeSpan.FromMilliseconds(300));
        a.Fence(leader.Epoch);
        a.Commit([NewJob("job-1")], []);

        // b waits for the lease to lapse on the database's clock (a signal: the lease itself, polled, bounded).
        LeaseView taken;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(taken = b.Acquire("b", "http://b:7070", Long)).Held)
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired lease was never taken over");
            await Task.Delay(50);
        }

        Assert.Equal(leader.Epoch + 1, taken.Epoch);
        b.Fence(taken.Epoch);

        var deposed = Assert.Throws<StaleEpochException>(() => a.Commit([NewJob("job-2")], []));
        Assert.Contains($"epoch {leader.Epoch}", deposed.Message);
        Assert.Null(a.Get("job-2"));
        Assert.False(a.Acquire("a", "http://a:7070", Long).Held); // and it cannot renew its way back

        b.Commit([NewJob("job-2")], []);
        Assert.NotNull(b.Get("job-2"));
    }

    [Fact]
    public async Task AnUnfencedStore_CommitsWithoutALease()
    {
        var connectionString = await server.CreateSchemaAsync();
        using var store = new PostgresJobStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true);
        store.Commit([NewJob("job-1")], []);
        Assert.NotNull(store.Get("job-1"));
    }
}
