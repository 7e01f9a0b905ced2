using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>What the orchestrator reports to metrics; the Prometheus implementation lives in Observability.</summary>
internal interface IFarmMetrics
{
    void JobSubmitted();
    void JobFinished(JobState state, double costUsd, TimeSpan? duration = null);
    void TaskStarted(TaskKind kind);
    void TaskFinished(TaskKind kind, string outcome, double elapsedSeconds, string model, double mediaSeconds, double costUsd);
    void TaskRequeued(string reason);
    void StaleReportRefused();
    void ObserveQueue(int ready, int waiting, IEnumerable<WorkerRecord> workers, DateTimeOffset now);

    /// <summary>Active jobs after a commit: counts the workers blocklisted by at least one of them.</summary>
    void ObserveJobs(IEnumerable<JobRecord> activeJobs);

    /// <summary>A submission refused because its estimate exceeds its budget (max_cost_usd).</summary>
    void BudgetRefused();

    /// <summary>A worker the coordinator refused to admit, by reason (address).</summary>
    void WorkerRefused(string reason);

    /// <summary>Provider spend that produced nothing (a canceled, failed or abandoned request that was billed), by model and reason.</summary>
    void ProviderSpendWasted(string model, string reason, double costUsd) { }

    /// <summary>Spend billed after its attempt ended (a cancelled prediction's run time): counts in the model's cost like any attempt's.</summary>
    void CostBilledLate(string model, double costUsd) { }

    /// <summary>A model's dispatch paused: "throttled" (429) or "circuit_open".</summary>
    void ProviderPaused(string model, string reason) { }

    /// <summary>A continuous chunk's seam was scored; <paramref name="verdict"/>: passed, regenerated or kept_below.</summary>
    void SeamScored(string model, SeamScore score, string verdict) { }
}

internal sealed class NullFarmMetrics : IFarmMetrics
{
    public static readonly NullFarmMetrics Instance = new();
    public void JobSubmitted() { }
    public void JobFinished(JobState state, double costUsd, TimeSpan? duration = null) { }
    public void TaskStarted(TaskKind kind) { }
    public void TaskFinished(TaskKind kind, string outcome, double elapsedSeconds, string model, double mediaSeconds, double costUsd) { }
    public void TaskRequeued(string reason) { }
    public void StaleReportRefused() { }
    public void ObserveQueue(int ready, int waiting, IEnumerable<WorkerRecord> workers, DateTimeOffset now) { }
    public void ObserveJobs(IEnumerable<JobRecord> activeJobs) { }
    public void BudgetRefused() { }
    public void WorkerRefused(string reason) { }
}
