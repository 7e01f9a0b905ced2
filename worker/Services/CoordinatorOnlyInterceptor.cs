using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Observability;
using VideoGen.Security;

namespace VideoGen.Worker.Services;

/// <summary>
/// A worker takes its work from its coordinator only: every call of <c>videogen.v1.WorkerService</c> (RunTask,
/// CancelTask, Drain, GetWorkerStatus) must carry the farm's worker token, else UNAUTHENTICATED — counted
/// (<c>videogen_worker_calls_refused_total</c>) and logged once per peer. The health service stays open for probes.
/// Without a configured token the worker is open, as a warning at start says.
/// </summary>
public sealed partial class CoordinatorOnlyInterceptor : Interceptor
{
    private const string GuardedService = "/videogen.v1.WorkerService/";
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _refused = new(StringComparer.Ordinal);
    private readonly string _token;
    private readonly ILogger<CoordinatorOnlyInterceptor> _log;

    public CoordinatorOnlyInterceptor(IOptions<WorkerOptions> options, ILogger<CoordinatorOnlyInterceptor> log)
    {
        _token = WorkerToken.Resolve(options.Value.Token);
        _log = log;
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Require(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Require(context);
        return continuation(request, responseStream, context);
    }

    private void Require(ServerCallContext context)
    {
        if (_token.Length == 0 || !context.Method.StartsWith(GuardedService, StringComparison.Ordinal)
            || WorkerToken.Matches(context.RequestHeaders.GetValue(WorkerToken.Header), _token))
        {
            return;
        }

        WorkerMetrics.CallsRefused.Inc();
        var peer = context.Peer ?? "";
        if (_refused.Count < 10_000 && _refused.TryAdd(peer, true))
        {
            Refused(_log, peer, context.Method);
        }

        throw new RpcException(new Status(StatusCode.Unauthenticated, "worker token missing or wrong: this worker takes calls from its coordinator only"));
    }

    [LoggerMessage(EventId = 330, Level = LogLevel.Warning, Message = "refused {Method} from {Peer}: no valid worker token")]
    private static partial void Refused(ILogger logger, string peer, string method);
}
