using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace VideoGen.Errors;

/// <summary>
/// Applies <see cref="ErrorMapping"/> to every call of a server (all four call shapes); logs what maps to INTERNAL,
/// once, with its stack trace. Register it first, so that it wraps the other interceptors too.
/// </summary>
public sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> log, ErrorMappingOptions options) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>The status exception for <paramref name="ex"/>; null to let it through unchanged.</summary>
    public RpcException? Map(Exception ex, ServerCallContext context)
    {
        var cancelled = context.CancellationToken.IsCancellationRequested;
        if (ErrorMapping.IsUnexpected(ex, cancelled))
        {
            LogUnhandled(log, context.Method, ex);
        }

        return ErrorMapping.ToRpcException(ex, cancelled, options.Process);
    }

    [LoggerMessage(1, LogLevel.Error, "Unhandled error in {Method}")]
    private static partial void LogUnhandled(ILogger logger, string method, Exception error);
}

/// <summary>What the mapping says about the server it runs in.</summary>
/// <param name="Process">Named in INTERNAL messages: "see the {Process} log".</param>
public sealed record ErrorMappingOptions(string Process);
