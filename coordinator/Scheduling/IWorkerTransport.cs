using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>Why an attempt's stream ended without a result, in the scheduler's terms (the transport decides which).</summary>
public enum AttemptBreak
{
    /// <summary>The stream broke (the worker died mid-task, a reset, a timeout): the attempt counts as a failure.</summary>
    StreamLost,

    /// <summary>The worker had no free slot when the attempt arrived: not the task's fault.</summary>
    WorkerBusy,

    /// <summary>The worker is draining and takes nothing new: not the task's fault; the worker is drained here too.</summary>
    WorkerDraining,

    /// <summary>The worker refused the request itself as malformed: retrying it elsewhere would fail the same way.</summary>
    Rejected,

    /// <summary>The worker cannot be reached at all: the attempt fails and the worker gets nothing more until it is back.</summary>
    WorkerUnreachable,

    /// <summary>
    /// The worker has seen a newer coordinator epoch: this coordinator was deposed. Not the task's fault; its next commit
    /// fails and the process stops (the new leader runs the task).
    /// </summary>
    Fenced,
}

/// <summary>An attempt's stream ended without a result; thrown by <see cref="IWorkerTransport.RunTaskAsync"/>.</summary>
public sealed class AttemptBrokenException(AttemptBreak kind, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public AttemptBreak Kind { get; } = kind;
}

/// <summary>
/// Where a transport hands the events of the attempts it runs (<see cref="IWorkerTransport.Start"/>): the scheduler's
/// mailbox. Called from the transport's threads; each call only queues.
/// </summary>
public interface IAttemptSink
{
    /// <summary>
    /// Events of attempts started with this sink, each tagged with its attempt, in the order each attempt's worker sent
    /// them: one call per batch the worker sent. An attempt's last event is its result (completed or failed).
    /// </summary>
    void OnEvents(IReadOnlyList<WorkEvent> events);

    /// <summary>The attempt's stream ended without a result, for the reason <paramref name="error"/> gives.</summary>
    void OnBroken(RunTaskRequest request, AttemptBrokenException error);
}

/// <summary>How the orchestrator reaches a worker: one task attempt as a stream of events.</summary>
public interface IWorkerTransport
{
    /// <summary>
    /// Starts one attempt and returns at once: its events go to <paramref name="sink"/> as they arrive, then its result,
    /// or <see cref="IAttemptSink.OnBroken"/> when its stream ends without one. Once <paramref name="cancellationToken"/>
    /// is cancelled the attempt reports nothing more (an event already on its way may still arrive: the scheduler refuses
    /// reports from an attempt that no longer owns its task). The default streams <see cref="RunTaskAsync"/> on the
    /// thread pool; the gRPC transport puts the attempt on its worker's Work stream, whose batches arrive whole.
    /// </summary>
    void Start(string address, RunTaskRequest request, IAttemptSink sink, CancellationToken cancellationToken) =>
        _ = Task.Run(() => AttemptPump.RunAsync(RunTaskAsync(address, request, cancellationToken), request, sink, cancellationToken), CancellationToken.None);

    /// <summary>
    /// Runs one attempt as a stream of its events. Cancelling <paramref name="cancellationToken"/> ends the stream;
    /// the worker keeps the task going (a later attempt re-attaches to it) until <see cref="CancelTaskAsync"/>.
    /// A stream that ends without a result throws <see cref="AttemptBrokenException"/> saying why (any other
    /// exception counts as <see cref="AttemptBreak.StreamLost"/>).
    /// </summary>
    IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Stops a task on a worker (best effort: an unreachable worker has stopped it already). <paramref name="keepProviderRequest"/>:
    /// the task runs again, so its provider request stays running for the next attempt to resume. Returns the provider
    /// request the cancel ended (billed for what it ran), or null.
    /// </summary>
    Task<ProviderUsage?> CancelTaskAsync(string address, string jobId, string taskId, string reason, bool keepProviderRequest, CancellationToken cancellationToken) =>
        Task.FromResult<ProviderUsage?>(null);

