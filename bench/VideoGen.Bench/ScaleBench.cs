using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VideoGen.Contracts.V1;

/// <summary>
/// The farm at scale: a real coordinator process (SQLite store, the shipped defaults) and a fake fleet of many worker
/// endpoints in this process — each its own Kestrel port speaking the real <c>WorkerService.RunTask</c> protocol and
/// joining and heart-beating through the real <c>MembershipService</c> — that completes every task at once. It submits
/// the jobs through <c>JobService</c>, watches some of them from the start, and reports the coordinator's peak RSS and
/// CPU, the dispatch rate, the chain hop (a chunk completed on a worker → its successor's <c>RunTask</c> there), submit
/// latency, and whether any watcher missed or repeated an event.
/// </summary>
internal static class ScaleBench
{
    private const string Prompt = "a 30 second product showcase for a titanium smartwatch";

    public static async Task<string> RunAsync(int workers, int slots, int jobs, int watchers)
    {
        var root = Path.Combine(Path.GetTempPath(), "videogen-bench-scale", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(root);
        var token = VideoGen.Security.WorkerToken.New();
        var adminKey = "vg_bench_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

        await using var fleet = await FakeFleet.StartAsync(workers);
        var port = FreePort();
        using var coordinator = StartCoordinator(root, port, token, adminKey);
        try
        {
            return await MeasureAsync(fleet, coordinator, port, token, adminKey, workers, slots, jobs, watchers);
        }
        finally
        {
            coordinator.Kill(entireProcessTree: true);
            await coordinator.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string> MeasureAsync(FakeFleet fleet, Process coordinator, int port, string token, string adminKey, int workers, int slots, int jobs, int watchers)
    {
        var address = $"http://127.0.0.1:{port}";
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            MaxReceiveMessageSize = 16 << 20,
        });
        var auth = new Metadata { { "authorization", $"Bearer {adminKey}" } };
        var workerAuth = new Metadata { { VideoGen.Security.WorkerToken.Header, VideoGen.Security.WorkerToken.HeaderValue(token) } };
        await WaitForCoordinatorAsync(channel, auth, coordinator);

        // Join every worker, then keep them alive.
        var membership = new MembershipService.MembershipServiceClient(channel);
        var joinWatch = Stopwatch.StartNew();
        JoinResponse? joined = null;
        JoinRequest Join(int i) => new() { WorkerId = $"fake-{i}", Address = fleet.Addresses[i], Slots = slots, Models = { "procedural-i2v" } };
        await Parallel.ForEachAsync(Enumerable.Range(0, workers), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            joined = await membership.JoinAsync(Join(i), workerAuth, cancellationToken: ct);
        });
        joinWatch.Stop();
        using var stopHeartbeats = new CancellationTokenSource();
        var heartbeats = HeartbeatAsync(membership, workerAuth, workers, Join, TimeSpan.FromSeconds(Math.Max(1, joined!.HeartbeatIntervalSeconds)), stopHeartbeats.Token);

        // Submit, watching the first jobs from their first event.
        var client = new JobService.JobServiceClient(channel);
        var submitLatencies = new ConcurrentBag<double>();
        var jobIds = new string[jobs];
        var watches = new ConcurrentBag<Task<WatchResult>>();
        var cpuBefore = CpuSeconds(coordinator);
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            var response = await client.SubmitJobAsync(new SubmitJobRequest { RequestId = $"scale-{i}", Job = new JobRequest { Prompt = Prompt } }, auth, cancellationToken: ct);
            submitLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            jobIds[i] = response.Job.JobId;
            if (i < watchers)
            {
                watches.Add(WatchAsync(client, auth, response.Job.JobId));
            }
        });
        var submitSeconds = watch.Elapsed.TotalSeconds;

        // Wait until the fleet has finished every job's last task, then until the coordinator says every job ended.
        using var progress = new Timer(_ => Console.Error.WriteLine(
            $"[scale] {watch.Elapsed.TotalSeconds:0} s: {fleet.Completed} tasks done, {fleet.Finishes} jobs finished, coordinator CPU {CpuSeconds(coordinator) - cpuBefore:0.0} s, RSS {Memory(coordinator).Now / 1024} MiB"),
            null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        await fleet.WaitForFinishesAsync(jobs, TimeSpan.FromMinutes(20));
        var ended = await WaitForAllEndedAsync(client, auth, jobIds, TimeSpan.FromMinutes(5));
        watch.Stop();
        var cpu = CpuSeconds(coordinator) - cpuBefore;
        var (peakRss, rss) = Memory(coordinator);
        var results = await Task.WhenAll(watches).WaitAsync(TimeSpan.FromMinutes(2));
        await stopHeartbeats.CancelAsync();
        await heartbeats;

        var hops = fleet.Hops.Order().ToArray();
        var submits = submitLatencies.Order().ToArray();
        var missed = results.Count(r => !r.Complete);
        var tasks = fleet.Completed;
        return string.Join('\n',
            $"scale: {workers} fake workers × {slots} slots (one Kestrel port each, real RunTask and membership), {jobs} jobs ({Prompt}), {watchers} watchers; coordinator: SQLite, shipped defaults",
            $"  joins: {workers} in {joinWatch.Elapsed.TotalSeconds:0.00} s; submits: {jobs} in {submitSeconds:0.00} s, p50 {Percentile(submits, 0.5):0.0} ms, p99 {Percentile(submits, 0.99):0.0} ms",
            $"  dispatch: {tasks} tasks in {watch.Elapsed.TotalSeconds:0.00} s = {tasks / watch.Elapsed.TotalSeconds:0} tasks/s ({fleet.RanAgain} ran again: workers presumed lost); jobs ended {ended}/{jobs}",
            $"  hop (chunk completed → successor's RunTask): p50 {Percentile(hops, 0.5):0.00} ms, p99 {Percentile(hops, 0.99):0.00} ms over {hops.Length} hops",
            $"  coordinator: peak RSS {peakRss / 1024.0:0} MiB (now {rss / 1024.0:0} MiB), CPU {cpu:0.0} s over the run",
            $"  membership: {Interlocked.Read(ref _rejoins)} rejoins (a worker declared lost while its heartbeats were late joins again)",
            $"  watchers: {results.Length - missed}/{results.Length} saw every event once, in order, to the end; events seen {results.Sum(r => r.Events)}");
    }

    private sealed record WatchResult(bool Complete, int Events);

    /// <summary>Watches one job from its first event to its end; complete when the sequences ran 1, 2, 3… without a gap or repeat and ended with a terminal state.</summary>
    private static async Task<WatchResult> WatchAsync(JobService.JobServiceClient client, Metadata auth, string jobId)
    {
        long last = 0;
        var ordered = true;
        var events = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(25));
        using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, auth, cancellationToken: cts.Token);
        await foreach (var e in call.ResponseStream.ReadAllAsync(cts.Token))
        {
            events++;
            ordered &= e.Sequence == last + 1;
            last = e.Sequence;
            if (e.StateChanged is { } s && s.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled)
            {
                return new WatchResult(ordered, events);
            }
        }

        return new WatchResult(false, events);
    }

    private static async Task<int> WaitForAllEndedAsync(JobService.JobServiceClient client, Metadata auth, string[] jobIds, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var pending = jobIds.ToList();
        while (pending.Count > 0 && deadline.Elapsed < timeout)
        {
            var still = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (id, ct) =>
            {
                var job = (await client.GetJobAsync(new GetJobRequest { JobId = id }, auth, cancellationToken: ct)).Job;
                if (job.State is not (JobState.Succeeded or JobState.Failed or JobState.Cancelled))
                {
                    still.Add(id);
                }
            });
            pending = [.. still];
            if (pending.Count > 0)
            {
                await Task.Delay(200);
            }
        }

        return jobIds.Length - pending.Count;
    }

    /// <summary>Each fake worker heartbeats every interval on its own, and joins again when told it is unknown (declared lost), as a real worker does.</summary>
    private static Task HeartbeatAsync(MembershipService.MembershipServiceClient membership, Metadata auth, int workers, Func<int, JoinRequest> join, TimeSpan interval, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(async i =>
        {
            // Spread the first beats over the interval, as independent processes would be.
            var period = new PeriodicTimer(interval);
            try
            {
                await Task.Delay(interval * i / workers, stop);
                while (await period.WaitForNextTickAsync(stop))
                {
                    var known = (await membership.HeartbeatAsync(new HeartbeatRequest { WorkerId = $"fake-{i}" }, auth, cancellationToken: stop)).Known;
                    if (!known)
                    {
                        Interlocked.Increment(ref _rejoins);
                        await membership.JoinAsync(join(i), auth, cancellationToken: stop);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
            }
            finally
            {
                period.Dispose();
            }
        }));

    private static long _rejoins;

    private static Process StartCoordinator(string root, int port, string token, string adminKey)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "..", "..", "VideoGen.Coordinator", "release", "VideoGen.Coordinator.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     Path.GetFullPath(dll),
                     $"--Coordinator:GrpcUrl=http://127.0.0.1:{port}",
                     "--Coordinator:HttpUrl=http://127.0.0.1:0",
                     $"--Coordinator:DataDirectory={Path.Combine(root, "coordinator")}",
                     $"--Storage:LocalRoot={Path.Combine(root, "artifacts")}",
                     // Thousands of fake workers on one host: one farm, many ports.
                     "--Logging:LogLevel:Default=Warning",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["Coordinator__Auth__BootstrapAdminKey"] = adminKey;
        info.Environment["Coordinator__WorkerToken"] = token;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine($"[coordinator] {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForCoordinatorAsync(GrpcChannel channel, Metadata auth, Process coordinator)
    {
        var client = new JobService.JobServiceClient(channel);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (coordinator.HasExited)
            {
                throw new InvalidOperationException($"the coordinator exited with {coordinator.ExitCode}");
            }

            try
            {
                await client.ListTemplatesAsync(new ListTemplatesRequest(), auth, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }
        }
    }

    private static double CpuSeconds(Process process)
    {
        var fields = File.ReadAllText($"/proc/{process.Id}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // After the command: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12 here.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>(VmHWM, VmRSS) in KiB.</summary>
    private static (long Peak, long Now) Memory(Process process)
    {
        long Read(string key) => long.Parse(File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith(key, StringComparison.Ordinal))
            .Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (Read("VmHWM"), Read("VmRSS"));
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Many fake worker endpoints in one process: one Kestrel listener per worker, every task completed at once.</summary>
internal sealed class FakeFleet : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _chunkDoneAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _runs = new(StringComparer.Ordinal);
    private long _completed;
    private long _finishes;

    private FakeFleet(WebApplication app)
    {
        _app = app;
    }

    public List<string> Addresses { get; } = [];

    public ConcurrentBag<double> Hops { get; } = [];

    public long Completed => Interlocked.Read(ref _completed);

    public long Finishes => Interlocked.Read(ref _finishes);

    /// <summary>Tasks the fleet completed more than once (a worker presumed lost while it ran them: its tasks run again elsewhere).</summary>
    public int RanAgain => _runs.Values.Sum(n => n - 1);

    public static async Task<FakeFleet> StartAsync(int workers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            for (var i = 0; i < workers; i++)
            {
                k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            }

            k.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        builder.Services.AddGrpc();
        var app = builder.Build();
        var fleet = new FakeFleet(app);
        app.MapGrpcService<FleetWorkerService>();
        await app.StartAsync();
        fleet.Addresses.AddRange(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => a.Replace("localhost", "127.0.0.1", StringComparison.Ordinal)));
        if (fleet.Addresses.Count != workers)
        {
            throw new InvalidOperationException($"the fleet listens on {fleet.Addresses.Count} ports, not {workers}");
        }

        Instance = fleet;
        return fleet;
    }

    /// <summary>The fleet of this process (the service is made by gRPC's activator).</summary>
    public static FakeFleet? Instance { get; private set; }

    public async Task WaitForFinishesAsync(int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (Interlocked.Read(ref _finishes) < count)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{Interlocked.Read(ref _finishes)} of {count} jobs finished after {timeout}");
            }

            await Task.Delay(50);
        }
    }

    public void Started(RunTaskRequest request)
    {
        if (request.Chunk is { ChunkIndex: > 0 } chunk && _chunkDoneAt.TryRemove($"{request.JobId}/{chunk.ChunkIndex - 1}", out var done)
            && chunk.StartImageUri == LastFrame(request.JobId, chunk.ChunkIndex - 1))
        {
            Hops.Add(Stopwatch.GetElapsedTime(done).TotalMilliseconds);
        }
    }

    public TaskCompleted Complete(RunTaskRequest request)
    {
        Interlocked.Increment(ref _completed);
        _runs.AddOrUpdate($"{request.JobId}/{request.TaskId}", 1, (_, n) => n + 1);
        var completed = new TaskCompleted { OutputUri = $"mem://{request.JobId}/{request.TaskId}", MediaSeconds = 5 };
        if (request.Chunk is { } chunk)
        {
            completed.LastFrameUri = LastFrame(request.JobId, chunk.ChunkIndex);
            _chunkDoneAt[$"{request.JobId}/{chunk.ChunkIndex}"] = Stopwatch.GetTimestamp();
        }

        return completed;
    }

    public void Finished(RunTaskRequest request)
    {
        if (request.TaskCase == RunTaskRequest.TaskOneofCase.Finish)
        {
            Interlocked.Increment(ref _finishes);
        }
    }

    private static string LastFrame(string jobId, int chunk) => $"mem://{jobId}/chunk-{chunk}.last.png";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed class FleetWorkerService : WorkerService.WorkerServiceBase
{
    public override async Task RunTask(RunTaskRequest request, IServerStreamWriter<TaskEvent> responseStream, ServerCallContext context)
    {
        var fleet = FakeFleet.Instance!;
        fleet.Started(request);
        await responseStream.WriteAsync(new TaskEvent { Accepted = new TaskAccepted { WorkerId = $"port-{context.GetHttpContext().Connection.LocalPort}" } });
        var completed = fleet.Complete(request);
        await responseStream.WriteAsync(new TaskEvent { Completed = completed });
        fleet.Finished(request);
    }

    public override Task<CancelTaskResponse> CancelTask(CancelTaskRequest request, ServerCallContext context) => Task.FromResult(new CancelTaskResponse());
}
