using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

// Scheduler benchmarks over the real orchestrator and the real SQLite store, with in-process
// fake workers that finish instantly or after a set latency.
//   dotnet run -c Release --project bench/VideoGen.Bench -- [throughput|grpc [WORKERS SLOTS [streams|calls]]|hop|makespan|graphs|all]
//   … -- scale [workers=1000] [slots=2] [jobs=10000] [watchers=1000]   (a real coordinator process and a fake fleet)
var which = args.FirstOrDefault() ?? "all";
var results = new List<string>();
if (which is "throughput" or "all")
{
    // Seven runs of 17,000 tasks each: the first two warm the JIT up (tiered compilation and its profile-guided
    // recompiles run on the same two cores for the first seconds of a process), the median of the last five is the
    // figure — a coordinator runs for days, so its steady state is what counts.
    var runs = new List<(double Rate, string Line)>();
    for (var i = 0; i < Bench.WarmUp + Bench.Measured; i++)
    {
        runs.Add(await Bench.ThroughputAsync(jobs: 120, durationSeconds: 600, workers: 8, slots: 64));
    }

    results.Add(Bench.Median(runs));
}

if (which is "grpc" or "all")
{
    int GrpcArg(int index, int fallback) => which == "grpc" && args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    // The same dispatch path over real gRPC to fake worker servers (Kestrel, HTTP/2 on loopback, in this process):
    // attempts on one Work stream per worker (the coordinator's default), and one RunTask call per attempt. Interleaved
    // rounds, so both see the same machine; the median of 5 each after the warm-up rounds. A third argument runs one way
    // only (streams | calls), for profiling.
    var only = which == "grpc" && args.Length > 3 ? args[3] : "";
    var streams = new List<(double Rate, string Line)>();
    var calls = new List<(double Rate, string Line)>();
    for (var i = 0; i < Bench.WarmUp + Bench.Measured; i++)
    {
        var (workers, slots) = (GrpcArg(1, 8), GrpcArg(2, 64));
        if (only != "calls")
        {
            streams.Add(await Bench.ThroughputAsync(jobs: 120, durationSeconds: 600, workers: workers, slots: slots, grpc: true));
        }

        if (only != "streams")
        {
            calls.Add(await Bench.ThroughputAsync(jobs: 40, durationSeconds: 600, workers: workers, slots: slots, grpc: true, workStreams: false));
        }
    }

    foreach (var runs in new[] { streams, calls }.Where(r => r.Count > 0))
    {
        results.Add(Bench.Median(runs));
    }
}

if (which is "hop" or "all")
{
    results.Add(await Bench.HopLatencyAsync(jobs: 20, durationSeconds: 300));
}

if (which is "makespan" or "all")
{
    results.Add(await Bench.MakespanAsync(workers: 4, slots: 2, chunkLatency: TimeSpan.FromSeconds(1), storyboardLatency: TimeSpan.FromMilliseconds(200), stitchLatency: TimeSpan.FromMilliseconds(200)));
}

if (which is "graphs" or "all")
{
    // Issue 16: the same job on the same first-and-last-frame model, as an image-to-video chain and as keyframes then
    // every chunk of a take at once; one take (strict) and one per beat.
    foreach (var continuity in new[] { Continuity.Strict, Continuity.Beat })
    {
        results.Add(await Bench.GraphMakespanAsync(continuity, workers: 4, slots: 2, chunkLatency: TimeSpan.FromSeconds(1), imageLatency: TimeSpan.FromMilliseconds(200), stitchLatency: TimeSpan.FromMilliseconds(200)));
    }
}

if (which is "scale")
{
    // Not part of "all": minutes, and a coordinator process of its own.
    int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    results.Add(await ScaleBench.RunAsync(workers: Arg(1, 1000), slots: Arg(2, 2), jobs: Arg(3, 10_000), watchers: Arg(4, 1000)));
}

Console.WriteLine();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
results.ForEach(Console.WriteLine);

internal static class Bench
{
    /// <summary>Runs before the measured ones: tiered compilation with dynamic PGO takes about this many to settle on 2 cores (bench/README).</summary>
    public const int WarmUp = 10;
    public const int Measured = 5;

    /// <summary>The median of the runs after the warm-up ones, with every run's rate (warm-up ones in brackets).</summary>
    public static string Median(List<(double Rate, string Line)> runs)
    {
        var measured = runs.Skip(WarmUp).OrderBy(r => r.Rate).ToList();
        var rates = string.Join(", ", runs.Select((r, i) => i < WarmUp ? $"({r.Rate:0})" : r.Rate.ToString("0")));
        return measured[measured.Count / 2].Line + $" [median of {measured.Count} after {WarmUp} warm-up: {rates}]";
    }

