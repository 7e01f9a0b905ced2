using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using VideoGen.Coordinator.Planning;

namespace VideoGen.Coordinator.Services;

/// <summary>A job id the coordinator does not know; mapped to NOT_FOUND.</summary>
public sealed class JobNotFoundException(string jobId) : Exception($"job '{InputText.Quote(jobId)}' not found")
{
    public string JobId { get; } = jobId;
}

/// <summary>
/// Maps domain errors to gRPC status codes in one place: validation → INVALID_ARGUMENT with
/// google.rpc.BadRequest field violations (and the field in the message, for clients that read
/// only the message), budgets → RESOURCE_EXHAUSTED, quotas → RESOURCE_EXHAUSTED with google.rpc.QuotaFailure
/// and RetryInfo, unknown jobs → NOT_FOUND. Anything else becomes
/// INTERNAL without a stack trace.
/// </summary>
public sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> log) : Interceptor
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

    /// <summary>The status exception for a domain error; null to let it through unchanged.</summary>
    public RpcException? Map(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException:
                return null;
            case RequestValidationException v:
                var badRequest = new BadRequest();
                badRequest.FieldViolations.AddRange(v.Violations.Select(f => new BadRequest.Types.FieldViolation { Field = f.Field, Description = f.Description }));
                return new Google.Rpc.Status
                {
                    Code = (int)Code.InvalidArgument,
                    Message = v.Message,
                    Details = { Any.Pack(badRequest) },
                }.ToRpcException();
            case BudgetExceededException b:
                return new Google.Rpc.Status { Code = (int)Code.ResourceExhausted, Message = b.Message }.ToRpcException();
            case Access.QuotaExceededException q:
                var quota = new QuotaFailure();
                quota.Violations.Add(new QuotaFailure.Types.Violation { Subject = $"tenant:{q.Tenant}/{q.Quota}", Description = q.Description });
                return new Google.Rpc.Status
                {
                    Code = (int)Code.ResourceExhausted,
                    Message = q.Message,
                    Details = { Any.Pack(quota), Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(q.RetryAfter < TimeSpan.Zero ? TimeSpan.Zero : q.RetryAfter) }) },
                }.ToRpcException();
            case JobNotFoundException n:
                return new RpcException(new Grpc.Core.Status(StatusCode.NotFound, n.Message));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Grpc.Core.Status(StatusCode.Cancelled, "the call was cancelled"));
            default:
                LogUnhandled(log, context.Method, ex);
                return new RpcException(new Grpc.Core.Status(StatusCode.Internal, $"internal error ({ex.GetType().Name}); see the coordinator log"));
        }
    }

    [LoggerMessage(1, LogLevel.Error, "Unhandled error in {Method}")]
    private static partial void LogUnhandled(ILogger logger, string method, Exception error);
}
