namespace VideoGen.Coordinator.Membership;

internal static partial class ConsulLog
{
    [LoggerMessage(500, LogLevel.Information, "following Consul service {Service} at {Address} (blocking queries, wait {WaitSeconds}s); keeping workers alive every {KeepAliveSeconds:0.###}s")]
    public static partial void Following(ILogger logger, string service, Uri address, double waitSeconds, double keepAliveSeconds);

    [LoggerMessage(501, LogLevel.Information, "consul: worker={WorkerId} healthy at {Address}; joining it")]
    public static partial void WorkerHealthy(ILogger logger, string workerId, string address);

    [LoggerMessage(502, LogLevel.Information, "consul: worker={WorkerId} {Reason}; it leaves the farm")]
    public static partial void WorkerGone(ILogger logger, string workerId, string reason);

    [LoggerMessage(503, LogLevel.Warning, "consul unreachable at {Address}: {Reason}; keeping the {Count} known workers, retrying with backoff (logged once per outage)")]
    public static partial void Unreachable(ILogger logger, Uri address, string reason, int count);

    [LoggerMessage(504, LogLevel.Information, "consul reachable again after {Seconds:0.0}s")]
    public static partial void Recovered(ILogger logger, double seconds);

    [LoggerMessage(505, LogLevel.Warning, "consul: ignoring instance {ServiceId} of {Service}: {Problem}")]
    public static partial void InvalidInstance(ILogger logger, string serviceId, string service, string problem);

    [LoggerMessage(506, LogLevel.Information, "consul: registered coordinator as {ServiceId} ({Address}:{Port})")]
    public static partial void Registered(ILogger logger, string serviceId, string address, int port);

    [LoggerMessage(507, LogLevel.Warning, "consul: coordinator registration failed (attempt {Attempt}): {Reason}")]
    public static partial void RegistrationFailed(ILogger logger, int attempt, string reason);

    [LoggerMessage(508, LogLevel.Information, "consul: deregistered coordinator {ServiceId}")]
    public static partial void Deregistered(ILogger logger, string serviceId);

    [LoggerMessage(509, LogLevel.Warning, "consul: deregistering coordinator {ServiceId} failed: {Reason}")]
    public static partial void DeregisterFailed(ILogger logger, string serviceId, string reason);

    [LoggerMessage(510, LogLevel.Warning, "consul: applying the healthy workers to the orchestrator failed: {Reason}; re-reading")]
    public static partial void ReconcileFailed(ILogger logger, string reason);
}
