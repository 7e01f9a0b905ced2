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
        ExecutionCompleted c => new TaskEvent { Completed = ToCompleted(c.Result) },
        ExecutionFailed f => new TaskEvent { Failed = new TaskFailed { Retryable = f.Retryable, Reason = f.Reason, Cause = f.Cause } },
        _ => throw new ArgumentOutOfRangeException(nameof(executionEvent), executionEvent.GetType().Name, "unknown execution event"),
    };

    /// <summary>A successful attempt.</summary>
    public static TaskCompleted ToCompleted(TaskResult result) => new()
    {
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