    private static readonly RuleBasedPlanner Rules = new(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded());

    public static async Task<(double Rate, string Line)> ThroughputAsync(int jobs, double durationSeconds, int workers, int slots, bool grpc = false, bool workStreams = true)
    {
        await using var servers = grpc ? await FakeWorkerServers.StartAsync(workers) : null;
        using var grpcTransport = grpc ? new GrpcWorkerTransport(workStreams: workStreams) : null;
        IWorkerTransport transport = grpc ? grpcTransport! : new InstantTransport();
        await using var farm = await Farm.StartAsync(transport, workers, slots, servers?.Addresses);
        var requests = Enumerable.Range(0, jobs).Select(i => new JobRequest { Prompt = $"showcase {i}", DurationSeconds = durationSeconds, Continuity = Continuity.None }).ToList();
        var totalTasks = requests.Sum(r => TaskGraph.Build(Rules.Plan(r)).Count);

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var gcsBefore = GC.CollectionCount(0);
        var watch = Stopwatch.StartNew();
        var submitted = await Task.WhenAll(requests.Select(r => farm.SubmitAsync(r)));
        await Task.WhenAll(submitted.Select(j => farm.WaitForEndAsync(j.JobId)));
        watch.Stop();

        // CPU per task (this process: scheduler, store and, for gRPC, both ends of the wire): steadier than the rate
        // on a machine with other load.
        var cpuPerTask = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / totalTasks;
        // Bytes allocated per task (this process): unlike the rate, it does not move with the machine's other load.
        var kbPerTask = (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / 1024.0 / totalTasks;
        var gcs = GC.CollectionCount(0) - gcsBefore;
        var rate = totalTasks / watch.Elapsed.TotalSeconds;

        var over = !grpc ? "" : workStreams ? " over gRPC, one Work stream per worker" : " over gRPC, one RunTask call per task";
        return (rate, $"throughput{over}: {totalTasks} tasks ({jobs} jobs × {totalTasks / jobs}) over {workers} fake workers × {slots} slots in {watch.Elapsed.TotalSeconds:0.000} s = {rate:0} tasks/s, {cpuPerTask:0} µs CPU per task, {kbPerTask:0.0} KB allocated per task ({gcs} GCs) (each task: dispatch, accepted, completed, 2+ events committed to SQLite)");
    }

    public static async Task<string> HopLatencyAsync(int jobs, double durationSeconds)
    {
        var transport = new InstantTransport();
        await using var farm = await Farm.StartAsync(transport, workers: 2, slots: 4);
        for (var i = 0; i < jobs; i++)
        {
            // One job at a time: a strict chain, so every hop is a completion followed by its successor's start.
            var job = await farm.SubmitAsync(new JobRequest { Prompt = $"showcase {i}", DurationSeconds = durationSeconds, Continuity = Continuity.Strict });
            await farm.WaitForEndAsync(job.JobId);
        }

        var hops = transport.Hops().Order().ToArray();
        return $"hop latency (chunk completed on the worker → successor's RunTask starts), {hops.Length} hops: p50 {Percentile(hops, 0.5):0.000} ms, p90 {Percentile(hops, 0.9):0.000} ms, p99 {Percentile(hops, 0.99):0.000} ms";
    }

    public static async Task<string> MakespanAsync(int workers, int slots, TimeSpan chunkLatency, TimeSpan storyboardLatency, TimeSpan stitchLatency)
    {
        var transport = new InstantTransport(chunkLatency, storyboardLatency, stitchLatency);
        await using var farm = await Farm.StartAsync(transport, workers, slots);
        var request = new JobRequest { Prompt = "A 30 second product showcase for a titanium smartwatch" };
        var plan = Rules.Plan(request);
        var longestChain = LongestChunkChain(plan);
        // Storyboard, the longest chain of chunks, the stitch and, when the plan has one, the finish (the fake gives it the
        // stitch's latency); the soundtrack's tasks run beside the chunks, off the critical path.
        var bound = storyboardLatency + longestChain * chunkLatency + stitchLatency + (plan.Finish is null ? TimeSpan.Zero : stitchLatency);

        // One job first, not measured: run alone, the bench would otherwise time the JIT compiling the farm (~130 ms).
        await farm.WaitForEndAsync((await farm.SubmitAsync(request.Clone())).JobId);
        var watch = Stopwatch.StartNew();
        var job = await farm.SubmitAsync(request);
        await farm.WaitForEndAsync(job.JobId);
        watch.Stop();

        var over = (watch.Elapsed - bound).TotalMilliseconds / bound.TotalMilliseconds * 100;
        return $"makespan: 30 s job ({plan.Chunks.Count} chunks, beat continuity, longest chain {longestChain} chunks) on {workers} workers × {slots} slots, chunk {chunkLatency.TotalMilliseconds} ms, storyboard {storyboardLatency.TotalMilliseconds} ms, stitch{(plan.Finish is null ? "" : "/finish")} {stitchLatency.TotalMilliseconds} ms: {watch.Elapsed.TotalMilliseconds:0.0} ms vs critical-path bound {bound.TotalMilliseconds:0.0} ms ({over:+0.00;-0.00} %)";
    }

    /// <summary>The 30 s showcase on procedural-flf2v, once per graph strategy, one after the other on the same farm: makespans side by side.</summary>
    public static async Task<string> GraphMakespanAsync(Continuity continuity, int workers, int slots, TimeSpan chunkLatency, TimeSpan imageLatency, TimeSpan stitchLatency)
    {
        var transport = new InstantTransport(chunkLatency, imageLatency, stitchLatency);
        await using var farm = await Farm.StartAsync(transport, workers, slots);
        var line = new List<string>();
        var makespans = new Dictionary<GraphStrategy, double>();
        foreach (var strategy in new[] { GraphStrategy.Chain, GraphStrategy.Keyframes })
        {
            // Audio off: the soundtrack's tasks run beside the chunks and would only add the same constant to both.
            var request = new JobRequest { Prompt = "A 30 second product showcase for a titanium smartwatch", Model = "procedural-flf2v", Continuity = continuity, Strategy = strategy, Audio = false };
            var plan = Rules.Plan(request);
            // The estimator's own figure with these latencies (its finish term swapped for the fake finish's).
            var estimate = WallTimeEstimator.Estimate(plan, ModelCatalog.Embedded().Models[plan.Model] with { ExpectedLatencySeconds = chunkLatency.TotalSeconds },
                imageLatency.TotalSeconds, workers * slots) - WallTimeEstimator.FinishSeconds(plan) + stitchLatency.TotalSeconds;
            var watch = Stopwatch.StartNew();
            var job = await farm.SubmitAsync(request);
            await farm.WaitForEndAsync(job.JobId);
            watch.Stop();
            makespans[strategy] = watch.Elapsed.TotalMilliseconds;
            line.Add($"{GraphStrategies.Name(strategy)} {watch.Elapsed.TotalMilliseconds:0} ms ({plan.Chunks.Count} chunks, {plan.Keyframes} keyframes; estimate {estimate * 1000:0} ms)");
        }

        return $"graphs, 30 s showcase on procedural-flf2v, {continuity.ToString().ToLowerInvariant()} continuity, {workers} workers × {slots} slots, chunk {chunkLatency.TotalMilliseconds} ms, image {imageLatency.TotalMilliseconds} ms, stitch/finish {stitchLatency.TotalMilliseconds} ms: "
            + string.Join("; ", line) + $"; keyframes/chain = {makespans[GraphStrategy.Keyframes] / makespans[GraphStrategy.Chain]:0.00}";
    }

    private static int LongestChunkChain(Plan plan)
    {
        int longest = 0, run = 0;
        foreach (var chunk in plan.Chunks)
        {
            run = chunk.IsReference ? 1 : run + 1;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>An orchestrator over a temp SQLite store with fake workers joined.</summary>
internal sealed class Farm : IAsyncDisposable
{
    private static readonly RuleBasedPlanner Rules = new(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded());
    private readonly SqliteJobStore _store;
    private readonly JobEventHub _hub = new();
    private readonly Orchestrator _orchestrator;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _ends = new();

    private Farm(IWorkerTransport transport)
    {
        _hub.Published += OnEvents;
        var directory = Path.Combine(Path.GetTempPath(), "videogen-bench", Guid.NewGuid().ToString("n"));
        _store = new SqliteJobStore(Path.Combine(directory, "videogen.db"));
        _orchestrator = new Orchestrator(_store, _hub, transport, new RulesOnlyPlanner(), ModelCatalog.Embedded(),
            new SchedulingOptions { WorkerLeaseSeconds = 3600, TaskLeaseSeconds = 3600 }, TimeProvider.System, NullLogger<Orchestrator>.Instance);
    }

    public static async Task<Farm> StartAsync(IWorkerTransport transport, int workers, int slots, IReadOnlyList<string>? addresses = null)
    {
        var farm = new Farm(transport);
        farm._orchestrator.Start();
        for (var i = 0; i < workers; i++)
        {
            var address = addresses?[i] ?? $"http://fake-{i}";
            await farm._orchestrator.JoinAsync(new JoinRequest { WorkerId = $"fake-{i}", Address = address, Slots = slots, Models = { "procedural-i2v", "procedural-flf2v", "procedural-extend" } });
        }

        return farm;
    }

    public async Task<Job> SubmitAsync(JobRequest request)
    {
        var (job, _) = await _orchestrator.SubmitAsync("", request, Rules.Plan(request));
        _ends.GetOrAdd(job.JobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return job;
    }

    public Task WaitForEndAsync(string jobId) =>
        _ends.GetOrAdd(jobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromMinutes(5));

    internal void OnEvents(IReadOnlyList<JobEvent> events)
    {
        foreach (var e in events)
        {
            if (e.StateChanged is { } s && Orchestrator.IsTerminal(s.State))
            {
                _ends.GetOrAdd(e.JobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _orchestrator.DisposeAsync();
        _store.Dispose();
    }
}

/// <summary>Fake workers in process: each attempt is accepted at once and completes after the latency set for its kind.</summary>
internal sealed class InstantTransport(TimeSpan chunkLatency = default, TimeSpan storyboardLatency = default, TimeSpan stitchLatency = default) : IWorkerTransport
{
    private readonly ConcurrentDictionary<(string Job, int Chunk), long> _completedAt = new();
    private readonly ConcurrentBag<double> _hops = [];

    public IEnumerable<double> Hops() => _hops;

    public async IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (request.Chunk is { ChunkIndex: > 0 } chunk && _completedAt.TryRemove((request.JobId, chunk.ChunkIndex - 1), out var previous))
        {
            _hops.Add(Stopwatch.GetElapsedTime(previous, started).TotalMilliseconds);
        }

        yield return new TaskEvent { Accepted = new TaskAccepted { WorkerId = address } };
        var latency = request.TaskCase switch
        {
            RunTaskRequest.TaskOneofCase.Chunk => chunkLatency,
            RunTaskRequest.TaskOneofCase.Storyboard or RunTaskRequest.TaskOneofCase.Keyframe => storyboardLatency,
            _ => stitchLatency,
        };
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, cancellationToken);
        }

        var completed = new TaskCompleted { OutputUri = $"mem://{request.JobId}/{request.TaskId}", LastFrameUri = $"mem://{request.JobId}/{request.TaskId}.png", MediaSeconds = 5 };
        if (request.Chunk is { } done)
        {
            _completedAt[(request.JobId, done.ChunkIndex)] = Stopwatch.GetTimestamp();
        }

        yield return new TaskEvent { Completed = completed };
    }
}

/// <summary>Fake worker servers over real gRPC: every RunTask is accepted and completed at once.</summary>
internal sealed class FakeWorkerServers : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    public List<string> Addresses { get; } = [];

    public static async Task<FakeWorkerServers> StartAsync(int count)
    {
        var servers = new FakeWorkerServers();
        for (var i = 0; i < count; i++)
        {
            // Content root in the build output, no configuration reload: no file watchers on the repository's tree.
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
            builder.Services.AddGrpc();
            var app = builder.Build();
            app.MapGrpcService<InstantWorkerService>();
            await app.StartAsync();
            servers._apps.Add(app);
            servers.Addresses.Add(app.Urls.First());
        }

        return servers;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

internal sealed class InstantWorkerService : WorkerService.WorkerServiceBase
{
    public override async Task RunTask(RunTaskRequest request, Grpc.Core.IServerStreamWriter<TaskEvent> responseStream, Grpc.Core.ServerCallContext context)
    {
        await responseStream.WriteAsync(new TaskEvent { Accepted = new TaskAccepted { WorkerId = "fake" } });
        await responseStream.WriteAsync(new TaskEvent { Completed = Completed(request) });
    }

    /// <summary>Every task of a batch accepted and completed at once: one batch of events back per batch of tasks.</summary>
    public override async Task Work(Grpc.Core.IAsyncStreamReader<WorkRequest> requestStream, Grpc.Core.IServerStreamWriter<WorkResponse> responseStream, Grpc.Core.ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var batch = new WorkResponse();
            foreach (var request in requestStream.Current.Tasks)
            {
                batch.Events.Add(new WorkEvent { JobId = request.JobId, TaskId = request.TaskId, Attempt = request.Attempt, Event = new TaskEvent { Accepted = new TaskAccepted { WorkerId = "fake" } } });
                batch.Events.Add(new WorkEvent { JobId = request.JobId, TaskId = request.TaskId, Attempt = request.Attempt, Event = new TaskEvent { Completed = Completed(request) } });
            }

            await responseStream.WriteAsync(batch, context.CancellationToken);
        }
    }

    private static TaskCompleted Completed(RunTaskRequest request) =>
        new() { OutputUri = $"mem://{request.JobId}/{request.TaskId}", LastFrameUri = $"mem://{request.JobId}/{request.TaskId}.png", MediaSeconds = 5 };
}
