namespace VideoGen.Worker.Membership;

/// <summary>What the worker announces when it joins the farm.</summary>
/// <param name="WorkerId">Stable worker id.</param>
/// <param name="Address">gRPC address the coordinator calls.</param>
/// <param name="Models">Models served.</param>
/// <param name="Slots">Tasks run at once.</param>
/// <param name="Gpus">GPU names, empty when none.</param>
/// <param name="Version">Worker build version.</param>
public sealed record WorkerRegistration(string WorkerId, string Address, IReadOnlyList<string> Models, int Slots, IReadOnlyList<string> Gpus, string Version);

/// <summary>What the farm asked of the worker when it joined.</summary>
/// <param name="HeartbeatInterval">How often to heartbeat.</param>
/// <param name="Lease">Missing heartbeats for this long makes the worker lost.</param>
public sealed record MembershipTerms(TimeSpan HeartbeatInterval, TimeSpan Lease);

/// <summary>The answer to a heartbeat.</summary>
public enum HeartbeatOutcome
{
    /// <summary>The farm knows the worker.</summary>
    Known,

    /// <summary>The farm forgot the worker (it restarted, or declared it lost): join again.</summary>
    Unknown,

    /// <summary>The farm could not be reached: join again once it can.</summary>
    Unreachable,
}

/// <summary>
/// How a worker makes itself known to the farm. The direct agent calls the coordinator's MembershipService;
/// <see cref="ConsulMembershipAgent"/> registers a Consul service with a TTL check instead. <see cref="MembershipLoop"/> owns the
/// policy (backoff, heartbeat cadence, rejoin, leave); agents only speak their protocol.
/// </summary>
public interface IMembershipAgent
{
    /// <summary>Joins (or re-joins, replacing an earlier registration). Throws when the farm cannot be reached.</summary>
    Task<MembershipTerms> JoinAsync(WorkerRegistration registration, CancellationToken cancellationToken);

    /// <summary>Reports liveness and load.</summary>
    Task<HeartbeatOutcome> HeartbeatAsync(string workerId, bool draining, int runningTasks, CancellationToken cancellationToken);

    /// <summary>Leaves the farm on a clean shutdown.</summary>
    Task LeaveAsync(string workerId, CancellationToken cancellationToken);
}
