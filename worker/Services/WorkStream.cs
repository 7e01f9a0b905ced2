using System.Threading.Channels;
using Grpc.Core;
using VideoGen.Contracts.V1;

namespace VideoGen.Worker.Services;

/// <summary>
/// The worker's end of one Work stream: the attempts on it write their events through <see cref="For"/>, tagged with
/// their attempt, into one queue; one loop sends the queue in batches (a gRPC stream allows one pending write). The
/// executions never wait on the stream: a write only queues. Once the stream has ended, a write throws, so the attempt's
/// <see cref="TaskEventStream"/> detaches, as it does from a broken RunTask stream.
/// </summary>
internal sealed class WorkStream : IAsyncDisposable
{
    // Under the worker's 4 MiB send limit with room to spare; a task event is well under a KiB.
    private const int MaxBatchBytes = 1 << 20;
    private const int MaxBatchEvents = 1024;

    private readonly Channel<WorkEvent> _outbound = Channel.CreateUnbounded<WorkEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IAsyncStreamWriter<WorkResponse> _responses;
    private readonly CancellationToken _cancellationToken;
    private readonly Task _sender;
    private readonly object _gate = new();
    private readonly List<Task> _attempts = [];

    public WorkStream(IAsyncStreamWriter<WorkResponse> responses, CancellationToken cancellationToken)
    {
        _responses = responses;
        _cancellationToken = cancellationToken;
        _sender = Task.Run(SendAsync, CancellationToken.None);
    }

    /// <summary>The stream of one attempt's events, as RunTask would write them.</summary>
    public IAsyncStreamWriter<TaskEvent> For(RunTaskRequest request) => new AttemptWriter(this, request.JobId, request.TaskId, request.Attempt);

    /// <summary>Reports that <paramref name="request"/> did not start, with the status RunTask would have ended with.</summary>
    public void Refuse(RunTaskRequest request, StatusCode code, string message) =>
        Queue(new WorkEvent { JobId = request.JobId, TaskId = request.TaskId, Attempt = request.Attempt, Refused = new AttemptRefused { Code = (int)code, Message = message } });

    /// <summary>Keeps <paramref name="attempt"/> (the task writing one attempt's events) so the stream can wait for it.</summary>
    public void Track(Task attempt)
    {
        lock (_gate)
        {
            _attempts.RemoveAll(t => t.IsCompleted);
            _attempts.Add(attempt);
        }
    }

    /// <summary>Completes when every attempt on the stream has written its terminal event or detached.</summary>
    public Task AttemptsEndedAsync()
    {
        lock (_gate)
        {
            return Task.WhenAll(_attempts);
        }
    }

    private void Queue(WorkEvent attemptEvent)
    {
        if (!_outbound.Writer.TryWrite(attemptEvent))
        {
            throw new InvalidOperationException("the work stream has ended");
        }
    }

    private async Task SendAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_cancellationToken))
            {
                var batch = new WorkResponse();
                var bytes = 0;
                while (bytes < MaxBatchBytes && batch.Events.Count < MaxBatchEvents && reader.TryRead(out var next))
                {
                    batch.Events.Add(next);
                    bytes += next.CalculateSize();
                }

                await _responses.WriteAsync(batch, _cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or RpcException)
        {
            // The coordinator went away: the attempts detach at their next write (the queue is closed below).
        }
        finally
        {
            _outbound.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outbound.Writer.TryComplete();
        await _sender;
    }

    private sealed class AttemptWriter(WorkStream stream, string jobId, string taskId, int attempt) : IAsyncStreamWriter<TaskEvent>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(TaskEvent message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(TaskEvent message, CancellationToken cancellationToken)
        {
            stream.Queue(new WorkEvent { JobId = jobId, TaskId = taskId, Attempt = attempt, Event = message });
            return Task.CompletedTask;
        }
    }
}
