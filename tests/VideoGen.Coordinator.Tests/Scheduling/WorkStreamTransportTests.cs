using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>
/// The transport's Work stream (issue 17, item 5): many attempts on one long-lived stream per worker, each attempt
/// seeing exactly the events its own RunTask call would, refusals and breaks read as the scheduler's reasons, and a
/// worker without Work served by RunTask calls. Real gRPC on loopback against a scripted worker.
/// </summary>
public sealed class WorkStreamTransportTests
{
    private static CancellationToken After(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    private static RunTaskRequest Task(string taskId, int attempt = 1) => new() { JobId = "job-1", TaskId = taskId, Attempt = attempt };

    private static WorkEvent Event(RunTaskRequest r, TaskEvent e) => new() { JobId = r.JobId, TaskId = r.TaskId, Attempt = r.Attempt, Event = e };

    private static TaskEvent Accepted => new() { Accepted = new TaskAccepted { WorkerId = "w" } };

    private static TaskEvent Completed(RunTaskRequest r) => new() { Completed = new TaskCompleted { OutputUri = $"mem://{r.TaskId}/{r.Attempt}" } };

    private static async Task<List<TaskEvent>> RunAsync(IWorkerTransport transport, string address, RunTaskRequest request, CancellationToken cancellationToken)
    {
        var events = new List<TaskEvent>();
        await foreach (var e in transport.RunTaskAsync(address, request, cancellationToken))
        {
            events.Add(e);
        }

        return events;
    }

    [Fact(Timeout = 30_000)]
    public async Task AttemptsShareOneStream_EachGetsItsOwnEvents_InOrder()
    {
        var token = After(25);
        // Answers each batch in reverse, interleaving the attempts' events: the transport must route them.
        await using var worker = await ScriptedWorker.StartAsync(async (requests, responses, ct) =>
        {
            while (await requests.MoveNext(ct))
            {
                var batch = requests.Current.Tasks.Reverse().ToList();
                var response = new WorkResponse();
                response.Events.AddRange(batch.Select(r => Event(r, Accepted)));
                response.Events.AddRange(batch.Select(r => Event(r, Completed(r))));
                await responses.WriteAsync(response, ct);
            }
        });
        using var transport = new GrpcWorkerTransport();

        var attempts = Enumerable.Range(0, 40).Select(i => Task($"chunk-{i}", attempt: 1 + (i % 3))).ToList();
        var results = await System.Threading.Tasks.Task.WhenAll(attempts.Select(a => RunAsync(transport, worker.Address, a.Clone(), token)));

        for (var i = 0; i < attempts.Count; i++)
        {
            Assert.Equal([TaskEvent.EventOneofCase.Accepted, TaskEvent.EventOneofCase.Completed], results[i].Select(e => e.EventCase));
            Assert.Equal($"mem://chunk-{i}/{attempts[i].Attempt}", results[i][1].Completed.OutputUri);
        }

        Assert.Equal((1, 0), (worker.WorkCalls, worker.RunTaskCalls));
    }

    [Fact(Timeout = 30_000)]
    public async Task RefusedAttempt_BreaksWithTheSchedulersReason_AndTheStreamGoesOn()
    {
        var token = After(25);
        await using var worker = await ScriptedWorker.StartAsync(async (requests, responses, ct) =>
        {
            while (await requests.MoveNext(ct))
            {
                var response = new WorkResponse();
                foreach (var r in requests.Current.Tasks)
                {
                    response.Events.Add(r.TaskId == "busy"
                        ? new WorkEvent { JobId = r.JobId, TaskId = r.TaskId, Attempt = r.Attempt, Refused = new AttemptRefused { Code = (int)StatusCode.ResourceExhausted, Message = "all 1 slots are busy" } }
                        : Event(r, Completed(r)));
                }

                await responses.WriteAsync(response, ct);
            }
        });
        using var transport = new GrpcWorkerTransport();

        var refused = await Assert.ThrowsAsync<AttemptBrokenException>(() => RunAsync(transport, worker.Address, Task("busy"), token));
        var after = await RunAsync(transport, worker.Address, Task("chunk-0"), token);

        Assert.Equal(AttemptBreak.WorkerBusy, refused.Kind);
        Assert.Equal("all 1 slots are busy", refused.Message);
        Assert.Equal("mem://chunk-0/1", Assert.Single(after).Completed.OutputUri);
        Assert.Equal(1, worker.WorkCalls);
    }

    [Fact(Timeout = 30_000)]
    public async Task StreamBreaks_EveryAttemptOnItBreaks_AndTheNextAttemptOpensANewStream()
    {
        var token = After(25);
        var calls = 0;
        await using var worker = await ScriptedWorker.StartAsync(async (requests, responses, ct) =>
        {
            var first = Interlocked.Increment(ref calls) == 1;
            var seen = 0;
            while (await requests.MoveNext(ct))
            {
                foreach (var r in requests.Current.Tasks)
                {
                    await responses.WriteAsync(new WorkResponse { Events = { Event(r, Accepted) } }, ct);
                    if (first && ++seen == 3)
                    {
                        // The worker goes away with three attempts accepted and none finished.
                        throw new RpcException(new Status(StatusCode.Internal, "worker crashed"));
                    }

                    if (!first)
                    {
                        await responses.WriteAsync(new WorkResponse { Events = { Event(r, Completed(r)) } }, ct);
                    }
                }
            }
        });
        using var transport = new GrpcWorkerTransport();

        var running = Enumerable.Range(0, 3).Select(i => RunAsync(transport, worker.Address, Task($"chunk-{i}"), token)).ToList();
        foreach (var attempt in running)
        {
            var broken = await Assert.ThrowsAsync<AttemptBrokenException>(() => attempt);
            Assert.Equal(AttemptBreak.StreamLost, broken.Kind);
        }

        var retry = await RunAsync(transport, worker.Address, Task("chunk-0", attempt: 2), token);

        Assert.Equal([TaskEvent.EventOneofCase.Accepted, TaskEvent.EventOneofCase.Completed], retry.Select(e => e.EventCase));
        Assert.Equal(2, worker.WorkCalls);
    }

    [Fact(Timeout = 30_000)]
    public async Task WorkerWithoutWork_GetsOneRunTaskCallPerAttempt()
    {
        var token = After(25);
        await using var worker = await ScriptedWorker.StartAsync(work: null);
        using var transport = new GrpcWorkerTransport();

        var first = await RunAsync(transport, worker.Address, Task("chunk-0"), token);
        var second = await RunAsync(transport, worker.Address, Task("chunk-1"), token);

        Assert.Equal("mem://chunk-0/1", first[^1].Completed.OutputUri);
        Assert.Equal("mem://chunk-1/1", second[^1].Completed.OutputUri);
        Assert.Equal(2, worker.RunTaskCalls);
    }

    [Fact(Timeout = 30_000)]
    public async Task CallsOnlyTransport_NeverOpensAWorkStream()
    {
        var token = After(25);
        await using var worker = await ScriptedWorker.StartAsync(work: (_, _, _) => System.Threading.Tasks.Task.CompletedTask);
        using var transport = new GrpcWorkerTransport(workStreams: false);

        var events = await RunAsync(transport, worker.Address, Task("chunk-0"), token);

        Assert.Equal("mem://chunk-0/1", events[^1].Completed.OutputUri);
        Assert.Equal((0, 1), (worker.WorkCalls, worker.RunTaskCalls));
    }

    [Fact(Timeout = 30_000)]
    public async Task Start_HandsEachWorkerBatchToTheSinkWhole_AndNothingAfterAnAttemptsResult()
    {
        var token = After(25);
        var batches = 0;
        await using var worker = await ScriptedWorker.StartAsync(async (requests, responses, ct) =>
        {
            while (await requests.MoveNext(ct))
            {
                Interlocked.Increment(ref batches);
                var tasks = requests.Current.Tasks;
                var response = new WorkResponse();
                response.Events.AddRange(tasks.Select(r => Event(r, Accepted)));
                // A message with neither an event nor a refusal, for an attempt in flight: dropped, costing nothing.
                response.Events.Add(new WorkEvent { JobId = tasks[0].JobId, TaskId = tasks[0].TaskId, Attempt = tasks[0].Attempt });
                response.Events.AddRange(tasks.Select(r => Event(r, Completed(r))));
                // After the results: a second result of each attempt, and an attempt this coordinator never started.
                response.Events.AddRange(tasks.Select(r => Event(r, Completed(r))));
                response.Events.Add(Event(Task("never-started"), Completed(Task("never-started"))));
                await responses.WriteAsync(response, ct);
            }
        });
        using var transport = new GrpcWorkerTransport();
        var sink = new RecordingSink(expectedResults: 12);

        // Started back to back, as the loop carries out a pass: the link sends what is queued in one batch or a few.
        for (var i = 0; i < 12; i++)
        {
            transport.Start(worker.Address, Task($"chunk-{i}"), sink, token);
        }

        await sink.Done.WaitAsync(token);

        // One sink call per batch the worker sent, holding that batch's events for attempts in flight, in its order.
        Assert.Equal(Volatile.Read(ref batches), sink.Calls.Count);
        var events = sink.Calls.SelectMany(c => c).ToList();
        Assert.Equal(24, events.Count);
        foreach (var attempt in events.GroupBy(e => e.TaskId))
        {
            Assert.Equal([TaskEvent.EventOneofCase.Accepted, TaskEvent.EventOneofCase.Completed], attempt.Select(e => e.Event.EventCase));
        }

        Assert.Empty(sink.Broken);
    }

    [Fact(Timeout = 30_000)]
    public async Task Start_CancelledAttempt_ReportsNothingMore_NotEvenTheStreamsEnd()
    {
        var token = After(25);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = await ScriptedWorker.StartAsync(async (requests, responses, ct) =>
        {
            // "slow": accepted, its result held until the test releases it; then "after" completes.
            Assert.True(await requests.MoveNext(ct));
            var slow = requests.Current.Tasks.Single();
            await responses.WriteAsync(new WorkResponse { Events = { Event(slow, Accepted) } }, ct);
            await release.Task.WaitAsync(ct);
            await responses.WriteAsync(new WorkResponse { Events = { Event(slow, Completed(slow)) } }, ct);
            Assert.True(await requests.MoveNext(ct));
            var after = requests.Current.Tasks.Single();
            await responses.WriteAsync(new WorkResponse { Events = { Event(after, Completed(after)) } }, ct);
            // Holds the stream open until the coordinator ends it (the test disposes the transport).
            while (await requests.MoveNext(ct))
            {
            }
        });
        var transport = new GrpcWorkerTransport();
        var sink = new RecordingSink(expectedResults: 1);
        using var slowAttempt = new CancellationTokenSource();

        transport.Start(worker.Address, Task("slow"), sink, slowAttempt.Token);
        await sink.FirstEvent.WaitAsync(token);
        await slowAttempt.CancelAsync();
        release.SetResult();
        transport.Start(worker.Address, Task("after"), sink, token);
        await sink.Done.WaitAsync(token);
        // The stream ends here, on this thread: every attempt still on it would break now.
        transport.Dispose();

        // The stream carried slow's result before after's: it was dropped, and the stream's end reached nobody.
        var events = sink.Calls.SelectMany(c => c).Select(e => (e.TaskId, e.Event.EventCase)).ToList();
        Assert.Equal([("slow", TaskEvent.EventOneofCase.Accepted), ("after", TaskEvent.EventOneofCase.Completed)], events);
        Assert.Empty(sink.Broken);
    }

    [Fact(Timeout = 30_000)]
    public async Task Start_StreamBreaks_EachAttemptInFlightBreaksOnce_AFinishedOneNot()
    {
        var token = After(25);
        await using var worker = await ScriptedWorker.StartAsync(async (requests, responses, ct) =>
        {
            var seen = new List<RunTaskRequest>();
            while (seen.Count < 3 && await requests.MoveNext(ct))
            {
                seen.AddRange(requests.Current.Tasks);
            }

            var done = seen.Single(r => r.TaskId == "done");
            await responses.WriteAsync(new WorkResponse { Events = { Event(done, Completed(done)) } }, ct);
            await responses.WriteAsync(new WorkResponse { Events = { seen.Where(r => r != done).Select(r => Event(r, Accepted)) } }, ct);
            throw new RpcException(new Status(StatusCode.Internal, "worker crashed"));
        });
        var transport = new GrpcWorkerTransport();
        var sink = new RecordingSink(expectedResults: 1, expectedBroken: 2);

        foreach (var id in new[] { "done", "open-1", "open-2" })
        {
            transport.Start(worker.Address, Task(id), sink, token);
        }

        await sink.AllBroken.WaitAsync(token);

        Assert.Equal(["open-1", "open-2"], sink.Broken.Select(b => b.Request.TaskId).Order());
        Assert.All(sink.Broken, b => Assert.Equal(AttemptBreak.StreamLost, b.Error.Kind));
        transport.Dispose();
        Assert.Equal(2, sink.Broken.Count);
    }

    /// <summary>Records what the transport hands over, and signals when the expected results or breaks arrived.</summary>
    private sealed class RecordingSink(int expectedResults, int expectedBroken = 0) : IAttemptSink
    {
        private readonly object _gate = new();
        private int _results;

        private readonly TaskCompletionSource _firstEvent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _allBroken = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<List<WorkEvent>> Calls { get; } = [];

        public List<(RunTaskRequest Request, AttemptBrokenException Error)> Broken { get; } = [];

        public Task FirstEvent => _firstEvent.Task;

        public Task Done => _done.Task;

        public Task AllBroken => _allBroken.Task;

        public void OnEvents(IReadOnlyList<WorkEvent> events)
        {
            lock (_gate)
            {
                Calls.Add([.. events]);
                _firstEvent.TrySetResult();
                _results += events.Count(e => e.Event.EventCase is TaskEvent.EventOneofCase.Completed or TaskEvent.EventOneofCase.Failed);
                if (_results >= expectedResults)
                {
                    _done.TrySetResult();
                }
            }
        }

        public void OnBroken(RunTaskRequest request, AttemptBrokenException error)
        {
            lock (_gate)
            {
                Broken.Add((request, error));
                if (Broken.Count >= expectedBroken)
                {
                    _allBroken.TrySetResult();
                }
            }
        }
    }

    /// <summary>A worker on loopback whose Work is the test's script (null: not served, UNIMPLEMENTED); RunTask completes at once.</summary>
    private sealed class ScriptedWorker : WorkerService.WorkerServiceBase, IAsyncDisposable
    {
        private readonly Func<IAsyncStreamReader<WorkRequest>, IServerStreamWriter<WorkResponse>, CancellationToken, Task>? _work;
        private WebApplication? _app;
        private int _workCalls;
        private int _runTaskCalls;

        private ScriptedWorker(Func<IAsyncStreamReader<WorkRequest>, IServerStreamWriter<WorkResponse>, CancellationToken, Task>? work) => _work = work;

        public string Address { get; private set; } = "";

        public int WorkCalls => Volatile.Read(ref _workCalls);

        public int RunTaskCalls => Volatile.Read(ref _runTaskCalls);

        public static async Task<ScriptedWorker> StartAsync(Func<IAsyncStreamReader<WorkRequest>, IServerStreamWriter<WorkResponse>, CancellationToken, Task>? work)
        {
            var worker = new ScriptedWorker(work);
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(worker);
            worker._app = builder.Build();
            worker._app.MapGrpcService<ScriptedWorker>();
            await worker._app.StartAsync();
            worker.Address = worker._app.Urls.First();
            return worker;
        }

        public override async Task RunTask(RunTaskRequest request, IServerStreamWriter<TaskEvent> responseStream, ServerCallContext context)
        {
            Interlocked.Increment(ref _runTaskCalls);
            await responseStream.WriteAsync(Accepted);
            await responseStream.WriteAsync(Completed(request));
        }

        public override Task Work(IAsyncStreamReader<WorkRequest> requestStream, IServerStreamWriter<WorkResponse> responseStream, ServerCallContext context)
        {
            if (_work is null)
            {
                return base.Work(requestStream, responseStream, context);
            }

            Interlocked.Increment(ref _workCalls);
            return _work(requestStream, responseStream, context.CancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }
    }
}
