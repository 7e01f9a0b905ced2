using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

public sealed class OrchestratorTests
{
    private const string Announcement = "Announce our new store opening, 12 seconds";

    [Fact]
    public async Task Submit_TwelveSecondAnnouncement_RunsEveryTaskOnceAndSucceeds()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 4);

        var job = await h.SubmitAsync(Announcement);
        var attempts = await h.RunToEndAsync(job.JobId);

        var done = h.Orchestrator.GetJob(job.JobId)!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(3, done.Plan.Chunks.Count);
        Assert.Equal(["chunk-0", "chunk-1", "chunk-2", "finish", "stitch", "storyboard-0", "storyboard-1", "storyboard-2"], attempts.Select(a => a.TaskId).Order().ToArray());
        Assert.All(done.Tasks, t => Assert.Equal(1, t.Attempt));
        Assert.Equal($"file:///fake/{job.JobId}/finish", done.OutputUri);
        Assert.Equal(12, done.OutputDurationSeconds, 3);
    }

    [Fact]
    public async Task Soundtrack_VoiceoverAndMusicStartFirst_TheMixAfterBoth_AndTheFinishMuxesIt()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 2);

        var job = await h.SubmitAsync(Announcement, r => r.Audio = true);
        // They depend only on the plan and come first in the task order: the first two slots go to them, not to storyboards.
        var first = await h.WaitForStateAsync(job.JobId, j => j.Tasks.Count(t => t.State == TaskState.Running) == 2);
        Assert.Equal(["music", "voiceover"], first.Tasks.Where(t => t.State == TaskState.Running).Select(t => t.TaskId).Order().ToArray());
        // Complete the two; the slot the first frees goes to storyboard-0 (the mix is not ready yet); hold what else starts.
        var held = new List<FakeAttempt>();
        for (var audio = 0; audio < 2;)
        {
            var attempt = await h.Transport.NextAsync();
            if (attempt.TaskId is "voiceover" or "music")
            {
                attempt.Complete();
                audio++;
            }
            else
            {
                held.Add(attempt);
            }
        }

        // Once both are done the mix is ready, and it takes the slot the second frees, ahead of the other storyboards.
        var running = await h.WaitForStateAsync(job.JobId, j =>
            j.Tasks.Count(t => t.TaskId is "voiceover" or "music" && t.State == TaskState.Succeeded) == 2 && j.Tasks.Count(t => t.State == TaskState.Running) == 2);
        Assert.Equal(["soundtrack", "storyboard-0"], running.Tasks.Where(t => t.State == TaskState.Running).Select(t => t.TaskId).Order().ToArray());
        held.ForEach(a => a.Complete());
        var attempts = await h.RunToEndAsync(job.JobId);

        var done = h.Orchestrator.GetJob(job.JobId)!;
        Assert.Equal(JobState.Succeeded, done.State);
        var mix = attempts.Single(a => a.TaskId == "soundtrack").Request.Soundtrack;
        Assert.Equal($"file:///fake/{job.JobId}/voiceover", mix.VoiceoverUri);
        Assert.Equal($"file:///fake/{job.JobId}/music", mix.MusicUri);
        var finish = attempts.Single(a => a.TaskId == "finish").Request.Finish;
        Assert.Equal($"file:///fake/{job.JobId}/soundtrack", finish.SoundtrackUri);
        Assert.Equal([TaskKind.Voiceover, TaskKind.Music, TaskKind.Soundtrack], done.Tasks.Where(t => t.Kind is TaskKind.Voiceover or TaskKind.Music or TaskKind.Soundtrack).Select(t => t.Kind).ToArray());
    }

    [Fact]
    public async Task HostedAudioModels_RunOnlyOnWorkersServingThem_AndTheirCostsCountInTheJob()
    {
        var planner = new RuleBasedPlanner(TemplateCatalog.LoadDefault(), VideoGen.Catalog.ModelCatalog.Embedded(), soundtrackModels: new("tts-1", "musicgen"));
        await using var h = new OrchestratorHarness(planner: planner);
        await h.JoinAsync("plain", slots: 8);
        await h.JoinAsync("audio", 1, "procedural-i2v", "tts-1", "musicgen");

        var job = await h.SubmitAsync(Announcement, r => r.Audio = true);
        var attempts = await h.RunToEndAsync(job.JobId);

        var done = h.Orchestrator.GetJob(job.JobId)!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal("audio", attempts.Single(a => a.TaskId == "voiceover").Address);
        Assert.Equal("audio", attempts.Single(a => a.TaskId == "music").Address);
        Assert.Equal("tts-1", attempts.Single(a => a.TaskId == "voiceover").Request.Voiceover.Model);
        Assert.Equal("musicgen", attempts.Single(a => a.TaskId == "music").Request.Music.Model);
        var soundtrack = done.Plan.Spec.Soundtrack;
        Assert.True(soundtrack.VoiceCostUsd > 0 && soundtrack.MusicCostUsd > 0, $"{soundtrack}");
        Assert.Equal(soundtrack.VoiceCostUsd, done.Tasks.Single(t => t.TaskId == "voiceover").CostUsd, 6);
        Assert.Equal(soundtrack.MusicCostUsd, done.Tasks.Single(t => t.TaskId == "music").CostUsd, 6);
        Assert.Equal(soundtrack.VoiceCostUsd + soundtrack.MusicCostUsd, done.CostUsd, 6);
    }

    [Fact]
    public async Task VoiceoverProviderFailing_RetriesLikeAChunk_ThenFailsTheJobWithTheReason()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { MaxAttempts = 2, RetryBaseSeconds = 10, RetryMaxSeconds = 60, WorkerLeaseSeconds = 1000 });
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch", r => r.Audio = true);

        var first = await h.Transport.NextAsync();
        Assert.Equal("voiceover", first.TaskId);
        first.Fail(retryable: true, reason: "OpenAI speech (tts-1): HTTP 429 after 3 attempts: rate limited");
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "voiceover").Failures == 1);

        // The slot goes to the next ready task meanwhile; the voiceover comes back after its backoff (10 s ± 20 %).
        var next = await h.Transport.NextAsync();
        Assert.NotEqual("voiceover", next.TaskId);
        next.Complete();
        h.Time.Advance(TimeSpan.FromSeconds(12.5));
        FakeAttempt retry;
        while ((retry = await h.Transport.NextAsync()).TaskId != "voiceover")
        {
            retry.Complete();
        }

        Assert.Equal(2, retry.Request.Attempt);
        retry.Fail(retryable: true, reason: "OpenAI speech (tts-1): HTTP 500 after 3 attempts: server error");
        var failed = await h.WaitForStateAsync(job.JobId, j => Orchestrator.IsTerminal(j.State));

        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("voiceover failed after 2 failed attempt(s)", failed.Error);
        Assert.Contains("HTTP 500", failed.Error);
        Assert.NotEqual(TaskState.Succeeded, failed.Tasks.Single(t => t.TaskId == "finish").State);
        Assert.Equal("", failed.OutputUri);
    }

    [Fact]
    public async Task Submit_ChunkInputs_AreTheOutputsOfItsDependencies()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 4);

        var job = await h.SubmitAsync("a 10 second showcase for a watch", r => r.Continuity = Continuity.Strict);
        var attempts = await h.RunToEndAsync(job.JobId);

        var chunk0 = attempts.Single(a => a.TaskId == "chunk-0").Request.Chunk;
        var chunk1 = attempts.Single(a => a.TaskId == "chunk-1").Request.Chunk;
        var stitch = attempts.Single(a => a.TaskId == "stitch").Request.Stitch;
        Assert.Equal($"file:///fake/{job.JobId}/storyboard-0", chunk0.StartImageUri);
        Assert.Equal($"file:///fake/{job.JobId}/chunk-0.last.png", chunk1.StartImageUri);
        Assert.Equal($"jobs/{job.JobId}/chunks/1.mp4", chunk1.OutputKey);
        Assert.Equal([$"file:///fake/{job.JobId}/chunk-0", $"file:///fake/{job.JobId}/chunk-1"], stitch.ChunkUris.ToArray());
        Assert.Equal(10, stitch.DurationSeconds);
    }

    [Fact]
    public async Task Submit_SameRequestId_ReturnsTheSameJobAndStartsNothingNew()
    {
        await using var h = new OrchestratorHarness();
        var request = new JobRequest { Prompt = Announcement, Audio = false };

        var (first, created1) = await h.Orchestrator.SubmitAsync("req-1", request, OrchestratorHarness.Rules.Plan(request));
        var (second, created2) = await h.Orchestrator.SubmitAsync("req-1", request, OrchestratorHarness.Rules.Plan(request));

        Assert.True(created1);
        Assert.False(created2);
        Assert.Equal(first.JobId, second.JobId);
        Assert.Single(h.Store.List(JobState.Unspecified, "", null, 10).Jobs);
    }

    [Fact]
    public async Task ReferenceChunks_RunInParallel_ContinuousChunkWaitsForItsPredecessor()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 8);
        var job = await h.SubmitAsync("a 30 second product showcase for a titanium smartwatch", r => r.Transition = "cut");

        // Four beats → four storyboards at once.
        var storyboards = new List<FakeAttempt>();
        for (var i = 0; i < 4; i++)
        {
            storyboards.Add(await h.Transport.NextAsync());
        }

        Assert.All(storyboards, a => Assert.StartsWith("storyboard-", a.TaskId));
        storyboards.ForEach(a => a.Complete());

        // Reference chunks 0, 2, 3, 5 start together; 1 and 4 wait for 0 and 3.
        var chunks = new List<FakeAttempt>();
        for (var i = 0; i < 4; i++)
        {
            chunks.Add(await h.Transport.NextAsync());
        }

        Assert.Equal(["chunk-0", "chunk-2", "chunk-3", "chunk-5"], chunks.Select(a => a.TaskId).Order().ToArray());
        Assert.Equal(["chunk-0", "chunk-2", "chunk-3", "chunk-5"], (await h.DispatchedAsync(job.JobId)).Select(d => d.TaskId));
        chunks.Single(c => c.TaskId == "chunk-0").Complete();
        Assert.Equal("chunk-1", (await h.Transport.NextAsync()).TaskId);
    }

    [Fact]
    public async Task ContinuousChunk_PrefersTheWorkerThatMadeItsPredecessor()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 2);
        await h.JoinAsync("w2", slots: 2);
        var job = await h.SubmitAsync("a 10 second showcase for a watch", r => r.Continuity = Continuity.Strict);

        var attempts = await h.RunToEndAsync(job.JobId);

        Assert.Equal(attempts.Single(a => a.TaskId == "chunk-0").Address, attempts.Single(a => a.TaskId == "chunk-1").Address);
    }

    [Fact]
    public async Task StaleReport_FromAnAttemptThatLostTheTask_IsRefused()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 1);
        await h.JoinAsync("w2", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");
        (await h.Transport.NextAsync()).Complete(); // storyboard

        var first = await h.Transport.NextAsync();
        Assert.Equal("chunk-0", first.TaskId);
        first.Break();
        var second = await h.Transport.NextAsync();
        Assert.Equal(2, second.Request.Attempt);

        // A late "completed" from attempt 1 arrives while attempt 2 runs.
        h.Orchestrator.Post(new AttemptEvent(job.JobId, "chunk-0", 1, new TaskEvent { Completed = FakeAttempt.CompletedFor(first.Request, "-stale") }));
        await h.SyncAsync();
        var during = h.Orchestrator.GetJob(job.JobId)!.Tasks.Single(t => t.TaskId == "chunk-0");
        Assert.Equal(TaskState.Running, during.State);
        Assert.Equal(2, during.Attempt);

        second.Complete("-fresh");
        await h.RunToEndAsync(job.JobId);
        var chunk = h.Orchestrator.GetJob(job.JobId)!.Tasks.Single(t => t.TaskId == "chunk-0");
        Assert.Equal($"file:///fake/{job.JobId}/chunk-0-fresh", chunk.OutputUri);
    }

    [Fact]
    public async Task WorkerLost_ItsRunningTaskIsCancelledAndRunsOnAnotherWorker()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { WorkerLeaseSeconds = 6, HeartbeatIntervalSeconds = 2 });
        await h.JoinAsync("w1", slots: 1);
        await h.JoinAsync("w2", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");
        var storyboard = await h.Transport.NextAsync();
        var silent = storyboard.Address;
        var alive = silent == "w1" ? "w2" : "w1";

        h.Time.Advance(TimeSpan.FromSeconds(4));
        await h.Orchestrator.HeartbeatAsync(new HeartbeatRequest { WorkerId = alive });
        h.Time.Advance(TimeSpan.FromSeconds(3)); // the silent worker is 7 s quiet; the check timer fires

        var retry = await h.Transport.NextAsync();
        Assert.Equal("storyboard-0", retry.TaskId);
        Assert.Equal(alive, retry.Address);
        Assert.Equal(2, retry.Request.Attempt);
        Assert.True(storyboard.Token.IsCancellationRequested);
        var workers = h.Orchestrator.Workers;
        Assert.Equal("lost", workers.Single(w => w.WorkerId == silent).State);
    }

    [Fact]
    public async Task TransientFailure_RetriesAfterBackoff_ThenSucceeds()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { MaxAttempts = 3, RetryBaseSeconds = 10, RetryMaxSeconds = 60, WorkerLeaseSeconds = 1000 });
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");

        (await h.Transport.NextAsync()).Fail(retryable: true);
        var waiting = (await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "storyboard-0").Failures == 1))
            .Tasks.Single(t => t.TaskId == "storyboard-0");
        Assert.Equal(TaskState.Ready, waiting.State);
        Assert.Equal(1, waiting.Failures);
        Assert.Empty(await h.DispatchedAsync(job.JobId)); // backing off: 10 s ± 20 %

        h.Time.Advance(TimeSpan.FromSeconds(12.5));
        var retry = await h.Transport.NextAsync();
        Assert.Equal(2, retry.Request.Attempt);
        retry.Complete();
        await h.RunToEndAsync(job.JobId);
        Assert.Equal(JobState.Succeeded, h.Orchestrator.GetJob(job.JobId)!.State);
    }

    [Fact]
    public async Task PermanentFailure_FailsTheJobAtOnceWithTheReason()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");

        (await h.Transport.NextAsync()).Fail(retryable: false, reason: "content refused");
        var failed = await h.WaitForStateAsync(job.JobId, j => Orchestrator.IsTerminal(j.State));

        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("content refused", failed.Error);
        Assert.Equal(1, failed.Tasks.Single(t => t.TaskId == "storyboard-0").Attempt);
    }

    [Fact]
    public async Task FailingWorker_IsBlocklistedForTheJob_AndTheJobFinishesElsewhere()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { MaxAttempts = 10, RetryBaseSeconds = 0.001, RetryMaxSeconds = 0.001, BlocklistAfterFailures = 3 });
        await h.JoinAsync("bad", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");
        for (var i = 0; i < 3; i++)
        {
            var attempt = await h.Transport.NextAsync();
            Assert.Equal("bad", attempt.Address);
            attempt.Fail(retryable: true);
            var failures = i + 1;
            await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "storyboard-0").Failures == failures);
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await h.JoinAsync("good", slots: 1);
        var attempts = await h.RunToEndAsync(job.JobId);

        Assert.All(attempts, a => Assert.Equal("good", a.Address));
        Assert.Equal(JobState.Succeeded, h.Orchestrator.GetJob(job.JobId)!.State);
    }

    [Fact]
    public async Task Cancel_StopsRunningAttemptsAndEndsTheJobCancelled()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 4);
        var job = await h.SubmitAsync(Announcement);
        var running = new[] { await h.Transport.NextAsync(), await h.Transport.NextAsync(), await h.Transport.NextAsync() };

        var cancelled = await h.Orchestrator.CancelAsync(job.JobId);

        Assert.Equal(JobState.Cancelled, cancelled!.State);
        Assert.All(running, a => Assert.True(a.Token.IsCancellationRequested));
        // Ending the streams is not enough: the workers are told to stop each task.
        var stopped = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var i = 0; i < running.Length; i++)
        {
            stopped.Add((await h.Transport.Cancelled.Reader.ReadAsync(cts.Token)).TaskId);
        }

        Assert.Equal(running.Select(a => a.TaskId).Order(), stopped.Order());
        Assert.All(cancelled.Tasks, t => Assert.Equal(TaskState.Cancelled, t.State));
    }

    [Fact]
    public async Task Restart_ResumesTheJob_RequeuesWhatWasRunning_AndKeepsTheEventSequence()
    {
        var directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
        string jobId;
        await using (var before = new OrchestratorHarness(directory: directory))
        {
            await before.JoinAsync("w1", slots: 1);
            jobId = (await before.SubmitAsync("a 5 second showcase for a watch")).JobId;
            (await before.Transport.NextAsync()).Complete(); // storyboard done
            var chunk = await before.Transport.NextAsync(); // chunk-0 running when the coordinator stops
            Assert.Equal("chunk-0", chunk.TaskId);
            await before.SyncAsync();
        }

        await using var after = new OrchestratorHarness(directory: directory);
        await after.JoinAsync("w1", slots: 1);
        var attempts = await after.RunToEndAsync(jobId);

        Assert.Equal(["chunk-0", "stitch", "finish"], attempts.Select(a => a.TaskId).ToArray());
        Assert.Equal(2, attempts[0].Request.Attempt);
        var events = after.Store.Events(jobId, 0);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Equal(JobState.Succeeded, after.Orchestrator.GetJob(jobId)!.State);
    }

    private FakeAttempt? Stuck { get; set; }

    [Fact]
    public async Task TaskWithoutProgress_PastItsLease_IsRequeuedAsStuck()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { TaskLeaseSeconds = 30, WorkerLeaseSeconds = 1000, RetryBaseSeconds = 1 });
        await h.JoinAsync("w1", slots: 1);
        await h.SubmitAsync("a 5 second showcase for a watch");
        var job = h.Orchestrator.GetJob((await h.Transport.NextAsync().ContinueWith(t => { Stuck = t.Result; return t.Result.Request.JobId; })))!;
        var stuck = Stuck!;
        stuck.Progress(0.5); // the last sign of life; the stream's events are applied in order
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == "storyboard-0").Progress >= 0.5);

        h.Time.Advance(TimeSpan.FromSeconds(31));
        var retry = await h.Transport.NextAsync();

        Assert.True(stuck.Token.IsCancellationRequested);
        Assert.Equal(2, retry.Request.Attempt);
    }

    [Fact]
    public async Task WorkerFailingAcrossJobs_IsQuarantined_AndGetsNoTasksUntilItEnds()
    {
        var options = new SchedulingOptions { MaxAttempts = 1, QuarantineAfterFailures = 2, QuarantineSeconds = 60, WorkerLeaseSeconds = 10_000 };
        await using var h = new OrchestratorHarness(options);
        await h.JoinAsync("flaky", slots: 1);
        for (var i = 0; i < 2; i++)
        {
            var job = await h.SubmitAsync("a 5 second showcase for a watch");
            (await h.Transport.NextAsync()).Fail(retryable: true);
            await h.WaitForStateAsync(job.JobId, j => j.State == JobState.Failed);
        }

        var quarantined = h.Orchestrator.Workers.Single();
        Assert.Equal((WorkerState.Quarantined, "quarantined"), (quarantined.WorkerState, quarantined.State));
        Assert.Equal(h.Time.GetUtcNow().AddSeconds(60), quarantined.QuarantinedUntil.ToDateTimeOffset());

        var next = await h.SubmitAsync("a 5 second showcase for a watch");
        Assert.Empty(await h.DispatchedAsync(next.JobId));
        h.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("storyboard-0", (await h.Transport.NextAsync()).TaskId);
        Assert.Equal(next.JobId, h.Orchestrator.GetJob(next.JobId)!.JobId);
    }

    [Fact]
    public async Task DrainedWorker_FinishesItsRunningTask_AndGetsNoNewOnes()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { WorkerLeaseSeconds = 10_000 });
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync(Announcement);
        var running = await h.Transport.NextAsync();

        Assert.Equal("w1", await h.Orchestrator.DrainAsync("w1"));
        running.Complete();
        var after = await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == running.TaskId).State == TaskState.Succeeded);

        Assert.Equal("draining", h.Orchestrator.Workers.Single().State);
        Assert.Empty(await h.DispatchedAsync(job.JobId));
        Assert.Null(await h.Orchestrator.DrainAsync("nobody"));
        Assert.NotEqual(JobState.Succeeded, after.State);
    }

    [Fact]
    public async Task UnreachableWorker_IsMarkedLostAtOnce_SoRetriesGoElsewhere()
    {
        await using var h = new OrchestratorHarness(new SchedulingOptions { WorkerLeaseSeconds = 10_000, MaxAttempts = 2 });
        await h.JoinAsync("dead", slots: 1);
        await h.JoinAsync("alive", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");
        var first = await h.Transport.NextAsync();
        var dead = first.Address;

        first.Break(); // Unavailable: the worker's process is gone
        var retry = await h.Transport.NextAsync();

        Assert.NotEqual(dead, retry.Address);
        Assert.Equal("lost", h.Orchestrator.Workers.Single(w => w.WorkerId == dead).State);
        Assert.False(await h.Orchestrator.HeartbeatAsync(new HeartbeatRequest { WorkerId = dead })); // told to join again
        retry.Complete();
        await h.RunToEndAsync(job.JobId);
        Assert.Equal(JobState.Succeeded, h.Orchestrator.GetJob(job.JobId)!.State);
    }

    [Fact]
    public async Task Restart_TaskThatWasRunning_GoesBackToItsWorker_EvenWhenAnotherIsFree()
    {
        var (directory, jobId) = await StopWithChunkRunningOnW1Async();

        await using var after = new OrchestratorHarness(new SchedulingOptions { WorkerLeaseSeconds = 6 }, directory: directory);
        await after.JoinAsync("w2", slots: 1); // free, but not the worker still running chunk-0
        Assert.DoesNotContain(await after.DispatchedAsync(jobId), d => d.WorkerId == "w2");

        await after.JoinAsync("w1", slots: 1); // w1 notices the restart and joins again
        var resumed = await after.Transport.NextAsync();

        Assert.Equal(("chunk-0", "w1", 2), (resumed.TaskId, resumed.Address, resumed.Request.Attempt));
    }

    [Fact]
    public async Task Restart_WorkerThatDoesNotComeBack_ItsTaskRunsElsewhereAfterTheGrace()
    {
        var (directory, jobId) = await StopWithChunkRunningOnW1Async();

        await using var after = new OrchestratorHarness(new SchedulingOptions { WorkerLeaseSeconds = 6, ResumeGraceSeconds = 6 }, directory: directory);
        await after.JoinAsync("w2", slots: 1);
        after.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(await after.Orchestrator.HeartbeatAsync(new HeartbeatRequest { WorkerId = "w2" }));
        Assert.DoesNotContain(await after.DispatchedAsync(jobId), d => d.WorkerId == "w2"); // still waiting for w1
        after.Time.Advance(TimeSpan.FromSeconds(2.5));
        var moved = await after.Transport.NextAsync();

        Assert.Equal(("chunk-0", "w2"), (moved.TaskId, moved.Address));
    }

    /// <summary>A coordinator that stops while chunk-0 of a 5 s job runs on w1; returns its data folder and the job.</summary>
    private static async Task<(string Directory, string JobId)> StopWithChunkRunningOnW1Async()
    {
        var directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
        await using var before = new OrchestratorHarness(new SchedulingOptions { WorkerLeaseSeconds = 6 }, directory: directory);
        await before.JoinAsync("w1", slots: 1);
        var job = await before.SubmitAsync("a 5 second showcase for a watch");
        (await before.Transport.NextAsync()).Complete();
        Assert.Equal("chunk-0", (await before.Transport.NextAsync()).TaskId);
        await before.SyncAsync();
        return (directory, job.JobId);
    }
}
