using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Webhooks;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// Durable jobs and events. <see cref="Commit"/> is called by the orchestrator's single loop only
/// (one writer); reads may come from any thread.
/// </summary>
public interface IJobStore : IDisposable
{
    /// <summary>
    /// Writes the jobs (upsert) and the new events in one transaction, with the webhook callbacks those events owe
    /// (<see cref="WebhookOutbox.Deliveries"/>) in the outbox.
    /// </summary>
    void Commit(IReadOnlyCollection<Job> jobs, IReadOnlyCollection<JobEvent> events);

    /// <summary>Jobs not in a terminal state, to resume after a restart.</summary>
    IReadOnlyList<Job> LoadActive();

    Job? Get(string jobId);

    Job? FindByRequestId(string requestId);

    /// <summary>The job's events with a sequence greater than <paramref name="afterSequence"/>, in order.</summary>
    IReadOnlyList<JobEvent> Events(string jobId, long afterSequence);

    /// <summary>
    /// Up to <paramref name="limit"/> jobs, strictly newest first: by creation time, and among jobs
    /// created in the same millisecond the one stored later first. After <paramref name="after"/>
    /// (a previous page's <see cref="JobPage.Next"/>) when given, so inserts never shift pages.
    /// </summary>
    JobPage List(JobState state, string tenant, JobCursor? after, int limit);

    /// <summary>Up to <paramref name="limit"/> undelivered callbacks due at <paramref name="nowMs"/> (Unix ms), oldest due first.</summary>
    IReadOnlyList<WebhookDelivery> DueWebhooks(long nowMs, int limit);

    /// <summary>
    /// Records an attempt: <paramref name="attempts"/> made so far, the next one due at <paramref name="nextAttemptAtMs"/>, or none
    /// (null: delivered or given up). <paramref name="outcome"/> is the last answer ("200", "500", "timeout", …).
    /// </summary>
    void RecordWebhookAttempt(string id, int attempts, long? nextAttemptAtMs, string outcome);
}
