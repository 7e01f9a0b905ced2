using System.Threading.Channels;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Services;

/// <summary>
/// Runs one task attempt and streams its events: accepted, progress and artifacts, then exactly one completed
/// or failed. Producers post to a bounded channel and one loop writes the response stream, because a gRPC
/// stream allows one pending write. Cancelling the call cancels the task (the model wait, FFmpeg) and ends the
/// stream without a terminal event: the coordinator already gave up on this attempt.
/// </summary>
public static class TaskEventStream
{
    /// <summary>
    /// Runs <paramref name="work"/> and writes its events to <paramref name="stream"/>. <paramref name="slot"/> is
    /// released as soon as the work itself ends, before the terminal event is written: the coordinator may place
    /// its next task here the moment it reads "completed", and must not find the slot still taken.
    /// </summary>
    public static async Task RunAsync(
        TaskWork work,
        string workerId,
        TaskRunner runner,
        IAsyncStreamWriter<TaskEvent> stream,
        CancellationToken cancellationToken,
        IDisposable? slot = null)
    {
        var channel = Channel.CreateBounded<TaskEvent>(new BoundedChannelOptions(64)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var producerCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = ProduceAsync(work, workerId, runner, channel.Writer, slot, producerCancellation.Token);
        try
        {
            await foreach (var taskEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                await stream.WriteAsync(taskEvent, cancellationToken);
            }
        }
        finally
        {
            // A failed write (the caller went away) must stop the task too; the slot is freed only after it stopped.
            await producerCancellation.CancelAsync();
            await producer;
        }
    }

    private static async Task ProduceAsync(TaskWork work, string workerId, TaskRunner runner, ChannelWriter<TaskEvent> writer, IDisposable? slot, CancellationToken cancellationToken)
    {
        try
        {
            await writer.WriteAsync(new TaskEvent { Accepted = new TaskAccepted { WorkerId = workerId } }, cancellationToken);
            TaskEvent terminal;
            try
            {
                var result = await runner.RunAsync(work, new ChannelReporter(writer), cancellationToken);
                terminal = new TaskEvent { Completed = TaskOutcomes.ToCompleted(result) };
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                terminal = new TaskEvent { Failed = TaskOutcomes.ToFailed(ex) };
            }

            slot?.Dispose();
            await writer.WriteAsync(terminal, cancellationToken);
            writer.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
        }
    }

    private sealed class ChannelReporter(ChannelWriter<TaskEvent> writer) : ITaskReporter
    {
        public ValueTask ProgressAsync(double fraction, string step, CancellationToken cancellationToken) =>
            writer.WriteAsync(Progress(fraction, step), cancellationToken);

        public void TryProgress(double fraction, string step) => writer.TryWrite(Progress(fraction, step));

        public ValueTask ArtifactAsync(string name, string uri, long sizeBytes, CancellationToken cancellationToken) =>
            writer.WriteAsync(new TaskEvent { Artifact = new TaskArtifact { Name = name, Uri = uri, SizeBytes = sizeBytes } }, cancellationToken);

        private static TaskEvent Progress(double fraction, string step) =>
            new() { Progress = new TaskProgress { Fraction = Math.Clamp(fraction, 0, 1), Step = step } };
    }
}

/// <summary>Maps task outcomes to the contract: the one place that decides what is retryable.</summary>
public static class TaskOutcomes
{
    /// <summary>A successful attempt.</summary>
    public static TaskCompleted ToCompleted(TaskResult result) => new()
    {
        OutputUri = result.OutputUri,
        LastFrameUri = result.LastFrameUri,
        MediaSeconds = result.MediaSeconds,
        CostUsd = result.CostUsd,
        ModelSeconds = result.ModelSeconds,
        ElapsedSeconds = result.ElapsedSeconds,
        OutputUrl = result.OutputUrl,
    };

    /// <summary>
    /// A failed attempt: <see cref="PermanentTaskException"/> is not retryable, anything else is. The reason is the
    /// exception's message only, never a stack trace.
    /// </summary>
    public static TaskFailed ToFailed(Exception exception) => exception switch
    {
        PermanentTaskException permanent => new TaskFailed { Retryable = false, Reason = permanent.Message },
        _ => new TaskFailed { Retryable = true, Reason = $"{exception.GetType().Name}: {FirstLine(exception.Message)}" },
    };

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 500 ? line : line[..500];
    }
}
