namespace VideoGen.Coordinator.Leadership;

/// <summary>
/// A leader lease in the job store, shared by the coordinators of one farm: at most one holds it at a time, and every
/// change of holder raises its epoch. Implemented by the PostgreSQL store (<c>PostgresJobStore.Lease.cs</c>).
/// </summary>
public interface ILeaderLease
{
    /// <summary>
    /// Takes the lease (free or expired: a new epoch) or renews it (held by <paramref name="holder"/> and not expired:
    /// the same epoch) for <paramref name="ttl"/> on the store's clock; otherwise reports who holds it.
    /// </summary>
    LeaseView Acquire(string holder, string address, TimeSpan ttl);

    /// <summary>Lets the lease expire now when <paramref name="holder"/> has it (a clean shutdown), so a standby need not wait.</summary>
    void Release(string holder);

    /// <summary>From now on, every commit of the job store checks that <paramref name="epoch"/> still holds the lease.</summary>
    void Fence(long epoch);
}

/// <summary>The lease as one call saw it: whether the caller holds it, its epoch, its holder and address, its expiry.</summary>
public sealed record LeaseView(bool Held, long Epoch, string Holder, string Address, DateTimeOffset ExpiresAt);
