using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// Membership rules, pure: the record a joining worker gets (a worker id joining again is the same node restarted: its
/// earlier attempts are gone, but its record of failures follows it, so restarting is no way out of quarantine), and
/// whether a heartbeat is taken (a lost or unknown worker is told to join again).
/// </summary>
internal static class MembershipPolicy
{
    /// <summary>The record of a worker that joins at <paramref name="now"/>; <paramref name="previous"/> is its record before, if any.</summary>
    public static WorkerRecord Joined(JoinRequest request, WorkerRecord? previous, DateTimeOffset now)
    {
        var worker = new WorkerRecord(request.WorkerId, request.Address, new HashSet<string>(request.Models, StringComparer.Ordinal), request.Slots, [.. request.Gpus], now);
        if (previous is not null)
        {
            worker.Succeeded = previous.Succeeded;
            worker.Failed = previous.Failed;
            worker.ConsecutiveFailures = previous.ConsecutiveFailures;
            worker.QuarantinedUntil = previous.QuarantinedUntil;
        }

        return worker;
    }

    /// <summary>Whether a heartbeat from a worker with this record is taken; false: it must join again.</summary>
    public static bool TakesHeartbeat(WorkerRecord? worker) => worker is { Lost: false };

    /// <summary>The tasks of <paramref name="job"/> that were running on <paramref name="workerId"/> before a coordinator restart: they re-attach as soon as it is back.</summary>
    public static IReadOnlyList<string> ResumableOn(JobRecord job, string workerId) =>
        job.ResumeOn.Where(r => r.Value == workerId).Select(r => r.Key).ToList();
}
