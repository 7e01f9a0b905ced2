namespace VideoGen.Coordinator.Scheduling;

/// <summary>Scheduler settings (configuration section "Scheduling").</summary>
public sealed class SchedulingOptions
{
    /// <summary>Failed attempts after which a task, and its job, fail.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>First retry delay; doubles per failure, with ±20% jitter.</summary>
    public double RetryBaseSeconds { get; set; } = 1;

    public double RetryMaxSeconds { get; set; } = 30;

    /// <summary>A running task whose stream sends nothing for this long is requeued (stuck task).</summary>
    public double TaskLeaseSeconds { get; set; } = 120;

    /// <summary>How often workers heartbeat (told to them at join).</summary>
    public double HeartbeatIntervalSeconds { get; set; } = 2;

    /// <summary>A worker silent for this long is lost and its tasks are requeued.</summary>
    public double WorkerLeaseSeconds { get; set; } = 6;

    /// <summary>
    /// After a coordinator restart, how long a task that was running waits for its worker to rejoin (and re-attach
    /// to the execution still running there) before it runs elsewhere.
    /// </summary>
    public double ResumeGraceSeconds { get; set; } = 15;

    /// <summary>Failures of one worker within one job after which it gets no more of that job's tasks.</summary>
    public int BlocklistAfterFailures { get; set; } = 3;

    /// <summary>Failures in a row, across jobs, after which a worker is quarantined.</summary>
    public int QuarantineAfterFailures { get; set; } = 6;

    /// <summary>How long a quarantined worker gets no tasks.</summary>
    public double QuarantineSeconds { get; set; } = 300;

    /// <summary>How often leases and heartbeats are checked.</summary>
    public double CheckIntervalSeconds { get; set; } = 0.5;

    /// <summary>Provider outage failures (5xx, timeouts) in a row that open a model's circuit: its tasks wait.</summary>
    public int CircuitOpenAfterFailures { get; set; } = 3;

    /// <summary>How long an open circuit holds a model's tasks before one probe goes through (half-open).</summary>
    public double CircuitPauseSeconds { get; set; } = 30;
    /// <summary>Tasks whose model needs GPU memory (catalog <c>vramGb</c>) that run at once on one GPU.</summary>
    public int TasksPerGpu { get; set; } = 1;

    /// <summary>
    /// Image model of the storyboard tasks (configuration key <c>Storyboard:ImageModel</c>), e.g. "gpt-image-1";
    /// empty: the workers' procedural renderer. Storyboards then go only to workers that serve it.
    /// </summary>
    public string StoryboardImageModel { get; set; } = "";

    /// <summary>The seam quality gate of continuous chunks (<c>Scheduling:SeamGate:*</c>).</summary>
    public SeamGateOptions SeamGate { get; set; } = new();
}
