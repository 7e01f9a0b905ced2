using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Tests;

/// <summary>
/// The Work stream (worker.proto): many attempts on one long-lived stream, each with RunTask's events in RunTask's order,
/// a refusal for what RunTask would refuse without ending the stream, and a broken stream that detaches its attempts
/// (the tasks go on, an attempt on a new stream attaches).
/// </summary>
public sealed class WorkStreamTests
{
    private static RunTaskRequest Chunk(int index, int attempt = 1) => WorkerServiceTests.ChunkRequest("", index: index, attempt: attempt);

    private static double ChunkRuns() => WorkerServiceTests.ChunkRuns();

    [Fact(Timeout = 60_000)]
    public async Task ManyAttemptsOnOneStream_EachInRunTaskOrder_AndRefusalsDoNotEndTheStream()
    {
        var token = Timeouts.After(50);
        var clock = new GatedClock(TimeSpan.FromSeconds(60));
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "2" }, token,
            services => services.AddSingleton<TimeProvider>(clock));
        await using var stream = new WorkClient(worker.Client, token);

        var malformed = Chunk(9);
        malformed.Chunk.ClipSeconds = 0;
        // Two take the slots; the third finds them busy; the fourth is malformed.
        await stream.SendAsync(Chunk(0), Chunk(1), Chunk(2), malformed);
        var busy = await stream.NextAsync("chunk-2");
        var rejected = await stream.NextAsync("chunk-9");

        Assert.Equal(((int)StatusCode.ResourceExhausted, "worker test-worker: all 2 slots are busy"), (busy.Refused.Code, busy.Refused.Message));
        Assert.Equal((int)StatusCode.InvalidArgument, rejected.Refused.Code);
        Assert.StartsWith("chunk.clip_seconds: ", rejected.Refused.Message);
        await clock.NextModelWaitAsync(token);
        await clock.NextModelWaitAsync(token);
        clock.Advance(TimeSpan.FromSeconds(60));
        var first = await stream.UntilTerminalAsync("chunk-0");
        var second = await stream.UntilTerminalAsync("chunk-1");

        // The stream goes on: a later batch on it runs too.
        await stream.SendAsync(Chunk(3));
        await clock.NextModelWaitAsync(token);
        clock.Advance(TimeSpan.FromSeconds(60));
        var third = await stream.UntilTerminalAsync("chunk-3");

        foreach (var events in new[] { first, second, third })
        {
            Assert.Equal(TaskEvent.EventOneofCase.Accepted, events[0].EventCase);
            Assert.Equal(TaskEvent.EventOneofCase.Completed, events[^1].EventCase);
            Assert.DoesNotContain(events[1..^1], e => e.EventCase is TaskEvent.EventOneofCase.Accepted or TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed);
            Assert.Equal(["clip", "last_frame"], events.Where(e => e.Artifact is not null).Select(e => e.Artifact.Name).Order());
        }

        Assert.EndsWith(ArtifactKeys.Chunk("job-1", 3), third[^1].Completed.OutputUri);
    }

    [Fact(Timeout = 60_000)]
    public async Task StreamBrokenMidTask_TaskGoesOn_AndAnAttemptOnANewStreamAttachesToIt()
    {
        var token = Timeouts.After(50);
        var clock = new GatedClock(TimeSpan.FromSeconds(60));
        var logs = new LogSignals();
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60", ["Worker:Slots"] = "1" }, token,
            services => services.AddSingleton<TimeProvider>(clock).AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var runsBefore = ChunkRuns();

        var first = new WorkClient(worker.Client, token);
        await first.SendAsync(Chunk(0));
        Assert.False((await first.NextAsync("chunk-0")).Event.Accepted.Resumed);
        await clock.NextModelWaitAsync(token);

        // The coordinator goes away mid-task: the attempt detaches, the task (and its slot) stay.
        await first.DisposeAsync();
        await logs.WaitForAsync(302, "attempt 1 of job-1/chunk-0 detached", token);
        Assert.Equal(["job-1/chunk-0#1"], worker.Service<WorkerCapacity>().RunningTasks);

        await using var second = new WorkClient(worker.Client, token);
        await second.SendAsync(Chunk(0, attempt: 2));
        var resumed = (await second.NextAsync("chunk-0")).Event.Accepted;
        clock.Advance(TimeSpan.FromSeconds(60));
        var events = await second.UntilTerminalAsync("chunk-0");

        Assert.True(resumed.Resumed);
        Assert.Equal(1, resumed.StartedByAttempt);
        Assert.EndsWith(ArtifactKeys.Chunk("job-1", 0), events[^1].Completed.OutputUri);
        Assert.Equal(1, ChunkRuns() - runsBefore);
        Assert.Empty(worker.Service<WorkerCapacity>().RunningTasks);
    }

    [Fact(Timeout = 60_000)]
    public async Task StoppingWorker_LetsTheAttemptsOnTheStreamFinish_ThenEndsTheStream()
    {
        var token = Timeouts.After(50);
        var clock = new GatedClock(TimeSpan.FromSeconds(60));
        // A shutdown timeout longer than the test: a stream that never ended would hold the stop past the test's limit.
        await using var worker = await WorkerTestHost.StartAsync(
            new Dictionary<string, string?> { ["Procedural:LatencySeconds"] = "60" }, token,
            services => services.AddSingleton<TimeProvider>(clock).Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5)));
        await using var stream = new WorkClient(worker.Client, token);
        await stream.SendAsync(Chunk(0));
        await stream.NextAsync("chunk-0");
        await clock.NextModelWaitAsync(token);

        var stopping = worker.App.StopAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(60));
        var events = await stream.UntilTerminalAsync("chunk-0");
        await stream.Ended.WaitAsync(token);
        await stopping.WaitAsync(token);

        Assert.Equal(TaskEvent.EventOneofCase.Completed, events[^1].EventCase);
    }

    /// <summary>One Work stream from the test: batches out, and each attempt's events in a queue of its own.</summary>
    private sealed class WorkClient : IAsyncDisposable
    {
        private readonly AsyncDuplexStreamingCall<WorkRequest, WorkResponse> _call;
        private readonly CancellationTokenSource _stop;
        private readonly Dictionary<string, Channel<WorkEvent>> _byTask = [];
        private readonly Task _reader;

        public WorkClient(WorkerService.WorkerServiceClient client, CancellationToken cancellationToken)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _call = client.Work(cancellationToken: _stop.Token);
            _reader = Task.Run(async () =>
            {
                await foreach (var batch in _call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    foreach (var e in batch.Events)
                    {
                        Queue(e.TaskId).Writer.TryWrite(e);
                    }
                }
            });
        }

        /// <summary>Completes when the worker ended the stream with OK (throws when it broke).</summary>
        public Task Ended => _reader;

        public Task SendAsync(params RunTaskRequest[] tasks) => _call.RequestStream.WriteAsync(new WorkRequest { Tasks = { tasks } }, _stop.Token);

        public async Task<WorkEvent> NextAsync(string taskId) => await Queue(taskId).Reader.ReadAsync(_stop.Token);

        /// <summary>The task's events up to and including its terminal one.</summary>
        public async Task<List<TaskEvent>> UntilTerminalAsync(string taskId)
        {
            var events = new List<TaskEvent>();
            while (true)
            {
                var next = await NextAsync(taskId);
                Assert.Equal(WorkEvent.BodyOneofCase.Event, next.BodyCase);
                events.Add(next.Event);
                if (next.Event.EventCase is TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed)
                {
                    return events;
                }
            }
        }

        private Channel<WorkEvent> Queue(string taskId)
        {
            lock (_byTask)
            {
                return _byTask.TryGetValue(taskId, out var queue) ? queue : _byTask[taskId] = Channel.CreateUnbounded<WorkEvent>();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _reader;
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException)
            {
            }

            _call.Dispose();
        }
    }
}
