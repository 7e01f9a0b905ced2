using VideoGen.Contracts.V1;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Services;

/// <summary>An execution's events in the contract's terms (worker.proto's <c>TaskEvent</c>): the only place the worker builds them.</summary>
public static class TaskEventMapper
{
    /// <summary>The <c>TaskEvent</c> a stream writes for <paramref name="executionEvent"/>.</summary>
    public static TaskEvent ToProto(ExecutionEvent executionEvent) => executionEvent switch
    {
        ExecutionAccepted a => new TaskEvent { Accepted = new TaskAccepted { WorkerId = a.WorkerId, Resumed = a.Resumed, StartedByAttempt = a.StartedByAttempt } },
        ExecutionProgress p => new TaskEvent { Progress = new TaskProgress { Fraction = p.Fraction, Step = p.Step } },
        ExecutionArtifact a => new TaskEvent { Artifact = new TaskArtifact { Kind = a.Kind, Name = ArtifactKinds.Name(a.Kind), Uri = a.Uri, SizeBytes = a.SizeBytes } },
        ExecutionProviderRequest r => new TaskEvent { ProviderRequest = new ProviderRequest { Provider = r.Provider, RequestId = r.RequestId } },
        ExecutionCompleted c => new TaskEvent { Completed = WithUsage(ToCompleted(c.Result), c.Usage) },
        ExecutionFailed f => new TaskEvent
        {
            Failed = new TaskFailed
            {
                Retryable = f.Retryable,
                Reason = f.Reason,
                Cause = f.Cause,
                Usage = ToUsage(f.Usage),
                RetryAfterSeconds = f.RetryAfterSeconds,
                Fault = f.Fault switch
                {
                    ProviderFaultKind.Throttled => ProviderFault.Throttled,
                    ProviderFaultKind.Unavailable => ProviderFault.Unavailable,
                    _ => ProviderFault.Unspecified,
                },
            },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(executionEvent), executionEvent.GetType().Name, "unknown execution event"),
    };

    /// <summary>A provider's report of a request in the contract's terms; null for none.</summary>
    public static ProviderUsage? ToUsage(ProviderUsageReport? usage) => usage is null ? null : new ProviderUsage
    {
        RequestId = usage.RequestId,
        PredictSeconds = usage.PredictSeconds,
        Outcome = usage.Status switch
        {
            "succeeded" => ProviderOutcome.Succeeded,
            "failed" => ProviderOutcome.Failed,
            "canceled" => ProviderOutcome.Canceled,
            "aborted" => ProviderOutcome.Aborted,
            _ => ProviderOutcome.Unspecified,
        },
    };

    private static TaskCompleted WithUsage(TaskCompleted completed, ProviderUsageReport? usage)
    {
        completed.Usage = ToUsage(usage);
        return completed;
    }

    /// <summary>A successful attempt.</summary>
    public static TaskCompleted ToCompleted(TaskResult result) => new()
    {
        SeamScore = result.Seam is { } seam ? new SeamScore { Ssim = seam.Ssim, ColourDistance = seam.ColourDistance, MotionJump = seam.MotionJump } : null,
        OutputUri = result.OutputUri,
        LastFrameUri = result.LastFrameUri,
        MediaSeconds = result.MediaSeconds,
        CostUsd = result.CostUsd,
        ModelSeconds = result.ModelSeconds,
        ElapsedSeconds = result.ElapsedSeconds,
        OutputUrl = result.OutputUrl,
        Deliverables =
        {
            (result.Deliverables ?? []).Select(d => new Deliverable
            {
                AspectRatio = d.AspectRatio, Uri = d.Uri, Url = d.Url, WidthPixels = d.Width, HeightPixels = d.Height,
            }),
        },
    };
}
