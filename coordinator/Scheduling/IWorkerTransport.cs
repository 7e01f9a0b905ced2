using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>How the orchestrator reaches a worker: one task attempt as a stream of events.</summary>
public interface IWorkerTransport
{
    /// <summary>
    /// Runs one attempt as a stream of its events. Cancelling <paramref name="cancellationToken"/> ends the stream;
    /// the worker keeps the task going (a later attempt re-attaches to it) until <see cref="CancelTaskAsync"/>.
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

/// <summary>
/// The gRPC transport: one cached channel per worker address, many concurrent streams per channel. Every call carries
/// the worker token (<paramref name="workerToken"/>, when the farm has one): workers take calls from their coordinator only.
/// </summary>
public sealed class GrpcWorkerTransport(string workerToken = "", VideoGen.Security.TlsSettings? tls = null) : IWorkerTransport, IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly Metadata? _headers = workerToken.Length == 0 ? null : new Metadata { { VideoGen.Security.WorkerToken.Header, VideoGen.Security.WorkerToken.HeaderValue(workerToken) } };

    public async IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var client = new WorkerService.WorkerServiceClient(Channel(address));
        using var call = client.RunTask(request, _headers, cancellationToken: cancellationToken);
        await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            yield return e;
        }
    }

    public async Task<ProviderUsage?> CancelTaskAsync(string address, string jobId, string taskId, string reason, bool keepProviderRequest, CancellationToken cancellationToken)
    {
        try
        {
            var client = new WorkerService.WorkerServiceClient(Channel(address));
            // Long enough for the worker to cancel the provider request and read what it was billed.
            var response = await client.CancelTaskAsync(
                new CancelTaskRequest { JobId = jobId, TaskId = taskId, Reason = reason, KeepProviderRequest = keepProviderRequest },
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
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
