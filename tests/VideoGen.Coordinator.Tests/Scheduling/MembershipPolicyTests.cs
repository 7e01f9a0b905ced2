using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>Membership rules alone: a join's record, a heartbeat's answer, the tasks that re-attach when a worker is back.</summary>
public sealed class MembershipPolicyTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-29T00:00:00Z");

    private static JoinRequest Join(string id = "w1") => new() { WorkerId = id, Address = "http://w1:7071", Slots = 3, Models = { "procedural-i2v" }, Gpus = { "gpu0" } };

    [Fact]
    public void FirstJoin_TakesTheRequest_WithACleanRecord()
    {
        var worker = MembershipPolicy.Joined(Join(), previous: null, Now);

        Assert.Equal(("w1", "http://w1:7071", 3, Now), (worker.Id, worker.Address, worker.Slots, worker.LastHeartbeat));
        Assert.Equal(["procedural-i2v"], worker.Models);
        Assert.Equal(["gpu0"], worker.Gpus);
        Assert.Equal((0L, 0L, 0, DateTimeOffset.MinValue), (worker.Succeeded, worker.Failed, worker.ConsecutiveFailures, worker.QuarantinedUntil));
    }

    [Fact]
    public void RestartedWorker_KeepsItsRecordOfFailures_AndItsQuarantine_ButNotItsTasksOrState()
    {
        var before = MembershipPolicy.Joined(Join(), null, Now.AddMinutes(-5));
        before.Succeeded = 7;
        before.Failed = 4;
        before.ConsecutiveFailures = 2;
        before.QuarantinedUntil = Now.AddSeconds(30);
        before.Lost = true;
        before.Draining = true;
        before.Running.Add(("job-1", "chunk-0"));

        var after = MembershipPolicy.Joined(Join(), before, Now);

        Assert.Equal((7L, 4L, 2, Now.AddSeconds(30)), (after.Succeeded, after.Failed, after.ConsecutiveFailures, after.QuarantinedUntil));
        Assert.False(after.Lost);
        Assert.False(after.Draining);
        Assert.Empty(after.Running);
        Assert.Equal(Now, after.LastHeartbeat);
    }

    [Fact]
    public void Heartbeat_IsTakenFromAKnownLiveWorkerOnly()
    {
        var live = MembershipPolicy.Joined(Join(), null, Now);
        var lost = MembershipPolicy.Joined(Join("w2"), null, Now);
        lost.Lost = true;

        Assert.True(MembershipPolicy.TakesHeartbeat(live));
        Assert.False(MembershipPolicy.TakesHeartbeat(lost));
        Assert.False(MembershipPolicy.TakesHeartbeat(null));
    }
}
