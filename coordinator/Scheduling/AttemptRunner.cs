using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The I/O of one attempt, outside the loop: streams the attempt's events from its worker through the transport and
/// posts each into the loop (<see cref="AttemptEvent"/>), then <see cref="AttemptBroken"/> when the stream ended without
/// a result. It touches no farm state; the loop decides what every report means.
/// </summary>
internal sealed class AttemptRunner(IWorkerTransport transport, Action<Command> post)
{
    /// <summary>Starts the attempt on the thread pool (after the commit that recorded it).</summary>
    public void Start(string address, RunTaskRequest request, string jobId, string taskId, int attempt, CancellationToken token) =>
        _ = Task.Run(() => RunAsync(address, request, jobId, taskId, attempt, token));

    /// <summary>Streams one attempt into the loop; returns when the stream ends or <paramref name="token"/> stops it.</summary>
    public async Task RunAsync(string address, RunTaskRequest request, string jobId, string taskId, int attempt, CancellationToken token)
    {
        var finished = false;
        try
        {
            await foreach (var e in transport.RunTaskAsync(address, request, token))
            {
                finished |= e.EventCase is TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed;
                post(new AttemptEvent(jobId, taskId, attempt, e));
            }

            if (!finished)
            {
                post(new AttemptBroken(jobId, taskId, attempt, AttemptBreak.StreamLost, "lost the task's stream: the worker ended it without a result"));
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // We cancelled it (job cancelled, lease lost); the loop already moved on.
        }
        catch (AttemptBrokenException ex)
        {
            post(new AttemptBroken(jobId, taskId, attempt, ex.Kind, ex.Message));
        }
        catch (Exception ex)
        {
            post(new AttemptBroken(jobId, taskId, attempt, AttemptBreak.StreamLost, $"lost the task's stream: {ex.Message}"));
        }
    }
}
