using VideoGen.Contracts.V1;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// What a task execution reports, in the worker's own terms: accepted, progress, an artifact, then exactly one of
/// completed or failed. The gRPC service maps them to the contract's <c>TaskEvent</c> as it writes a stream
/// (<c>Services/TaskEventMapper</c>); nothing in Tasks/ builds a proto message.
/// </summary>
public abstract record ExecutionEvent
{
    /// <summary>True for <see cref="ExecutionCompleted"/> and <see cref="ExecutionFailed"/>: the last event of an execution.</summary>
    public virtual bool IsTerminal => false;
}

/// <summary>A stream was attached: <paramref name="Resumed"/> when the execution already existed (a re-attach).</summary>
public sealed record ExecutionAccepted(string WorkerId, bool Resumed, int StartedByAttempt) : ExecutionEvent;

/// <summary>How far the work is, 0..1, and the step it is in.</summary>
public sealed record ExecutionProgress(double Fraction, string Step) : ExecutionEvent;

/// <summary>An artifact the work stored (kinds are the contract's <see cref="ArtifactKind"/>, derived in one place).</summary>
public sealed record ExecutionArtifact(ArtifactKind Kind, string Uri, long SizeBytes) : ExecutionEvent;

/// <summary>The work's model call exists at its provider as <paramref name="RequestId"/> (journalled by the coordinator).</summary>
public sealed record ExecutionProviderRequest(string Provider, string RequestId) : ExecutionEvent;

/// <summary>The work succeeded.</summary>
public sealed record ExecutionCompleted(TaskResult Result) : ExecutionEvent
{
    public override bool IsTerminal => true;

    /// <summary>The provider request that produced the output, when a hosted model did.</summary>
    public ProviderUsageReport? Usage { get; init; }
}

/// <summary>Why a provider refused or failed a call as a whole (see <see cref="ProviderThrottledException"/>, <see cref="ProviderUnavailableException"/>).</summary>
public enum ProviderFaultKind
{
    None,
    Throttled,
    Unavailable,
}

/// <summary>The work failed; <paramref name="Retryable"/> says whether another attempt may succeed; <paramref name="Cause"/> what kind of failure it was when known.</summary>
public sealed record ExecutionFailed(bool Retryable, string Reason, FailureCause Cause = FailureCause.Unspecified) : ExecutionEvent
{
    public override bool IsTerminal => true;

    /// <summary>The provider request that ended with the failure (failed, canceled, aborted), to price what it billed.</summary>
    public ProviderUsageReport? Usage { get; init; }

    /// <summary>Set when the provider refused or failed the call as a whole (429, an outage).</summary>
    public ProviderFaultKind Fault { get; init; }

    /// <summary>For <see cref="ProviderFaultKind.Throttled"/>: the provider's Retry-After.</summary>
    public double RetryAfterSeconds { get; init; }

    /// <summary>
    /// The one place that decides what is retryable: <see cref="PermanentTaskException"/> is not, anything else is.
    /// The reason is the exception's message only (its first line, at most 500 characters), never a stack trace.
    /// </summary>
    public static ExecutionFailed From(Exception exception) => exception switch
    {
        PermanentTaskException permanent => new ExecutionFailed(false, permanent.Message),
        ProviderThrottledException throttled => new ExecutionFailed(true, FirstLine(throttled.Message)) { Fault = ProviderFaultKind.Throttled, RetryAfterSeconds = throttled.RetryAfter.TotalSeconds },
        ProviderUnavailableException down => new ExecutionFailed(true, FirstLine(down.Message)) { Fault = ProviderFaultKind.Unavailable },
        GpuTaskException gpu => new ExecutionFailed(true, FirstLine(gpu.Message), gpu.Cause),
        _ => new ExecutionFailed(true, $"{exception.GetType().Name}: {FirstLine(exception.Message)}"),
    };

    /// <summary>The execution was cancelled (CancelTask or shutdown): retryable, the coordinator decides.</summary>
    public static ExecutionFailed Cancelled(string reason) => new(true, $"cancelled: {reason}");

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 500 ? line : line[..500];
    }
}
