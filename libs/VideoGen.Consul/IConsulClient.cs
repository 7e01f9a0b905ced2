namespace VideoGen.Consul;

/// <summary>
/// The part of Consul's HTTP API the farm uses: a worker or coordinator registers itself with a TTL check and keeps
/// it passing; the coordinator follows the workers with blocking health queries. <see cref="ConsulClient"/> speaks it
/// over HTTP; the coordinator and the workers depend on this interface only.
/// </summary>
public interface IConsulClient
{
    /// <summary>The agent's address.</summary>
    Uri Address { get; }

    /// <summary>Registers (or replaces) a service on the local agent.</summary>
    Task RegisterServiceAsync(ServiceRegistration registration, CancellationToken cancellationToken);

    /// <summary>Deregisters a service; false when the agent did not know it.</summary>
    Task<bool> DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken);

    /// <summary>Sets a TTL check's status; false when the agent did not know the check (register again).</summary>
    Task<bool> UpdateTtlAsync(string checkId, CheckStatus status, string? note, CancellationToken cancellationToken);

    /// <summary>
    /// The instances of a service with their checks; with <paramref name="index"/> &gt; 0 a blocking query that returns
    /// when the result changes after that index or after <paramref name="wait"/>.
    /// </summary>
    Task<HealthQueryResult> HealthServiceAsync(string service, bool passingOnly, ulong index, TimeSpan wait, CancellationToken cancellationToken);
}
