using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace VideoGen.Errors;

/// <summary>
/// The one table from domain errors to gRPC statuses, for every server of the farm (coordinator and workers):
/// <list type="bullet">
/// <item><see cref="RequestValidationException"/> → INVALID_ARGUMENT with google.rpc.BadRequest field violations (the
/// fields are in the message too, for clients that read only the message);</item>
/// <item><see cref="NotFoundException"/> → NOT_FOUND; <see cref="AlreadyExistsException"/> → ALREADY_EXISTS;
/// <see cref="PreconditionFailedException"/> → FAILED_PRECONDITION; <see cref="AccessDeniedException"/> →
/// PERMISSION_DENIED; <see cref="ServiceUnavailableException"/> → UNAVAILABLE; <see cref="StaleEpochException"/> → ABORTED;</item>
/// <item><see cref="ResourceExhaustedException"/> → RESOURCE_EXHAUSTED, with RetryInfo and QuotaFailure when known;</item>
/// <item>an <see cref="OperationCanceledException"/> of a call the client cancelled → CANCELLED;</item>
/// <item>an <see cref="RpcException"/> is already a status (edge code such as authentication throws them) and
/// passes unchanged; anything else is a bug: INTERNAL, naming only the exception's type (no stack trace leaves the
/// process).</item>
/// </list>
/// </summary>
public static class ErrorMapping
{
    /// <summary>The status for <paramref name="error"/>; null for an <see cref="RpcException"/> (it is one already).</summary>
    public static RpcException? ToRpcException(Exception error, bool callCancelled, string process)
    {
        switch (error)
        {
            case RpcException:
                return null;
            case RequestValidationException v:
                var badRequest = new BadRequest();
                badRequest.FieldViolations.AddRange(v.Violations.Select(f => new BadRequest.Types.FieldViolation { Field = f.Field, Description = f.Description }));
                return Rich(Code.InvalidArgument, v.Message, Any.Pack(badRequest));
            case ResourceExhaustedException r:
                var details = new List<Any>();
                if (r.QuotaSubject is not null)
                {
                    var quota = new QuotaFailure();
                    quota.Violations.Add(new QuotaFailure.Types.Violation { Subject = r.QuotaSubject, Description = r.QuotaDescription ?? r.Message });
                    details.Add(Any.Pack(quota));
                }

                if (r.RetryAfter is { } after)
                {
                    details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(after < TimeSpan.Zero ? TimeSpan.Zero : after) }));
                }

                return Rich(Code.ResourceExhausted, r.Message, [.. details]);
            case NotFoundException:
                return Plain(StatusCode.NotFound, error.Message);
            case AlreadyExistsException:
                return Plain(StatusCode.AlreadyExists, error.Message);
            case PreconditionFailedException:
                return Plain(StatusCode.FailedPrecondition, error.Message);
            case AccessDeniedException:
                return Plain(StatusCode.PermissionDenied, error.Message);
            case ServiceUnavailableException:
                return Plain(StatusCode.Unavailable, error.Message);
            case StaleEpochException:
                return Plain(StatusCode.Aborted, error.Message);
            case OperationCanceledException when callCancelled:
                return Plain(StatusCode.Cancelled, "the call was cancelled");
            default:
                return Plain(StatusCode.Internal, $"internal error ({error.GetType().Name}); see the {process} log");
        }
    }

    /// <summary>Whether <paramref name="error"/> is a bug (mapped to INTERNAL) rather than an answer.</summary>
    public static bool IsUnexpected(Exception error, bool callCancelled) =>
        error is not (RpcException or DomainException) && !(error is OperationCanceledException && callCancelled);

    private static RpcException Plain(StatusCode code, string message) => new(new Grpc.Core.Status(code, message));

    private static RpcException Rich(Code code, string message, params Any[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        status.Details.AddRange(details);
        return status.ToRpcException();
    }
}
