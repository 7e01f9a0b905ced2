namespace VideoGen.Coordinator.Scheduling;

/// <summary>How an attempt ended without a result, as the loop saw it.</summary>
/// <param name="Retryable">The task may run again (a permanent model error or a malformed request may not).</param>
/// <param name="CountsAsFailure">The task's, the worker's and the job's failure counts grow (a busy or draining worker's refusal does not).</param>
/// <param name="Backoff">A counted failure waits the retry backoff before the task runs again (a lost worker's or a stuck task's does not: it goes elsewhere at once).</param>
public readonly record struct AttemptFailure(bool Retryable, bool CountsAsFailure, bool Backoff = true);

/// <summary>What the loop knows before the decision: the task's failures so far, its worker's record (when the worker is known), and that worker's failures in this job.</summary>
public readonly record struct FailureFacts(int TaskFailures, bool WorkerKnown, int WorkerConsecutiveFailures, DateTimeOffset WorkerQuarantinedUntil, int WorkerFailuresInJob);

/// <summary>
/// The decision for one failed attempt: the task's failure count after it, whether the task (and so the job) fails or
/// goes back to ready after <see cref="RetryAfter"/> (null: at once), the worker's consecutive failures after it and a
/// quarantine when it earned one, its failures in this job and whether that blocklists it for the job.
/// </summary>
public sealed record FailureDecision(
    int TaskFailures,
    bool FailTask,
    TimeSpan? RetryAfter,
    int WorkerConsecutiveFailures,
    DateTimeOffset? QuarantineUntil,
    int WorkerFailuresInJob,
    bool Blocklist);

/// <summary>
/// Retry and failure rules, a pure function of the facts, the time and a random source (jitter): a counted failure
/// grows the task's count and ends the task once <see cref="RetryPolicy.MaxAttempts"/> are spent (or at once when it
/// may not retry); a worker failing <c>QuarantineAfterFailures</c> times in a row, across jobs, is quarantined for
/// <c>QuarantineSeconds</c>; a worker failing <c>BlocklistAfterFailures</c> times in one job gets none of its tasks
/// again. A refusal (busy, draining) waits <see cref="RefusedRetryDelay"/> for the slot to free instead of bouncing.
/// </summary>
public sealed class FailurePolicy(RetryPolicy retry, SchedulingOptions options)
{
    /// <summary>How long a refused task waits before it is offered again.</summary>
    public static readonly TimeSpan RefusedRetryDelay = TimeSpan.FromMilliseconds(100);

    public FailureDecision Decide(AttemptFailure failure, FailureFacts facts, DateTimeOffset now, Random random)
    {
        if (!failure.CountsAsFailure)
        {
            return new FailureDecision(facts.TaskFailures, !failure.Retryable, failure.Retryable ? RefusedRetryDelay : null,
                facts.WorkerConsecutiveFailures, null, facts.WorkerFailuresInJob, false);
        }

        var taskFailures = facts.TaskFailures + 1;
        var consecutive = facts.WorkerConsecutiveFailures;
        DateTimeOffset? quarantine = null;
        if (facts.WorkerKnown)
        {
            consecutive++;
            if (consecutive >= options.QuarantineAfterFailures && facts.WorkerQuarantinedUntil <= now)
            {
                // It keeps failing across jobs: a bad node. Keep it out for a while instead of letting it poison the queue.
                quarantine = now.AddSeconds(options.QuarantineSeconds);
                consecutive = 0;
            }
        }

        var inJob = facts.WorkerFailuresInJob + 1;
        var fail = !failure.Retryable || !retry.CanRetry(taskFailures);
        var after = fail || !failure.Backoff ? (TimeSpan?)null : retry.Delay(taskFailures, random.NextDouble());
        return new FailureDecision(taskFailures, fail, after, consecutive, quarantine, inJob, inJob >= options.BlocklistAfterFailures);
    }
}

/// <summary>Leases: a worker is lost when its heartbeats lapse; an attempt is stuck when it reported nothing for the task lease.</summary>
public static class LeasePolicy
{
    /// <summary>Whether a worker whose last heartbeat was at <paramref name="lastHeartbeat"/> is lost at <paramref name="now"/>.</summary>
    public static bool HeartbeatLapsed(DateTimeOffset lastHeartbeat, DateTimeOffset now, SchedulingOptions options) =>
        now - lastHeartbeat > TimeSpan.FromSeconds(options.WorkerLeaseSeconds);

    /// <summary>Until when an attempt that starts, or reports anything, at <paramref name="now"/> holds its task.</summary>
    public static DateTimeOffset AttemptLease(DateTimeOffset now, SchedulingOptions options) => now.AddSeconds(options.TaskLeaseSeconds);

    /// <summary>Whether an attempt whose lease runs to <paramref name="leaseUntil"/> is stuck at <paramref name="now"/>.</summary>
    public static bool AttemptStuck(DateTimeOffset leaseUntil, DateTimeOffset now) => leaseUntil < now;
}
