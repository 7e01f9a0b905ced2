using Grpc.Core;
using Grpc.Core.Interceptors;

namespace VideoGen.Coordinator.Access;

/// <summary>
/// Authenticates every call of the client-facing services (JobService, KeyService; not membership, health or
/// reflection) and enforces the role rules in one place: ListWorkers, DrainWorker and every KeyService RPC need
/// an admin key (PERMISSION_DENIED otherwise). Tenant rules (a client sees its own jobs only) are in the services,
/// which read the <see cref="Caller"/> this attaches. Also runs for REST/JSON-transcoded and gRPC-Web calls: they
/// carry the same <c>Authorization</c> header.
/// </summary>
public sealed class ApiKeyInterceptor(ApiKeyAuthenticator authenticator) : Interceptor
{
    private static readonly HashSet<string> AdminOnly = new(StringComparer.Ordinal)
    {
        "/videogen.v1.JobService/ListWorkers",
        "/videogen.v1.JobService/DrainWorker",
    };

    private const string KeyServicePrefix = "/videogen.v1.KeyService/";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>Whether <paramref name="method"/> ("/package.Service/Method") needs an admin key.</summary>
    public static bool NeedsAdmin(string method) =>
        AdminOnly.Contains(method) || method.StartsWith(KeyServicePrefix, StringComparison.Ordinal);

    private void Admit(ServerCallContext context)
    {
        var caller = authenticator.Authenticate(context.RequestHeaders, context.Method);
        if (!caller.IsAdmin && NeedsAdmin(context.Method))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{context.Method.TrimStart('/')} needs an admin key; this key's role is client"));
        }

        caller.AttachTo(context);
    }
}
