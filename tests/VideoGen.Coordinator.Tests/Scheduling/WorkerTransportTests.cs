using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// The gRPC transport turns a worker's status into the scheduler's reason (<see cref="AttemptBreak"/>); the orchestrator
/// decides on that reason alone, never on a status code.
/// </summary>
public sealed class WorkerTransportTests
{
    [Theory]
    [InlineData(StatusCode.ResourceExhausted, AttemptBreak.WorkerBusy)]
    [InlineData(StatusCode.FailedPrecondition, AttemptBreak.WorkerDraining)]
    [InlineData(StatusCode.InvalidArgument, AttemptBreak.Rejected)]
    [InlineData(StatusCode.Unavailable, AttemptBreak.WorkerUnreachable)]
    [InlineData(StatusCode.Internal, AttemptBreak.StreamLost)]
    [InlineData(StatusCode.DeadlineExceeded, AttemptBreak.StreamLost)]
    [InlineData(StatusCode.Unknown, AttemptBreak.StreamLost)]
    public void Status_IsReadAsTheSchedulersReason(StatusCode code, AttemptBreak expected)
    {
        var broken = GrpcWorkerTransport.Broken(new RpcException(new Status(code, "detail")));

        Assert.Equal(expected, broken.Kind);
        Assert.Equal(expected, GrpcWorkerTransport.Classify(code));
    }

    [Fact]
    public void LostStream_SaysSo_WithTheStatus()
    {
        Assert.Equal("lost the task's stream (Unavailable): connection reset",
            GrpcWorkerTransport.Broken(new RpcException(new Status(StatusCode.Unavailable, "connection reset"))).Message);
    }

    [Fact]
    public async Task BusyWorker_RequeuesTheTask_WithoutCountingAFailure()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");
        var first = await h.Transport.NextAsync();

        first.Refuse(StatusCode.ResourceExhausted, "worker w1: all 1 slots are busy");
        // The task waits a moment for the slot to free (fake time), then goes out again.
        await h.WaitForStateAsync(job.JobId, j => j.Tasks.Single(t => t.TaskId == first.TaskId).State == TaskState.Ready);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        var again = await h.Transport.NextAsync();

        Assert.Equal((first.TaskId, first.Request.Attempt + 1), (again.TaskId, again.Request.Attempt));
        Assert.Equal(0, h.Orchestrator.GetJob(job.JobId)!.Tasks.Single(t => t.TaskId == first.TaskId).Failures);
    }

    [Fact]
    public async Task RejectedRequest_FailsTheJob_WithoutRetrying()
    {
        await using var h = new OrchestratorHarness();
        await h.JoinAsync("w1", slots: 1);
        await h.JoinAsync("w2", slots: 1);
        var job = await h.SubmitAsync("a 5 second showcase for a watch");
        var first = await h.Transport.NextAsync();

        first.Refuse(StatusCode.InvalidArgument, "storyboard.prompt: is required");
        var failed = await h.WaitForStateAsync(job.JobId, j => j.State == JobState.Failed);

        Assert.Contains("worker rejected the task: storyboard.prompt: is required", failed.Error);
        Assert.Equal(1, failed.Tasks.Single(t => t.TaskId == first.TaskId).Attempt);
    }
}
