using Google.Rpc;
using Grpc.Core;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Services;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Errors;

/// <summary>The one table from domain errors to statuses that both servers use (libs/VideoGen.Errors).</summary>
public sealed class ErrorMappingTests
{
    public static TheoryData<Exception, StatusCode> Table => new()
    {
        { new RequestValidationException("job.prompt", "is required"), StatusCode.InvalidArgument },
        { new NotFoundException("worker 'w9' not found"), StatusCode.NotFound },
        { new JobNotFoundException("job-1"), StatusCode.NotFound },
        { new AlreadyExistsException("request_id is taken"), StatusCode.AlreadyExists },
        { new PreconditionFailedException("draining"), StatusCode.FailedPrecondition },
        { new ResourceExhaustedException("all 2 slots are busy"), StatusCode.ResourceExhausted },
        { new BudgetExceededException(3.5, 1), StatusCode.ResourceExhausted },
        { new QuotaExceededException("acme", "concurrent_jobs", "2 jobs running", TimeSpan.FromSeconds(3)), StatusCode.ResourceExhausted },
        { new AccessDeniedException("not this key's tenant"), StatusCode.PermissionDenied },
        { new ServiceUnavailableException("shutting down"), StatusCode.Unavailable },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void DomainError_HasItsStatus_AndKeepsItsMessage(Exception error, StatusCode code)
    {
        var mapped = ErrorMapping.ToRpcException(error, callCancelled: false, "coordinator")!;

        Assert.Equal(code, mapped.StatusCode);
        Assert.Equal(error.Message, mapped.Status.Detail);
        Assert.False(ErrorMapping.IsUnexpected(error, callCancelled: false));
    }

    [Fact]
    public void Validation_NamesEveryField_InBadRequestAndInTheMessage()
    {
        var error = new RequestValidationException([new("job.duration_seconds", "must be at most 600"), new("job.look", "unknown look 'sepia'")]);

        var status = ErrorMapping.ToRpcException(error, callCancelled: false, "worker")!.GetRpcStatus()!;

        Assert.Equal(["job.duration_seconds", "job.look"], status.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field));
        Assert.Equal("job.duration_seconds: must be at most 600; job.look: unknown look 'sepia'", status.Message);
    }

    [Fact]
    public void ResourceExhausted_WithoutQuotaOrDelay_HasNoDetails()
    {
        var status = ErrorMapping.ToRpcException(new ResourceExhaustedException("busy"), callCancelled: false, "worker")!.GetRpcStatus();

        Assert.True(status is null || status.Details.Count == 0);
    }

    [Fact]
    public void StatusesThrownAtTheEdge_PassUnchanged()
    {
        Assert.Null(ErrorMapping.ToRpcException(new RpcException(new Grpc.Core.Status(StatusCode.Unauthenticated, "no key")), callCancelled: false, "coordinator"));
    }

    [Fact]
    public void Bug_IsInternal_NamingOnlyTheType()
    {
        var bug = new InvalidOperationException("secret path /var/lib/videogen/key");

        var mapped = ErrorMapping.ToRpcException(bug, callCancelled: false, "worker")!;

        Assert.Equal(StatusCode.Internal, mapped.StatusCode);
        Assert.Equal("internal error (InvalidOperationException); see the worker log", mapped.Status.Detail);
        Assert.True(ErrorMapping.IsUnexpected(bug, callCancelled: false));
    }

    [Fact]
    public void Cancellation_IsCancelled_OnlyWhenTheCallWasCancelled()
    {
        Assert.Equal(StatusCode.Cancelled, ErrorMapping.ToRpcException(new OperationCanceledException(), callCancelled: true, "coordinator")!.StatusCode);
        Assert.Equal(StatusCode.Internal, ErrorMapping.ToRpcException(new OperationCanceledException(), callCancelled: false, "coordinator")!.StatusCode);
    }
}
