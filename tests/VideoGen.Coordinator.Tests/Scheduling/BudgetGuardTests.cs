using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>The orchestrator's budget guard: no chunk attempt starts that would take a job past max_cost_usd.</summary>
public sealed class BudgetGuardTests
{
    private const string Wan = "wan-2.1-i2v-480p";

    [Fact]
    public void Budget_Exceeds_OnlyBeyondRoundingTolerance()
    {
        Assert.False(Budget.Exceeds(0.1 + 0.2, 0.3)); // 0.30000000000000004: a float sum at the budget
        Assert.False(Budget.Exceeds(0.90, 0.90));
        Assert.True(Budget.Exceeds(0.90 + 2 * Budget.ToleranceUsd, 0.90));
        Assert.True(Budget.Exceeds(0.01, 0));
    }

    [Fact]
    public async Task RetryThatWouldRePayAChunk_PastTheBudget_EndsTheJobFailed_WithoutStartingIt()
    {
        await using var h = new OrchestratorHarness();
        await JoinAsync(h);
        var job = await h.SubmitAsync("a 10 second showcase for a watch", r => (r.Model, r.Continuity, r.MaxCostUsd) = (Wan, Continuity.Strict, 0.90));

        using var events = h.Hub.Subscribe(job.JobId);
        (await h.Transport.NextAsync()).Complete(); // storyboard-0
        var chunk0 = await h.Transport.NextAsync();
        Assert.Equal("chunk-0", chunk0.TaskId);

        // The provider billed the failed attempt: $0.45 spent, and both chunks still to pay ($0.90) > $0.90.
        chunk0.Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = "canceled after billing", CostUsd = 0.45 } });
        chunk0.Events.Writer.TryComplete();
        await NextAsync(events.Reader, e => e.TaskUpdated?.Task is { TaskId: "chunk-0", State: TaskState.Ready, Error: "canceled after billing" });
        h.Time.Advance(TimeSpan.FromSeconds(h.Options.RetryBaseSeconds * 1.5)); // past the first backoff (±20 %), within the worker lease
        await NextAsync(events.Reader, e => e.StateChanged is { State: JobState.Failed });
        await h.SyncAsync();

        var ended = h.Orchestrator.GetJob(job.JobId)!;
        Assert.Equal(JobState.Failed, ended.State);
        Assert.StartsWith("budget: $0.45 spent + $0.90 planned for 2 chunk(s)", ended.Error);
        Assert.Equal(0.45, ended.CostUsd, 6);
        // No attempt started after the budget ran out: a dispatch counts an attempt in the loop,
        // before its stream starts on the thread pool.
        Assert.Equal(1, ended.Tasks.Single(t => t.TaskId == "chunk-0").Attempt);
        Assert.Equal(0, ended.Tasks.Single(t => t.TaskId == "chunk-1").Attempt);
    }

    [Fact]
    public async Task JobWithinItsBudget_RunsToTheEnd_AtExactlyTheEstimate()
    {
        await using var h = new OrchestratorHarness();
        await JoinAsync(h);
        var job = await h.SubmitAsync("a 10 second showcase for a watch", r => (r.Model, r.MaxCostUsd, r.Transition) = (Wan, 0.90, "cut"));

        await h.RunToEndAsync(job.JobId);

        var done = h.Orchestrator.GetJob(job.JobId)!;
        Assert.True(done.State == JobState.Succeeded, done.Error);
        Assert.Equal(0.90, done.CostUsd, 6);
    }

    private static async Task NextAsync(System.Threading.Channels.ChannelReader<JobEvent> events, Func<JobEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!match(await events.ReadAsync(timeout.Token)))
        {
        }
    }

    private static Task JoinAsync(OrchestratorHarness h) =>
        h.Orchestrator.JoinAsync(new JoinRequest { WorkerId = "w1", Address = "w1", Slots = 4, Models = { Wan } }).WaitAsync(TimeSpan.FromSeconds(10));
}
