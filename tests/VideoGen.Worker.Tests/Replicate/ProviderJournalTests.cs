using Grpc.Core;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.TestDoubles;

namespace VideoGen.Worker.Tests.Replicate;

/// <summary>
/// Issue #15 on the worker: the provider request of a task is reported the moment it exists, a later attempt resumes
/// it (polls it, fetches its output) instead of creating another, unless Replicate reports it failed or cancelled; a
/// cancelled task's prediction is cancelled (and its billed run time reported), or kept for the next attempt.
/// Real worker over gRPC, MusicGen through the Replicate provider against the predictions stand-in.
/// </summary>
public sealed class ProviderJournalTests
{
    [Fact(Timeout = 60_000)]
    public async Task RunTask_ReportsThePredictionIdBeforeTheResult_AndItsUsage()
    {
        var token = Timeouts.After(50);
        await using var replicate = await StandInAsync(token);
        await using var worker = await WorkerTestHost.StartAsync(Settings(replicate), token);

        var events = await RunAsync(worker, Music("job-1"), token);

        var prediction = Assert.Single(replicate.Predictions);
        var reported = events.FindIndex(e => e.ProviderRequest is not null);
        Assert.True(reported > 0, "no provider_request event");
        Assert.Equal(("replicate", prediction.Id), (events[reported].ProviderRequest.Provider, events[reported].ProviderRequest.RequestId));
        Assert.True(reported < events.Count - 1);
        var usage = events[^1].Completed?.Usage;
        Assert.True(usage is not null, $"no usage on {events[^1]}");
        Assert.Equal((prediction.Id, ProviderOutcome.Succeeded), (usage.RequestId, usage.Outcome));
        Assert.Equal(prediction.PredictSeconds, usage.PredictSeconds, 6);
        Assert.True(usage.PredictSeconds > 0);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_WithAJournalledPrediction_ResumesIt_NothingCreated()
    {
        var token = Timeouts.After(50);
        await using var replicate = await StandInAsync(token, processing: TimeSpan.FromSeconds(2));
        await using var worker = await WorkerTestHost.StartAsync(Settings(replicate), token);
        // Another worker's attempt created it and died: it is still processing.
        var first = Music("job-1");
        using (var call = worker.Client.RunTask(first, cancellationToken: token))
        {
            await replicate.WaitUntilAsync(s => s.Predictions.Any(p => p.Status == "processing"), TimeSpan.FromSeconds(20), "a processing prediction");
        }

        await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "music", KeepProviderRequest = true }, cancellationToken: token);
        var id = Assert.Single(replicate.Predictions).Id;

        var resumed = Music("job-1");
        resumed.Attempt = 2;
        resumed.ResumeProviderRequestId = id;
        var events = await RunAsync(worker, resumed, token);

        Assert.True(events[^1].Completed is not null, $"the resumed attempt did not complete: {events[^1]}");
        Assert.Equal(1, replicate.Creations);
        Assert.Equal("succeeded", replicate.Predictions[0].Status);
        Assert.Null(replicate.Predictions[0].CanceledBy); // the kept prediction was never cancelled
        Assert.Contains(replicate.Requests, r => r.Method == "GET" && r.Path == $"/v1/predictions/{id}");
        Assert.Equal(id, events[^1].Completed.Usage.RequestId);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunTask_WhoseJournalledPredictionFailed_CreatesANewOne()
    {
        var token = Timeouts.After(50);
        await using var replicate = await StandInAsync(token);
        var generated = replicate.WriteAudio(8);
        var fail = true;
        replicate.Script = (_, _) => fail ? new PredictionScript(PredictionOutcome.Fail, "CUDA out of memory") : new PredictionScript(OutputFile: generated);
        await using var worker = await WorkerTestHost.StartAsync(Settings(replicate), token);
        var failed = await RunAsync(worker, Music("job-1"), token);
        Assert.True(failed[^1].Failed is { Retryable: true }, $"{failed[^1]}");
        Assert.Equal(ProviderOutcome.Failed, failed[^1].Failed.Usage.Outcome);
        fail = false;

        var retry = Music("job-1");
        retry.Attempt = 2;
        retry.ResumeProviderRequestId = replicate.Predictions[0].Id;
        var events = await RunAsync(worker, retry, token);

        Assert.True(events[^1].Completed is not null, $"{events[^1]}");
        Assert.Equal(2, replicate.Creations);
        Assert.Equal(replicate.Predictions[1].Id, events[^1].Completed.Usage.RequestId);
    }

