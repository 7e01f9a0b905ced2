using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The I/O of attempts, outside the loop: starts each through the transport (<see cref="IWorkerTransport.Start"/>) and,
/// as the transport's sink, posts what comes back into the loop — a worker's batch of events as one command
/// (<see cref="AttemptEvents"/>), a stream that ended without a result as <see cref="AttemptBroken"/>. It touches no
/// farm state; the loop decides what every report means.
/// </summary>
internal sealed class AttemptRunner(IWorkerTransport transport, Action<Command> post) : IAttemptSink
{
    /// <summary>Starts the attempt (after the commit that recorded it); returns at once, and never throws into the loop.</summary>
    public void Start(StartAttempt s)
    {
        try
        {
            transport.Start(s.Address, s.Request, this, s.Token);
        }
        catch (Exception ex)
        {
            // The transport could not even queue it (a channel to that address cannot be made): the attempt's stream is lost.
            OnBroken(s.Request, ex as AttemptBrokenException ?? new AttemptBrokenException(AttemptBreak.StreamLost, $"lost the task's stream: {ex.Message}", ex));
        }
    }

    public void OnEvents(IReadOnlyList<WorkEvent> events) => post(new AttemptEvents(events));

    public void OnBroken(RunTaskRequest request, AttemptBrokenException error) =>
        post(new AttemptBroken(request.JobId, request.TaskId, request.Attempt, error.Kind, error.Message));
}
