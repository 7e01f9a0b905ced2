using Grpc.Core;
using Microsoft.Extensions.Options;
using VideoGen.Coordinator.Hosting;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Security;

namespace VideoGen.Coordinator.Membership;

/// <summary>
/// Admits workers by the farm's worker token: a join, heartbeat or leave without it (or with another) is refused with
/// UNAUTHENTICATED, counted (<c>videogen_workers_refused_total{reason="token"}</c>) and logged once per peer. Without
/// a configured token admission is open, as a single warning at start says.
/// </summary>
internal sealed partial class WorkerAdmission
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _refused = new(StringComparer.Ordinal);
    private readonly IFarmMetrics _metrics;
    private readonly ILogger<WorkerAdmission> _log;

    public WorkerAdmission(IOptions<CoordinatorOptions> options, IFarmMetrics metrics, ILogger<WorkerAdmission> log)
    {
        Token = WorkerToken.Resolve(options.Value.WorkerToken);
        if (Token.Length is > 0 and < WorkerToken.MinimumLength)
        {
            throw new InvalidOperationException($"Coordinator:WorkerToken (or {WorkerToken.EnvironmentVariable}) must have at least {WorkerToken.MinimumLength} characters.");
        }

        _metrics = metrics;
        _log = log;
        if (Token.Length == 0)
        {
            OpenAdmission(log, WorkerToken.EnvironmentVariable);
        }
    }

    /// <summary>The token; "" when admission is open.</summary>
    public string Token { get; }

    /// <summary>Throws UNAUTHENTICATED unless the call carries the worker token (or admission is open).</summary>
    public void Require(ServerCallContext context, string workerId)
    {
        if (Token.Length == 0 || WorkerToken.Matches(context.RequestHeaders.GetValue(WorkerToken.Header), Token))
        {
            return;
        }

        _metrics.WorkerRefused("token");
        var peer = context.Peer ?? "";
        if (_refused.Count < 10_000 && _refused.TryAdd($"{workerId} {peer}", true))
        {
            Refused(_log, Services.InputText.Quote(workerId), Services.InputText.Quote(peer), context.Method);
        }

        throw new RpcException(new Status(StatusCode.Unauthenticated, "worker token missing or wrong: set Worker:Token (or VIDEOGEN_WORKER_TOKEN) to the coordinator's"));
    }

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "worker={WorkerId} from {Peer} refused on {Method}: no valid worker token")]
    private static partial void Refused(ILogger logger, string workerId, string peer, string method);

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "no worker token (Coordinator:WorkerToken, {Variable}): any process that reaches the membership API can join as a worker; set one on a network")]
    private static partial void OpenAdmission(ILogger logger, string variable);
}