    /// <summary>Tells a worker to drain (best effort: an unreachable worker is drained at the coordinator all the same).</summary>
    Task DrainAsync(string address, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Streams one attempt's events (<see cref="IWorkerTransport.RunTaskAsync"/>) into a sink, as <see cref="IWorkerTransport.Start"/> promises.</summary>
public static class AttemptPump
{
    /// <summary>Returns when the stream ends or <paramref name="token"/> stops it; never throws.</summary>
    public static async Task RunAsync(IAsyncEnumerable<TaskEvent> events, RunTaskRequest request, IAttemptSink sink, CancellationToken token)
    {
        var finished = false;
        try
        {
            await foreach (var e in events)
            {
                finished |= e.EventCase is TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed;
                sink.OnEvents([new WorkEvent { JobId = request.JobId, TaskId = request.TaskId, Attempt = request.Attempt, Event = e }]);
            }

            if (!finished)
            {
                sink.OnBroken(request, new AttemptBrokenException(AttemptBreak.StreamLost, "lost the task's stream: the worker ended it without a result"));
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Cancelled by its caller (job cancelled, lease lost), who already moved on.
        }
        catch (AttemptBrokenException ex)
        {
            sink.OnBroken(request, ex);
        }
        catch (Exception ex)
        {
            sink.OnBroken(request, new AttemptBrokenException(AttemptBreak.StreamLost, $"lost the task's stream: {ex.Message}", ex));
        }
    }
}

/// <summary>
/// The gRPC transport: one cached channel per worker address. Attempts travel on one long-lived Work stream per worker
/// (<see cref="WorkerLink"/>), batched both ways; a worker that does not serve Work (an older one), or a transport made
/// with <paramref name="workStreams"/> false, gets one RunTask call per attempt. Every call carries the worker token
/// (<paramref name="workerToken"/>, when the farm has one): workers take calls from their coordinator only.
/// </summary>
public sealed class GrpcWorkerTransport(string workerToken = "", VideoGen.Security.TlsSettings? tls = null, Leadership.Leadership? leadership = null, bool workStreams = true) : IWorkerTransport, IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, WorkerLink> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _callsOnly = new(StringComparer.Ordinal);
    private readonly Metadata? _headers = workerToken.Length == 0 ? null : new Metadata { { VideoGen.Security.WorkerToken.Header, VideoGen.Security.WorkerToken.HeaderValue(workerToken) } };

    /// <summary>Puts the attempt on the worker's Work stream (its events arrive in the worker's batches), or a RunTask call.</summary>
    public void Start(string address, RunTaskRequest request, IAttemptSink sink, CancellationToken cancellationToken)
    {
        // Fencing: the worker refuses a task from an epoch older than one it has seen.
        request.CoordinatorEpoch = leadership?.Epoch ?? 0;
        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        if (!workStreams || _callsOnly.ContainsKey(address))
        {
            StartCall(address, request, sink, cancellationToken);
            return;
        }

        // A link that broke in between takes nothing: the next look replaces it.
        while (!Link(address).TryStart(request, sink, cancellationToken))
        {
        }
    }

    public IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, CancellationToken cancellationToken)
    {
        request.CoordinatorEpoch = leadership?.Epoch ?? 0; // fencing, as in Start
        return workStreams && !_callsOnly.ContainsKey(address)
            ? RunOnLinkAsync(address, request, cancellationToken)
            : RunCallAsync(address, request, cancellationToken);
    }

    /// <summary>One attempt on the worker's Work stream, read as its own RunTask call would stream it.</summary>
    private async IAsyncEnumerable<TaskEvent> RunOnLinkAsync(string address, RunTaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sink = new ChannelSink();
        Start(address, request, sink, cancellationToken);
        var events = sink.Events.Reader;
        while (await events.WaitToReadAsync(cancellationToken))
        {
            while (events.TryRead(out var next))
            {
                yield return next;
                if (next.EventCase is TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed)
                {
                    yield break;
                }
            }
        }

        throw new AttemptBrokenException(AttemptBreak.StreamLost, "lost the task's stream: the work stream ended");
    }

    /// <summary>One attempt as its own RunTask call, streamed into its sink.</summary>
    private void StartCall(string address, RunTaskRequest request, IAttemptSink sink, CancellationToken cancellationToken) =>
        _ = Task.Run(() => AttemptPump.RunAsync(RunCallAsync(address, request, cancellationToken), request, sink, cancellationToken), CancellationToken.None);

    /// <summary>A worker that does not serve Work (an older one) saw nothing of the link's attempts: they go by RunTask from now on.</summary>
    private void FallBack(string address, RunTaskRequest request, IAttemptSink sink, CancellationToken cancellationToken)
    {
        _callsOnly[address] = true;
        StartCall(address, request, sink, cancellationToken);
    }

    /// <summary>An attempt's events as a channel, for <see cref="RunTaskAsync"/>; a break completes it with the break.</summary>
    private sealed class ChannelSink : IAttemptSink
    {
        public System.Threading.Channels.Channel<TaskEvent> Events { get; } =
            System.Threading.Channels.Channel.CreateUnbounded<TaskEvent>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });

