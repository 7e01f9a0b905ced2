using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Services;

/// <summary>
/// Writes one stream's view of a task execution (<see cref="TaskSubscription"/>): accepted, progress and artifacts,
/// then exactly one completed or failed. One loop writes, because a gRPC stream allows one pending write. The
/// execution never waits on the stream: a slow stream misses intermediate progress, a broken one only detaches.
/// </summary>
public static class TaskEventStream
{
    /// <summary>
    /// Writes <paramref name="subscription"/>'s events to <paramref name="stream"/> until the terminal event was
    /// written (true) or the call ended first (false: cancelled or broken — the stream detached, the execution goes
    /// on). A terminal event is reported to <paramref name="executions"/> as it is written (a failure sent to a stream is not kept).
    /// </summary>
    public static async Task<bool> WriteAsync(
        TaskSubscription subscription,
        IAsyncStreamWriter<TaskEvent> stream,
        TaskExecutions executions,
        CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var executionEvent in subscription.Events.ReadAllAsync(cancellationToken))
            {
                var terminal = executionEvent.IsTerminal;
                if (terminal)
                {
                    // Before the write: the coordinator may act on the event (retry a failure) before this call ends.
                    executions.TerminalSending(subscription.Execution);
                }

                await stream.WriteAsync(TaskEventMapper.ToProto(executionEvent), cancellationToken);
                if (terminal)
                {
                    return true;
                }
            }

            // Completed without a terminal event: only when the subscription was detached under us.
            return false;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or RpcException)
        {
            // The caller went away (coordinator restart, dropped connection, call cancelled): detach only.
            return false;
        }
        finally
        {
            subscription.Dispose();
        }
    }
}
