using Grpc.Core;
using VideoGen.Cli.Client;
using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Tests;

public class JobWatcherTests
{
    [Fact]
    public async Task Watch_StreamBreaks_ResumesAfterLastSequenceWithoutLossOrDuplicates()
    {
        var invoker = new ScriptedWatchInvoker(
        [
            // First stream: two events, then the connection drops.
            new([Events.State(1, JobState.Planning), Events.State(2, JobState.Rendering)], new RpcException(new Status(StatusCode.Unavailable, "gone"))),
            // Second stream: the server repeats event 2 (must be dropped), then the rest.
            new([Events.State(2, JobState.Rendering), Events.Chunk(3, 0, TaskState.Running, "worker-1", 1, 0.5),
                 Events.State(4, JobState.Succeeded, 0.25, "file:///tmp/x.mp4", 5)], null),
        ]);
        var output = new StringWriter();
        var model = new ProgressModel("job-1");

        await new JobWatcher(new JobService.JobServiceClient(invoker), TimeProvider.System)
            .WatchAsync(model, new PlainWatchOutput(output, TextWriter.Null), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([0L, 2L], invoker.AfterSequences);
        Assert.Equal(
            ["[seq 1] job planning cost $0.000", "[seq 2] job rendering cost $0.000",
             "[seq 3] chunk-0 running on worker-1 (attempt 1) 50%",
             "[seq 4] job succeeded cost $0.250 5.0 s -> file:///tmp/x.mp4",
             "job succeeded 5.0 s -> file:///tmp/x.mp4"],
            output.ToString().TrimEnd().Split(Environment.NewLine));
    }

    [Fact]
    public async Task Watch_NotFound_IsNotRetried()
    {
        var invoker = new ScriptedWatchInvoker([new([], new RpcException(new Status(StatusCode.NotFound, "no job")))]);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new JobWatcher(new JobService.JobServiceClient(invoker), TimeProvider.System)
                .WatchAsync(new ProgressModel("job-1"), new PlainWatchOutput(TextWriter.Null, TextWriter.Null), CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Single(invoker.AfterSequences);
    }

    internal sealed record ScriptedStream(IReadOnlyList<JobEvent> Events, RpcException? EndsWith);

    /// <summary>Answers WatchJob with the scripted streams in turn, GetJob with an empty job.</summary>
    private sealed class ScriptedWatchInvoker(IReadOnlyList<ScriptedStream> streams) : CallInvoker
    {
        private int _next;

        public List<long> AfterSequences { get; } = [];

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            AfterSequences.Add(((WatchJobRequest)(object)request).AfterSequence);
            var stream = streams[Math.Min(_next++, streams.Count - 1)];
            var reader = new ScriptedReader(stream.Events, stream.EndsWith);
            return new AsyncServerStreamingCall<TResponse>(
                (IAsyncStreamReader<TResponse>)(object)reader,
                Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            var response = (TResponse)(object)new GetJobResponse { Job = new Job { JobId = "job-1" } };
            return new AsyncUnaryCall<TResponse>(
                Task.FromResult(response), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) =>
            throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) =>
            throw new NotSupportedException();
    }

    private sealed class ScriptedReader(IReadOnlyList<JobEvent> events, RpcException? endsWith) : IAsyncStreamReader<JobEvent>
    {
        private int _index = -1;

        public JobEvent Current => events[_index];

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            _index++;
            if (_index < events.Count)
            {
                return Task.FromResult(true);
            }
            return endsWith is null ? Task.FromResult(false) : Task.FromException<bool>(endsWith);
        }
    }
}
