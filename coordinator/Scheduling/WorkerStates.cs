using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The one place a worker's state is derived: <c>ListWorkers</c> (both its enum and its deprecated
/// string) and the <c>videogen_workers</c> metric read it from here, so they always agree.
/// </summary>
internal static class WorkerStates
{
    /// <summary>Every state, in the order the metric exports them.</summary>
    public static readonly WorkerState[] All =
        [WorkerState.Ready, WorkerState.Busy, WorkerState.Draining, WorkerState.Quarantined, WorkerState.Lost, WorkerState.Unhealthy];

    /// <summary>The first that applies: lost, draining, unhealthy, quarantined, busy, ready.</summary>
    public static WorkerState Of(WorkerRecord worker, DateTimeOffset now) =>
        worker.Lost ? WorkerState.Lost
        : worker.Draining ? WorkerState.Draining
        : worker.Unhealthy ? WorkerState.Unhealthy
        : worker.QuarantinedUntil > now ? WorkerState.Quarantined
        : worker.Running.Count >= worker.Slots ? WorkerState.Busy
        : WorkerState.Ready;

    /// <summary>The lower-case name: the deprecated <c>WorkerInfo.state</c> and the metric's <c>state</c> label.</summary>
    public static string Label(WorkerState state) => state switch
    {
        WorkerState.Ready => "ready",
        WorkerState.Busy => "busy",
        WorkerState.Draining => "draining",
        WorkerState.Quarantined => "quarantined",
        WorkerState.Lost => "lost",
        WorkerState.Unhealthy => "unhealthy",
        _ => "unspecified",
    };
}
