using System.Threading.Channels;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// One stream's view of an execution: accepted, (on attach) the latest progress and the artifacts so far, then the
/// live events and the terminal event. Dispose to detach; the execution goes on.
/// </summary>
public sealed class TaskSubscription : IDisposable
{
    // Not SingleReader: the multi-reader kind can count its backlog.
    private readonly Channel<ExecutionEvent> _events = Channel.CreateUnbounded<ExecutionEvent>();
    private int _disposed;

    internal TaskSubscription(TaskExecution execution) => Execution = execution;

    /// <summary>The execution this stream reports.</summary>
    public TaskExecution Execution { get; }

    /// <summary>The events to write, in order; completes after the terminal event (or at detach).</summary>
    public ChannelReader<ExecutionEvent> Events => _events.Reader;

    internal int Backlog => _events.Reader.Count;

    internal void Write(ExecutionEvent executionEvent) => _events.Writer.TryWrite(executionEvent);

    internal void Complete() => _events.Writer.TryComplete();

    /// <summary>Detaches; true when the stream left before its terminal event was queued (the execution goes on).</summary>
    public bool Detach() => Interlocked.Exchange(ref _disposed, 1) == 0 && Execution.Unsubscribe(this);

    /// <inheritdoc />
    public void Dispose() => Detach();
}
