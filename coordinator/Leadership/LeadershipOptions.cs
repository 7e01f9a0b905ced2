namespace VideoGen.Coordinator.Leadership;

/// <summary>
/// Standby coordinators (configuration section <c>Coordinator:Leadership</c>). Off by default: one coordinator, epoch 0,
/// nothing fenced. On, with the PostgreSQL job store, every coordinator of the farm competes for one lease; the holder
/// leads and the others stand by, answering UNAVAILABLE with the leader's address.
/// </summary>
public sealed class LeadershipOptions
{
    public const string Section = "Coordinator:Leadership";

    public bool Enabled { get; set; }

    /// <summary>How long a lease holds without renewal; a standby takes over within about a poll after it lapses.</summary>
    public double LeaseSeconds { get; set; } = 5;

    /// <summary>How often the leader renews, and a standby looks at the lease.</summary>
    public double PollSeconds { get; set; } = 1;

    /// <summary>The address clients and workers are pointed to while this coordinator leads; empty: <c>Coordinator:GrpcUrl</c>.</summary>
    public string AdvertisedAddress { get; set; } = "";

    /// <summary>A configuration error, or null.</summary>
    public string? Problem(bool usesPostgres)
    {
        if (!Enabled)
        {
            return null;
        }

        if (!usesPostgres)
        {
            return "Coordinator:Leadership:Enabled needs the PostgreSQL job store (JobStore:Kind=postgres): the lease lives there.";
        }

        if (!(LeaseSeconds is >= 1 and <= 300))
        {
            return $"Coordinator:Leadership:LeaseSeconds must be between 1 and 300; got {LeaseSeconds}.";
        }

        return PollSeconds > 0 && PollSeconds * 2 < LeaseSeconds
            ? null
            : $"Coordinator:Leadership:PollSeconds must be above 0 and below half of LeaseSeconds ({LeaseSeconds}); got {PollSeconds}.";
    }
}
