using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// Issue #15 in the loop: the provider request journal (committed with the attempt, handed to the next attempt), cost
/// as billed (a cancelled prediction's run time), a 429 that pauses the model without consuming an attempt, and the
/// circuit. Fake time, a fake worker transport, a real SQLite store.
/// </summary>
public sealed class PayOnceOrchestratorTests
{
    private const string Wan = "wan-2.1-i2v-480p";
    private const string FiveSeconds = "a 5 second showcase for a lamp";

    [Fact]
    public async Task ProviderRequest_IsCommittedWithTheAttempt_AndTheNextAttemptOnAnotherWorkerResumesIt()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync(FiveSeconds);
        var chunk = await NextChunkAsync(h);

        chunk.Events.Writer.TryWrite(new TaskEvent { ProviderRequest = new ProviderRequest { Provider = "replicate", RequestId = "pred-1" } });
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").ProviderRequestId == "pred-1");
        Assert.Equal("pred-1", h.Store.Get(job.JobId)!.Tasks.Single(t => t.TaskId == "chunk-0").ProviderRequestId); // committed, not just in memory
        Assert.Equal("", chunk.Request.ResumeProviderRequestId);

        await h.JoinAsync("w2", slots: 1);
        chunk.Break(); // w1 died mid-prediction
        var next = await NextChunkAsync(h);

