using Grpc.Core;
using Grpc.Core.Interceptors;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Leadership;

/// <summary>
/// On a standby coordinator, every call of the farm's API (jobs, keys, membership; over gRPC or REST) answers
/// UNAVAILABLE naming the leader, so clients and workers with a list of coordinators retry on the next one. Health and
/// reflection still answer (a standby reports NOT_SERVING).
/// </summary>
internal sealed class StandbyInterceptor(Leadership leadership) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (leadership.IsLeader || !context.Method.StartsWith("/videogen.", StringComparison.Ordinal))
        {
            return;
        }

        var leader = leadership.LeaderAddress;
        if (leader.Length > 0)
        {
            context.ResponseTrailers.Add("videogen-leader", leader);
        }

        throw new ServiceUnavailableException(leader.Length > 0
            ? $"this coordinator is a standby; the leader is {leader} (epoch {leadership.Epoch})"
            : "this coordinator is a standby and no leader holds the lease yet");
    }
}
