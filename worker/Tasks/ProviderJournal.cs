namespace VideoGen.Worker.Tasks;

/// <summary>How a provider request ended and what it ran, as the provider reported it (Replicate: status and metrics.predict_time).</summary>
/// <param name="RequestId">The provider's id (a prediction id).</param>
/// <param name="Status">The provider's terminal status: "succeeded", "failed", "canceled" or "aborted".</param>
/// <param name="PredictSeconds">Seconds the model ran: what a provider that bills by time charges for.</param>
public sealed record ProviderUsageReport(string RequestId, string Status, double PredictSeconds);

/// <summary>
/// The provider request of one task execution: the id an earlier attempt journalled (to resume instead of paying
/// again), the id this execution's model call got (reported at once, as a task event the coordinator commits), and
/// how it ended (for billing). One per execution, reached by the provider client through <see cref="Current"/>: an
/// ambient scope set around the executor, so that the model interfaces (video, image, music, upscaler) need no
/// journal parameter. A task makes at most one provider request at a time; the last one reported is the journalled one.
/// </summary>
public sealed class ProviderJournal
{
    private static readonly AsyncLocal<ProviderJournal?> Ambient = new();

    private readonly Action<string, string> _started;
    private volatile bool _keepOnCancel;
    private volatile ProviderUsageReport? _usage;

    internal ProviderJournal(string? resumeRequestId, Action<string, string> started)
    {
        ResumeRequestId = string.IsNullOrEmpty(resumeRequestId) ? null : resumeRequestId;
        _started = started;
    }

    /// <summary>The journal of the execution running on this async flow; null outside one (tests calling a model directly).</summary>
    public static ProviderJournal? Current => Ambient.Value;

    /// <summary>The request an earlier attempt of the task started: resume it unless the provider reports it failed or cancelled.</summary>
    public string? ResumeRequestId { get; }

    /// <summary>True when the execution is being stopped so that another attempt resumes its request: leave the request running.</summary>
    public bool KeepOnCancel => _keepOnCancel;

    /// <summary>How the request ended (set by the provider client); null while none ended.</summary>
    public ProviderUsageReport? Usage => _usage;

    /// <summary>A request exists at <paramref name="provider"/>: report its id now, before any output.</summary>
    public void Started(string provider, string requestId) => _started(provider, requestId);

    /// <summary>The request ended (succeeded, failed, canceled or aborted) having run <see cref="ProviderUsageReport.PredictSeconds"/>.</summary>
    public void Ended(ProviderUsageReport usage) => _usage = usage;

    internal void KeepRequestOnCancel() => _keepOnCancel = true;

    /// <summary>Makes <paramref name="journal"/> the ambient one for the rest of the calling async flow.</summary>
    internal static void Enter(ProviderJournal journal) => Ambient.Value = journal;
}
