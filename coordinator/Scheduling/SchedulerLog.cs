using Microsoft.Extensions.Logging;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>The scheduler's source-generated log messages; every line about a job, task or worker names its ids.</summary>
internal static partial class SchedulerLog
{
    [LoggerMessage(1, LogLevel.Information, "Orchestrator started; resuming {Count} active job(s)")]
    public static partial void Started(ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Error, "Command {Command} failed")]
    public static partial void CommandFailed(ILogger logger, string command, Exception error);

    [LoggerMessage(3, LogLevel.Critical, "The orchestrator loop crashed")]
    public static partial void LoopCrashed(ILogger logger, Exception error);

    [LoggerMessage(4, LogLevel.Critical, "Committing to the job store failed")]
    public static partial void CommitFailed(ILogger logger, Exception error);

    [LoggerMessage(10, LogLevel.Information, "job={JobId} accepted tenant={Tenant}")]
    public static partial void JobAccepted(ILogger logger, string jobId, string tenant);

    [LoggerMessage(11, LogLevel.Information, "job={JobId} planned chunks={Chunks} duration={Duration}s template={Template} planner={Planner}")]
    public static partial void JobPlanned(ILogger logger, string jobId, int chunks, double duration, string template, string planner);

    [LoggerMessage(12, LogLevel.Information, "job={JobId} ended state={State} {Error}")]
    public static partial void JobEnded(ILogger logger, string jobId, string state, string error);

    [LoggerMessage(13, LogLevel.Information, "job={JobId} resumed after restart state={State}")]
    public static partial void JobResumed(ILogger logger, string jobId, string state);

    [LoggerMessage(20, LogLevel.Debug, "job={JobId} task={TaskId} attempt={Attempt} dispatched worker={WorkerId}")]
    public static partial void TaskDispatched(ILogger logger, string jobId, string taskId, int attempt, string workerId);

    [LoggerMessage(21, LogLevel.Debug, "job={JobId} task={TaskId} attempt={Attempt} succeeded worker={WorkerId} in {Seconds:0.00}s")]
    public static partial void TaskSucceeded(ILogger logger, string jobId, string taskId, int attempt, string workerId, double seconds);

    [LoggerMessage(22, LogLevel.Warning, "job={JobId} task={TaskId} attempt={Attempt} requeued worker={WorkerId}: {Reason}")]
    public static partial void TaskRequeued(ILogger logger, string jobId, string taskId, int attempt, string workerId, string reason);

    [LoggerMessage(23, LogLevel.Error, "job={JobId} task={TaskId} attempt={Attempt} failed worker={WorkerId}: {Reason}")]
    public static partial void TaskFailed(ILogger logger, string jobId, string taskId, int attempt, string workerId, string reason);

    [LoggerMessage(25, LogLevel.Information, "job={JobId} task={TaskId} attempt={Attempt} re-attached to the execution of attempt {StartedBy} on worker={WorkerId}")]
    public static partial void TaskResumed(ILogger logger, string jobId, string taskId, int attempt, int startedBy, string workerId);

    [LoggerMessage(24, LogLevel.Warning, "job={JobId} task={TaskId} refused a report from stale attempt {Attempt} (current {Current})")]
    public static partial void StaleReport(ILogger logger, string jobId, string taskId, int attempt, int current);

    [LoggerMessage(30, LogLevel.Information, "worker={WorkerId} joined address={Address} slots={Slots} models={Models}")]
    public static partial void WorkerJoined(ILogger logger, string workerId, string address, int slots, string models);

    [LoggerMessage(31, LogLevel.Information, "worker={WorkerId} left")]
    public static partial void WorkerLeft(ILogger logger, string workerId);

    [LoggerMessage(32, LogLevel.Warning, "worker={WorkerId} lost: no heartbeat for {Seconds:0.0}s")]
    public static partial void WorkerLost(ILogger logger, string workerId, double seconds);

    [LoggerMessage(34, LogLevel.Warning, "worker={WorkerId} quarantined for {Seconds} s: it kept failing across jobs")]
    public static partial void WorkerQuarantined(ILogger logger, string workerId, double seconds);

    [LoggerMessage(35, LogLevel.Information, "worker={WorkerId} draining with {Running} running task(s)")]
    public static partial void WorkerDraining(ILogger logger, string workerId, int running);

    [LoggerMessage(33, LogLevel.Warning, "job={JobId} worker={WorkerId} blocklisted for the job after {Failures} failures")]
    public static partial void WorkerBlocklisted(ILogger logger, string jobId, string workerId, int failures);

    [LoggerMessage(50, LogLevel.Information, "job={JobId} task={TaskId} attempt={Attempt} provider request {Provider}:{RequestId} journalled")]
    public static partial void ProviderRequestJournalled(ILogger logger, string jobId, string taskId, int attempt, string provider, string requestId);

    [LoggerMessage(51, LogLevel.Warning, "model={Model} circuit open for {Seconds} s: {Reason}")]
    public static partial void CircuitOpened(ILogger logger, string model, double seconds, string reason);

    [LoggerMessage(53, LogLevel.Warning, "job={JobId} task={TaskId} moved from {From} to its fallback {To}: the provider of {From} is down")]
    public static partial void ModelFallback(ILogger logger, string jobId, string taskId, string from, string to);

    [LoggerMessage(52, LogLevel.Information, "job={JobId} task={TaskId} provider request {RequestId} {Outcome} after {PredictSeconds:0.###} s billed ${CostUsd:0.######}")]
    public static partial void ProviderBilled(ILogger logger, string jobId, string taskId, string requestId, string outcome, double predictSeconds, double costUsd);

    [LoggerMessage(80, LogLevel.Warning, "worker={WorkerId} cannot run model={Model}: it gets no more of its tasks until it joins again")]
    public static partial void WorkerWithheldModel(ILogger logger, string workerId, string model);

    [LoggerMessage(81, LogLevel.Warning, "worker={WorkerId} inference server: {Health}")]
    public static partial void WorkerHealth(ILogger logger, string workerId, string health);

    [LoggerMessage(160, LogLevel.Warning, "job={JobId} task={TaskId} attempt={Attempt} {Why}: made again with a new seed (regeneration {Regenerations})")]
    public static partial void SeamRegenerated(ILogger logger, string jobId, string taskId, int attempt, string why, int regenerations);

    [LoggerMessage(161, LogLevel.Warning, "job={JobId} task={TaskId} attempt={Attempt} {Why}: kept after {Regenerations} regeneration(s) (none left, or no budget for one)")]
    public static partial void SeamKeptBelow(ILogger logger, string jobId, string taskId, int attempt, string why, int regenerations);

    [LoggerMessage(162, LogLevel.Information, "job={JobId} revises {RevisionOf}: {Reused} of {Tasks} tasks reused")]
    public static partial void RevisionReused(ILogger logger, string jobId, string revisionOf, int reused, int tasks);
}
