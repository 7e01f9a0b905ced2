using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// Durable jobs and events. <see cref="Commit"/> is called by the orchestrator's single loop only
/// (one writer); reads may come from any thread.
/// </summary>
public interface IJobStore : IDisposable
{
    /// <summary>Writes the jobs (upsert) and the new events in one transaction.</summary>
    void Commit(IReadOnlyCollection<Job> jobs, IReadOnlyCollection<JobEvent> events);

    /// <summary>Jobs not in a terminal state, to resume after a restart.</summary>
    IReadOnlyList<Job> LoadActive();

    Job? Get(string jobId);

    Job? FindByRequestId(string requestId);

    /// <summary>The job's events with a sequence greater than <paramref name="afterSequence"/>, in order.</summary>
    IReadOnlyList<JobEvent> Events(string jobId, long afterSequence);

    /// <summary>Jobs newest first; <paramref name="offset"/> from the page token.</summary>
    IReadOnlyList<Job> List(JobState state, string tenant, int offset, int limit);
}
