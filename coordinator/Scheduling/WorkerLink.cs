using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The coordinator's end of one worker's Work stream: one long-lived HTTP/2 stream that carries every attempt sent to
/// the worker, batched both ways. Attempts queue their requests (<see cref="TryStart"/>); one loop sends the queue in
/// batches, one reads the worker's batches and hands each to the attempts' sinks whole (one call per batch, not per
/// event). When the stream breaks, every attempt on it breaks the way a broken RunTask stream would
/// (<see cref="AttemptBrokenException"/>), and the link is done: the transport opens a new one for the next attempt.
/// </summary>
internal sealed class WorkerLink : IDisposable
{
    // Under the worker's 1 MiB receive limit; a task request is a few KiB at most.
    private const int MaxBatchBytes = 512 << 10;
    private const int MaxBatchTasks = 1024;

    private readonly Channel<RunTaskRequest> _outbound = Channel.CreateUnbounded<RunTaskRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<AttemptKey, Attempt> _attempts = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly AsyncDuplexStreamingCall<WorkRequest, WorkResponse> _call;
    private readonly Action<RunTaskRequest, IAttemptSink, CancellationToken> _unsupported;
    private readonly object _gate = new();
    private Exception? _broken;

    /// <param name="client">The worker's client, on its cached channel.</param>
    /// <param name="headers">Sent with the stream (the worker token).</param>
    /// <param name="unsupported">Where the link's attempts go when the worker does not serve Work at all (an older worker): RunTask calls.</param>
    public WorkerLink(WorkerService.WorkerServiceClient client, Metadata? headers, Action<RunTaskRequest, IAttemptSink, CancellationToken> unsupported)
    {
        _unsupported = unsupported;
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

    /// <summary>
    /// Registers the attempt and queues its request; its events go to <paramref name="sink"/> until its result, a break
    /// (<see cref="IAttemptSink.OnBroken"/>) or <paramref name="token"/>'s cancel. False when the link broke already.
    /// </summary>
    public bool TryStart(RunTaskRequest request, IAttemptSink sink, CancellationToken token)
    {
        var key = new AttemptKey(request.JobId, request.TaskId, request.Attempt);
        var attempt = new Attempt(this, key, request, sink, token);
        lock (_gate)
        {
            if (_broken is not null)
            {
                return false;
            }

            _attempts[key] = attempt;
        }

        // Cancelled: its events are dropped from now on (the worker keeps the task until told to cancel it).
        attempt.Registration = token.UnsafeRegister(static a => ((Attempt)a!).Forget(), attempt);
        _outbound.Writer.TryWrite(request);
        return true;
    }

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
                Route(responses.Current.Events);
            }

            Break(new AttemptBrokenException(AttemptBreak.StreamLost, "lost the task's stream: the worker ended its work stream"));
        }
        catch (Exception ex)
        {
            Break(ex);
        }
    }

    /// <summary>Hands one batch from the worker to the attempts' sinks: each sink's events in one call, in the worker's order.</summary>
    private void Route(IReadOnlyList<WorkEvent> batch)
    {
        IAttemptSink? sink = null;
        List<WorkEvent>? events = null;
        foreach (var e in batch)
        {
            var key = new AttemptKey(e.JobId, e.TaskId, e.Attempt);
            if (!_attempts.TryGetValue(key, out var attempt))
            {
                continue; // ended, cancelled or never ours: dropped
            }

            if (attempt.Sink != sink && events is { Count: > 0 })
            {
                sink!.OnEvents(events);
                events = null;
            }

            sink = attempt.Sink;
            if (e.BodyCase == WorkEvent.BodyOneofCase.Refused)
            {
                // The worker did not start it: the attempt ends with the status its RunTask call would have had.
                if (attempt.End())
                {
                    if (events is { Count: > 0 })
                    {
                        sink.OnEvents(events);
                        events = null;
                    }

                    sink.OnBroken(attempt.Request, GrpcWorkerTransport.Broken(new RpcException(new Status((StatusCode)e.Refused.Code, e.Refused.Message))));
                }

                continue;
            }

            if (e.Event is null)
            {
                continue; // neither an event nor a refusal: nothing to report (a malformed message costs no attempt)
            }

            if (e.Event.EventCase is TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed && !attempt.End())
            {
                continue; // its result was routed already
            }

            (events ??= new List<WorkEvent>(batch.Count)).Add(e);
        }

        if (events is { Count: > 0 })
        {
            sink!.OnEvents(events);
        }
    }

    /// <summary>Ends the link: every attempt on it breaks as its own RunTask stream would have.</summary>
    private void Break(Exception error)
    {
        AttemptBrokenException broken;
        bool unimplemented;
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
            unimplemented = error is RpcException { StatusCode: StatusCode.Unimplemented };
            _broken = broken;
        }

        // No attempt joins after _broken is set; each one on the link ends here exactly once.
        _outbound.Writer.TryComplete();
        foreach (var attempt in _attempts.Values)
        {
            if (!attempt.End())
            {
                continue;
            }

            if (unimplemented)
            {
                // An older worker without Work saw nothing of the attempt: it goes by RunTask.
                if (!attempt.Token.IsCancellationRequested)
                {
                    _unsupported(attempt.Request, attempt.Sink, attempt.Token);
                }
            }
            else
            {
                attempt.Sink.OnBroken(attempt.Request, broken);
            }
        }

        _stop.Cancel();
    }

    public void Dispose()
    {
        Break(new AttemptBrokenException(AttemptBreak.StreamLost, "lost the task's stream: the coordinator closed its work stream"));
        _call.Dispose();
    }

    private readonly record struct AttemptKey(string JobId, string TaskId, int Attempt);

    /// <summary>One attempt on the link, from its start to its result, break or cancel.</summary>
    private sealed class Attempt(WorkerLink link, AttemptKey key, RunTaskRequest request, IAttemptSink sink, CancellationToken token)
    {
        public RunTaskRequest Request { get; } = request;

        public IAttemptSink Sink { get; } = sink;

        public CancellationToken Token { get; } = token;

        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Takes the attempt off the link; true for the one caller that did (its result, a refusal or the break).</summary>
        public bool End()
        {
            if (!link._attempts.TryRemove(new KeyValuePair<AttemptKey, Attempt>(key, this)))
            {
                return false;
            }

            Registration.Unregister();
            return true;
        }

        /// <summary>Its caller gave up on it: nothing more is routed to it.</summary>
        public void Forget() => link._attempts.TryRemove(new KeyValuePair<AttemptKey, Attempt>(key, this));
    }
}