    [Fact(Timeout = 60_000)]
    public async Task CancelTask_CancelsThePrediction_AndAnswersWhatItRan()
    {
        var token = Timeouts.After(50);
        await using var replicate = await StandInAsync(token);
        replicate.Script = (_, _) => new PredictionScript(PredictionOutcome.Never);
        await using var worker = await WorkerTestHost.StartAsync(Settings(replicate), token);
        using var call = worker.Client.RunTask(Music("job-1"), cancellationToken: token);
        await replicate.WaitUntilAsync(s => s.Predictions.Any(p => p.Status == "processing" && p.PredictSeconds > 0.3), TimeSpan.FromSeconds(20), "a prediction processing for a while");

        var response = await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "music", Reason = "job cancelled" }, cancellationToken: token);

        var prediction = Assert.Single(replicate.Predictions);
        Assert.Equal(("canceled", "client"), (prediction.Status, prediction.CanceledBy));
        Assert.True(response.Usage is not null, "no usage in the cancel's answer");
        Assert.Equal((prediction.Id, ProviderOutcome.Canceled), (response.Usage.RequestId, response.Usage.Outcome));
        Assert.Equal(prediction.PredictSeconds, response.Usage.PredictSeconds, 6);
        Assert.Equal(prediction.PredictSeconds * replicate.Options.RuntimePricePerSecondUsd, prediction.BilledUsd, 9);
        Assert.True(prediction.BilledUsd > 0);
    }

    [Fact(Timeout = 60_000)]
    public async Task CancelTask_KeepingTheProviderRequest_LeavesThePredictionRunning()
    {
        var token = Timeouts.After(50);
        await using var replicate = await StandInAsync(token);
        replicate.Script = (_, _) => new PredictionScript(PredictionOutcome.Never);
        await using var worker = await WorkerTestHost.StartAsync(Settings(replicate), token);
        using var call = worker.Client.RunTask(Music("job-1"), cancellationToken: token);
        await replicate.WaitUntilAsync(s => s.Predictions.Any(p => p.Status == "processing"), TimeSpan.FromSeconds(20), "a processing prediction");

        var response = await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-1", TaskId = "music", Reason = "requeued", KeepProviderRequest = true }, cancellationToken: token);

        Assert.True(response.Found);
        Assert.Null(response.Usage);
        Assert.Equal("processing", Assert.Single(replicate.Predictions).Status);
        Assert.DoesNotContain(replicate.Requests, r => r.Path.EndsWith("/cancel", StringComparison.Ordinal));
    }

    private static async Task<ReplicateStandIn> StandInAsync(CancellationToken token, TimeSpan? processing = null)
    {
        var replicate = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ProcessingFor = processing ?? TimeSpan.FromMilliseconds(300) }, token);
        var generated = replicate.WriteAudio(8);
        replicate.Script = (_, _) => new PredictionScript(OutputFile: generated);
        return replicate;
    }

    private static Dictionary<string, string?> Settings(ReplicateStandIn replicate) => new()
    {
        ["Worker:Models"] = "procedural-i2v,musicgen",
        ["Replicate:BaseUrl"] = replicate.BaseUrl,
        ["Replicate:ApiToken"] = replicate.Options.ApiToken,
        ["Replicate:WaitSeconds"] = "0",
        ["Replicate:PollSeconds"] = "0.05",
        ["Replicate:PollMaxSeconds"] = "0.2",
        ["Replicate:RetryBaseSeconds"] = "0.05",
        ["Replicate:RetryMaxSeconds"] = "1",
    };

    private static RunTaskRequest Music(string jobId) => new()
    {
        JobId = jobId,
        TaskId = "music",
        Attempt = 1,
        Music = new MusicTask
        {
            DurationSeconds = 12,
            BeatStartsSeconds = { 0, 4, 8 },
            Style = "upbeat",
            Subject = "a titanium watch",
            Model = "musicgen",
            OutputKey = ArtifactKeys.Music(jobId),
            PricePerSecondUsd = 0.002,
        },
    };

    private static async Task<List<TaskEvent>> RunAsync(WorkerTestHost worker, RunTaskRequest request, CancellationToken cancellationToken)
    {
        var events = new List<TaskEvent>();
        using var call = worker.Client.RunTask(request, cancellationToken: cancellationToken);
        await foreach (var taskEvent in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            events.Add(taskEvent);
        }

        Assert.NotEmpty(events);
        return events;
    }
}
