using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>The retry and failure rules alone: facts, time and a seeded random source in, a decision out.</summary>
public sealed class FailurePolicyTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-29T00:00:00Z");
    private static readonly SchedulingOptions Options = new() { MaxAttempts = 3, BlocklistAfterFailures = 2, QuarantineAfterFailures = 4, QuarantineSeconds = 60 };
    private static readonly RetryPolicy Retry = new(Options.MaxAttempts, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    private static readonly FailurePolicy Policy = new(Retry, Options);

    private static FailureFacts Facts(int taskFailures = 0, int consecutive = 0, int inJob = 0, bool known = true, DateTimeOffset? quarantinedUntil = null) =>
        new(taskFailures, known, consecutive, quarantinedUntil ?? DateTimeOffset.MinValue, inJob);

    [Fact]
    public void CountedFailure_Retries_AfterTheJitteredBackoff()
    {
        var decision = Policy.Decide(new AttemptFailure(Retryable: true, CountsAsFailure: true), Facts(taskFailures: 1), Now, new Random(7));

        Assert.Equal(2, decision.TaskFailures);
        Assert.False(decision.FailTask);
        Assert.Equal(Retry.Delay(2, new Random(7).NextDouble()), decision.RetryAfter);
        Assert.InRange(decision.RetryAfter!.Value.TotalSeconds, 1.6, 2.4); // 2 s ± 20 %
    }

    [Fact]
    public void LostWorkerOrStuckTask_RetriesAtOnce()
    {
        var decision = Policy.Decide(new AttemptFailure(true, true, Backoff: false), Facts(), Now, new Random(1));

        Assert.Null(decision.RetryAfter);
        Assert.Equal(1, decision.TaskFailures);
    }

    [Fact]
    public void LastAttempt_FailsTheTask()
    {
        var decision = Policy.Decide(new AttemptFailure(true, true), Facts(taskFailures: 2), Now, new Random(1));

        Assert.True(decision.FailTask);
        Assert.Equal(3, decision.TaskFailures);
    }

    [Fact]
    public void PermanentError_FailsTheTask_AtTheFirstAttempt()
    {
        Assert.True(Policy.Decide(new AttemptFailure(Retryable: false, CountsAsFailure: true), Facts(), Now, new Random(1)).FailTask);
    }

    [Fact]
    public void Refusal_CountsNothing_AndWaitsForTheSlot()
    {
        var decision = Policy.Decide(new AttemptFailure(Retryable: true, CountsAsFailure: false), Facts(taskFailures: 2, consecutive: 3, inJob: 1), Now, new Random(1));

        Assert.Equal(new FailureDecision(2, false, FailurePolicy.RefusedRetryDelay, 3, null, 1, false), decision);
    }

    [Fact]
    public void WorkerFailingInARowAcrossJobs_IsQuarantined_AndItsCountStartsAgain()
    {
        var decision = Policy.Decide(new AttemptFailure(true, true), Facts(consecutive: 3), Now, new Random(1));

        Assert.Equal(Now.AddSeconds(60), decision.QuarantineUntil);
        Assert.Equal(0, decision.WorkerConsecutiveFailures);
    }

    [Fact]
    public void QuarantinedWorker_IsNotQuarantinedAgain_UntilItsQuarantineEnds()
    {
        var decision = Policy.Decide(new AttemptFailure(true, true), Facts(consecutive: 3, quarantinedUntil: Now.AddSeconds(5)), Now, new Random(1));

        Assert.Null(decision.QuarantineUntil);
        Assert.Equal(4, decision.WorkerConsecutiveFailures);
    }

    [Fact]
    public void UnknownWorker_HasNoRecordToQuarantine_ButCountsInTheJob()
    {
        var decision = Policy.Decide(new AttemptFailure(true, true), Facts(consecutive: 3, inJob: 1, known: false), Now, new Random(1));

        Assert.Null(decision.QuarantineUntil);
        Assert.Equal(3, decision.WorkerConsecutiveFailures);
        Assert.True(decision.Blocklist);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(5, true)]
    public void WorkerFailingInOneJob_IsBlocklistedForIt_AtTheThreshold(int failuresBefore, bool blocklisted)
    {
        var decision = Policy.Decide(new AttemptFailure(true, true), Facts(inJob: failuresBefore), Now, new Random(1));

        Assert.Equal(failuresBefore + 1, decision.WorkerFailuresInJob);
        Assert.Equal(blocklisted, decision.Blocklist);
    }

    [Fact]
    public void Leases_LapseStrictlyAfterTheirLength()
    {
        var options = new SchedulingOptions { WorkerLeaseSeconds = 10, TaskLeaseSeconds = 30 };

        Assert.False(LeasePolicy.HeartbeatLapsed(Now, Now.AddSeconds(10), options));
        Assert.True(LeasePolicy.HeartbeatLapsed(Now, Now.AddSeconds(10.001), options));
        Assert.Equal(Now.AddSeconds(30), LeasePolicy.AttemptLease(Now, options));
        Assert.False(LeasePolicy.AttemptStuck(LeasePolicy.AttemptLease(Now, options), Now.AddSeconds(30)));
        Assert.True(LeasePolicy.AttemptStuck(LeasePolicy.AttemptLease(Now, options), Now.AddSeconds(30.001)));
    }
}
