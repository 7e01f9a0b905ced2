using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The coordinator's end of one worker's Work stream: one long-lived HTTP/2 stream that carries every attempt sent to
/// the worker, batched both ways. Attempts queue their requests (<see cref="TryStart"/>); one loop sends the queue in
/// batches, one reads the worker's batches and hands each event to its attempt's reader. When the stream breaks, every
/// attempt on it breaks the way a broken RunTask stream would (<see cref="AttemptBrokenException"/>), and the link is
/// done: the transport opens a new one for the next attempt.
/// </summary>
internal sealed class WorkerLink : IDisposable
{
    // Under the worker's 1 MiB receive limit; a task request is a few KiB at most.
    private const int MaxBatchBytes = 512 << 10;
    private const int MaxBatchTasks = 1024;

    private readonly Channel<RunTaskRequest> _outbound = Channel.CreateUnbounded<RunTaskRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<AttemptKey, Channel<WorkEvent>> _attempts = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly AsyncDuplexStreamingCall<WorkRequest, WorkResponse> _call;
    private readonly object _gate = new();
    private Exception? _broken;

    public WorkerLink(WorkerService.WorkerServiceClient client, Metadata? headers)
    {
        _call = client.Work(headers, cancellationToken: _stop.Token);
        _ = Task.Run(SendAsync, CancellationToken.None);
        _ = Task.Run(ReceiveAsync, CancellationToken.None);
    }

    /// <summary>Whether the stream has ended; a broken link takes no attempts.</summary>
    public bool IsBroken
    {
        get
        {
            lock (_gate)
            {
                return _broken is not null;
            }
        }
    }

    /// <summary>Whether the worker does not serve Work at all (an older worker): its attempts go by RunTask.</summary>
    public bool Unimplemented { get; private set; }

    /// <summary>
    /// Registers the attempt and queues its request; its events arrive on the returned reader, which completes with
    /// <see cref="AttemptBrokenException"/> when the stream breaks. Null when the link broke already.
    /// </summary>
    public ChannelReader<WorkEvent>? TryStart(RunTaskRequest request)
    {
        var key = new AttemptKey(request.JobId, request.TaskId, request.Attempt);
        // Synchronous continuations: the receive loop hands an event to the attempt's reader on its own thread (the
        // reader only posts it into the scheduler's mailbox), instead of one thread-pool hop per event.
        var events = Channel.CreateUnbounded<WorkEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
        lock (_gate)
        {
            if (_broken is not null)
            {
                return null;
            }

            _attempts[key] = events;
        }

        _outbound.Writer.TryWrite(request);
        return events.Reader;
    }

    /// <summary>Stops routing the attempt's events (it ended, or its caller gave up on it; the worker's events for it are dropped).</summary>
    public void Forget(RunTaskRequest request) =>
        _attempts.TryRemove(new AttemptKey(request.JobId, request.TaskId, request.Attempt), out _);

    private async Task SendAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                var batch = new WorkRequest();
                var bytes = 0;
                while (bytes < MaxBatchBytes && batch.Tasks.Count < MaxBatchTasks && reader.TryRead(out var next))
                {
                    batch.Tasks.Add(next);
                    bytes += next.CalculateSize();
                }

                await _call.RequestStream.WriteAsync(batch, _stop.Token);
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
    }

    private async Task ReceiveAsync()
    {
        try
        {
            var responses = _call.ResponseStream;
            while (await responses.MoveNext(_stop.Token))
            {
                foreach (var e in responses.Current.Events)
                {
                    if (_attempts.TryGetValue(new AttemptKey(e.JobId, e.TaskId, e.Attempt), out var events))
                    {
                        events.Writer.TryWrite(e);
                    }
                }
            }

            Break(new AttemptBrokenException(AttemptBreak.StreamLost, "lost the task's stream: the worker ended its work stream"));
        }
        catch (Exception ex)
        {
            Break(ex);
        }
    }

    /// <summary>Ends the link: every attempt on it breaks as its own RunTask stream would have.</summary>
    private void Break(Exception error)
    {
        AttemptBrokenException broken;
        lock (_gate)
        {
            if (_broken is not null)
            {
                return;
            }

            broken = error switch
            {
                AttemptBrokenException b => b,
                RpcException rpc => GrpcWorkerTransport.Broken(rpc),
                _ => new AttemptBrokenException(AttemptBreak.StreamLost, $"lost the task's stream: {error.Message}", error),
            };
            Unimplemented = error is RpcException { StatusCode: StatusCode.Unimplemented };
            _broken = broken;
        }

        _outbound.Writer.TryComplete();
        foreach (var events in _attempts.Values)
        {
            events.Writer.TryComplete(broken);
        }

        _stop.Cancel();
    }

    public void Dispose()
    {
        Break(new AttemptBrokenException(AttemptBreak.StreamLost, "lost the task's stream: the coordinator closed its work stream"));
        _call.Dispose();
    }

    private readonly record struct AttemptKey(string JobId, string TaskId, int Attempt);
}
