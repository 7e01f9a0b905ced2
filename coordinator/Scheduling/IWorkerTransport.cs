using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>How the orchestrator reaches a worker: one task attempt as a stream of events.</summary>
public interface IWorkerTransport
{
    /// <summary>Runs one attempt; cancelling <paramref name="cancellationToken"/> stops it on the worker.</summary>
    IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, CancellationToken cancellationToken);
}

/// <summary>The gRPC transport: one cached channel per worker address, many concurrent streams per channel.</summary>
public sealed class GrpcWorkerTransport : IWorkerTransport, IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public async IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = _channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            },
        }));
        var client = new WorkerService.WorkerServiceClient(channel);
        using var call = client.RunTask(request, cancellationToken: cancellationToken);
        await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            yield return e;
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