        public void OnEvents(IReadOnlyList<WorkEvent> events)
        {
            foreach (var e in events)
            {
                Events.Writer.TryWrite(e.Event);
            }
        }

        public void OnBroken(RunTaskRequest request, AttemptBrokenException error) => Events.Writer.TryComplete(error);
    }

    /// <summary>The worker's link; a new one when there is none or the last one broke (one at a time: each opens a stream).</summary>
    private WorkerLink Link(string address)
    {
        if (_links.TryGetValue(address, out var link) && !link.IsBroken)
        {
            return link;
        }

        lock (_links)
        {
            if (_links.TryGetValue(address, out link))
            {
                if (!link.IsBroken)
                {
                    return link;
                }

                link.Dispose();
            }

            return _links[address] = new WorkerLink(new WorkerService.WorkerServiceClient(Channel(address)), _headers, (r, sink, token) => FallBack(address, r, sink, token));
        }
    }

    /// <summary>One attempt as its own RunTask call (one HTTP/2 stream).</summary>
    private async IAsyncEnumerable<TaskEvent> RunCallAsync(string address, RunTaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var client = new WorkerService.WorkerServiceClient(Channel(address));
        using var call = client.RunTask(request, _headers, cancellationToken: cancellationToken);
        var stream = call.ResponseStream;
        while (true)
        {
            try
            {
                if (!await stream.MoveNext(cancellationToken))
                {
                    yield break;
                }
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Broken(ex);
            }

            yield return stream.Current;
        }
    }

    /// <summary>The scheduler's reading of a worker's status (the worker's statuses come from libs/VideoGen.Errors).</summary>
    public static AttemptBreak Classify(StatusCode code) => code switch
    {
        StatusCode.ResourceExhausted => AttemptBreak.WorkerBusy,
        StatusCode.FailedPrecondition => AttemptBreak.WorkerDraining,
        StatusCode.Aborted => AttemptBreak.Fenced,
        StatusCode.InvalidArgument => AttemptBreak.Rejected,
        StatusCode.Unavailable => AttemptBreak.WorkerUnreachable,
        _ => AttemptBreak.StreamLost,
    };

    /// <summary>The exception for a status that ended a task's stream: its kind, and the status in the detail.</summary>
    public static AttemptBrokenException Broken(RpcException ex) => Classify(ex.StatusCode) switch
    {
        AttemptBreak.StreamLost or AttemptBreak.WorkerUnreachable => new(Classify(ex.StatusCode), $"lost the task's stream ({ex.StatusCode}): {ex.Status.Detail}", ex),
        var kind => new(kind, ex.Status.Detail, ex),
    };

    public async Task<ProviderUsage?> CancelTaskAsync(string address, string jobId, string taskId, string reason, bool keepProviderRequest, CancellationToken cancellationToken)
    {
        try
        {
            var client = new WorkerService.WorkerServiceClient(Channel(address));
            // Long enough for the worker to cancel the provider request and read what it was billed.
            var response = await client.CancelTaskAsync(
                new CancelTaskRequest { JobId = jobId, TaskId = taskId, Reason = reason, KeepProviderRequest = keepProviderRequest, CoordinatorEpoch = leadership?.Epoch ?? 0 },
                _headers,
                deadline: DateTime.UtcNow.AddSeconds(15),
                cancellationToken: cancellationToken);
            return response.Usage;
        }
        catch (RpcException)
        {
            // Unreachable or already gone: a worker that cannot be reached is not running the task for us anymore.
            return null;
        }
    }

    public async Task DrainAsync(string address, CancellationToken cancellationToken)
    {
        try
        {
            var client = new WorkerService.WorkerServiceClient(Channel(address));
            await client.DrainAsync(new DrainRequest(), _headers, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken);
        }
        catch (RpcException)
        {
            // Unreachable: the coordinator gives it nothing new all the same.
        }
    }

    private GrpcChannel Channel(string address) =>
        _channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            // An https:// worker is verified against Coordinator:Tls:CaFile; the coordinator's certificate is offered for mutual TLS.
            HttpHandler = (tls ?? new VideoGen.Security.TlsSettings()).ConfigureClient(new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            }),
        }));

    public void Dispose()
    {
        foreach (var link in _links.Values)
        {
            link.Dispose();
        }

        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