        Assert.Equal(("w2", 2, "pred-1"), (next.Address, next.Request.Attempt, next.Request.ResumeProviderRequestId));
    }

    [Fact]
    public async Task FailedPrediction_IsNotResumed_TheNextAttemptCreatesOne()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync(FiveSeconds);
        var chunk = await NextChunkAsync(h);
        chunk.Events.Writer.TryWrite(new TaskEvent { ProviderRequest = new ProviderRequest { Provider = "replicate", RequestId = "pred-1" } });

        chunk.Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = "CUDA out of memory", Usage = new ProviderUsage { RequestId = "pred-1", Outcome = ProviderOutcome.Failed, PredictSeconds = 3 } } });
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").State == TaskState.Ready);
        h.Time.Advance(TimeSpan.FromSeconds(2)); // the retry's backoff
        var next = await NextChunkAsync(h);

        Assert.Equal((2, ""), (next.Request.Attempt, next.Request.ResumeProviderRequestId));
        Assert.Equal(1, h.Orchestrator.GetJob(job.JobId)!.Tasks.Single(t => t.TaskId == "chunk-0").Failures);
    }

    [Fact]
    public async Task RequeuedAttempt_KeepsItsPrediction_AJobThatEnds_CancelsIt_AndPaysWhatItRan()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 2, Wan, "procedural-i2v");
        var job = await h.SubmitAsync(FiveSeconds, r => r.Model = Wan);
        var chunk = await NextChunkAsync(h);
        chunk.Events.Writer.TryWrite(new TaskEvent { ProviderRequest = new ProviderRequest { Provider = "replicate", RequestId = "pred-1" } });
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").ProviderRequestId == "pred-1");
        h.Transport.CancelUsage = new ProviderUsage { RequestId = "pred-1", Outcome = ProviderOutcome.Canceled, PredictSeconds = 12 };

        await h.Orchestrator.CancelAsync(job.JobId).WaitAsync(TimeSpan.FromSeconds(10));
        var billed = await h.WaitForStateAsync(job.JobId, j => j.CostUsd > 0);

        Assert.False(await h.Transport.CancelKeeps.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(JobState.Cancelled, billed.State);
        Assert.Equal(12 * 0.001525, billed.CostUsd, 9); // wan-2.1's canceled predictions: run time × the hardware's price
        Assert.Equal(12 * 0.001525, billed.Tasks.Single(t => t.TaskId == "chunk-0").WastedCostUsd, 9);
        Assert.Equal(billed.CostUsd, h.Store.Get(job.JobId)!.CostUsd, 9);
    }

    [Fact]
    public async Task Throttled_PausesTheModel_WithoutConsumingAnAttempt_TheJobShowsIt_AndItRunsAfterTheWindow()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { MaxAttempts = 1, WorkerLeaseSeconds = 3600 });
        await h.JoinAsync("w1", slots: 2);
        var job = await h.SubmitAsync(FiveSeconds);
        var chunk = await NextChunkAsync(h);
        using var events = h.Hub.Subscribe(job.JobId);

        chunk.Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = "429", Fault = ProviderFault.Throttled, RetryAfterSeconds = 30 } });
        var paused = await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").State == TaskState.Ready);

        Assert.Equal(0, paused.Tasks.Single(t => t.TaskId == "chunk-0").Failures); // MaxAttempts 1, and the job goes on
        Assert.Equal(JobState.Rendering, paused.State);
        Assert.Empty(await h.DispatchedAsync(job.JobId));
        var pause = await FirstAsync(events.Reader, e => e.ProviderPaused is not null);
        Assert.Equal(("procedural-i2v", ProviderPauseReason.Throttled, "chunk-0"), (pause.ProviderPaused.Model, pause.ProviderPaused.Reason, pause.ProviderPaused.TaskId));
        Assert.Equal(h.Time.GetUtcNow().AddSeconds(30), pause.ProviderPaused.Until.ToDateTimeOffset());

        h.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(await h.DispatchedAsync(job.JobId));
        h.Time.Advance(TimeSpan.FromSeconds(1));
        var again = await NextChunkAsync(h);
        Assert.Equal(2, again.Request.Attempt);
        again.Complete();
        await h.RunToEndAsync(job.JobId);
        Assert.Equal(JobState.Succeeded, h.Orchestrator.GetJob(job.JobId)!.State);
    }

    [Fact]
    public async Task Outage_OpensTheCircuit_TasksWait_AProbeAfterThePause_ClosesIt()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { CircuitOpenAfterFailures = 2, CircuitPauseSeconds = 10, MaxAttempts = 2, WorkerLeaseSeconds = 3600 });
        await h.JoinAsync("w1", slots: 2);
        var job = await h.SubmitAsync(FiveSeconds);
        using var events = h.Hub.Subscribe(job.JobId);

        for (var i = 0; i < 2; i++)
        {
            var chunk = await NextChunkAsync(h);
            chunk.Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = "Replicate create answered 503", Fault = ProviderFault.Unavailable } });
            chunk.Events.Writer.TryComplete();
            if (i == 0)
            {
                await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").State == TaskState.Ready);
                h.Time.Advance(TimeSpan.FromMilliseconds(100)); // the short requeue delay of a failure that is not the task's
            }
        }

        var open = await FirstAsync(events.Reader, e => e.ProviderPaused is not null);
        Assert.Equal(ProviderPauseReason.CircuitOpen, open.ProviderPaused.Reason);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(await h.DispatchedAsync(job.JobId));
        Assert.Equal(0, h.Orchestrator.GetJob(job.JobId)!.Tasks.Single(t => t.TaskId == "chunk-0").Failures);

        h.Time.Advance(TimeSpan.FromSeconds(5));
        var probe = await NextChunkAsync(h);
        probe.Complete();
        await h.RunToEndAsync(job.JobId);
        Assert.Equal(JobState.Succeeded, h.Orchestrator.GetJob(job.JobId)!.State);
    }

    [Fact]
    public async Task Outage_WithFallbackAllowed_MovesTheChunkToTheCatalogsFallback_AndTheJobSaysSo()
    {
        var embedded = VideoGen.Catalog.ModelCatalog.Embedded();
        var catalog = new VideoGen.Catalog.ModelCatalog(
            embedded.Models.Values.Select(m => m.Name == Wan ? m with { Fallback = "wan-backup" } : m)
                .Append(embedded.Models[Wan] with { Name = "wan-backup", ProviderModel = "acme/wan-2.1-i2v-480p" }),
            embedded.DefaultModel);
        var planner = new VideoGen.Coordinator.Planning.RuleBasedPlanner(VideoGen.Coordinator.Planning.TemplateCatalog.LoadDefault(), catalog);
        await using var h = new OrchestratorHarness(new SchedulingOptions { CircuitOpenAfterFailures = 1, WorkerLeaseSeconds = 3600 }, planner: planner, catalog: catalog);
        await h.JoinAsync("w1", 2, Wan, "wan-backup", "procedural-i2v");
        var job = await h.SubmitAsync(FiveSeconds, r => (r.Model, r.AllowModelFallback) = (Wan, true));
        using var events = h.Hub.Subscribe(job.JobId);
        var chunk = await NextChunkAsync(h);
        Assert.Equal(Wan, chunk.Request.Chunk.Model);

        chunk.Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = "Replicate create answered 503", Fault = ProviderFault.Unavailable } });
        var moved = await FirstAsync(events.Reader, e => e.ModelFallback is not null);
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").State == TaskState.Ready);
        h.Time.Advance(TimeSpan.FromMilliseconds(100));
        var next = await NextChunkAsync(h);

        Assert.Equal(("chunk-0", Wan, "wan-backup"), (moved.ModelFallback.TaskId, moved.ModelFallback.FromModel, moved.ModelFallback.ToModel));
        Assert.Equal("wan-backup", next.Request.Chunk.Model);
        next.Complete();
        await h.RunToEndAsync(job.JobId);
        var done = h.Orchestrator.GetJob(job.JobId)!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal("wan-backup", done.Tasks.Single(t => t.TaskId == "chunk-0").Model);
    }

    [Fact]
    public async Task Outage_WithoutFallbackAllowed_TheChunkStaysOnItsModel_AndWaits()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { CircuitOpenAfterFailures = 1, WorkerLeaseSeconds = 3600 });
        await h.JoinAsync("w1", 2, Wan, "wan-2.1-t2v-480p", "procedural-i2v");
        var job = await h.SubmitAsync(FiveSeconds, r => r.Model = Wan);
        var chunk = await NextChunkAsync(h);

        chunk.Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = true, Reason = "503", Fault = ProviderFault.Unavailable } });
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "chunk-0").State == TaskState.Ready);
        h.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(await h.DispatchedAsync(job.JobId));
        Assert.Equal("", h.Orchestrator.GetJob(job.JobId)!.Tasks.Single(t => t.TaskId == "chunk-0").Model);
    }

    /// <summary>Completes every other task as it starts and returns the next chunk attempt.</summary>
    private static async Task<FakeAttempt> NextChunkAsync(OrchestratorHarness h)
    {
        while (true)
        {
            var attempt = await h.Transport.NextAsync(TimeSpan.FromSeconds(10));
            if (attempt.Request.TaskCase == RunTaskRequest.TaskOneofCase.Chunk)
            {
                return attempt;
            }

            attempt.Complete();
        }
    }

    private static async Task<JobEvent> FirstAsync(System.Threading.Channels.ChannelReader<JobEvent> events, Func<JobEvent, bool> match)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var e = await events.ReadAsync(cts.Token);
            if (match(e))
            {
                return e;
            }
        }
    }
}
