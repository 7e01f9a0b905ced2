using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.ConsulStandIn;
using VideoGen.Consul;
using VideoGen.Coordinator.Membership;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Coordinator.Tests.Scheduling;
using Xunit.Abstractions;

namespace VideoGen.Coordinator.Tests.Membership;

/// <summary>
/// The coordinator's Consul follower over a real orchestrator (fake clock) and the Consul stand-in (real HTTP, real
/// blocking queries): joins from Meta, leaves on critical/deregistration with requeued tasks, drain on warning,
/// and an outage that keeps the workers.
/// </summary>
public sealed class ConsulWorkerFollowerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static ServiceRegistration Worker(string id, int port, string gpus = "") => new()
    {
        Id = id,
        Name = "videogen-worker",
        Tags = ["videogen"],
        Address = "127.0.0.1",
        Port = port,
        Meta = new()
        {
            [WorkerServiceMeta.Models] = "procedural-i2v,procedural-image",
            [WorkerServiceMeta.Slots] = "2",
            [WorkerServiceMeta.Gpus] = gpus,
            [WorkerServiceMeta.Version] = "1.2.3",
        },
        // A long TTL: these tests drive health through the stand-in's controls, not through expiry.
        Check = new ServiceCheck { CheckId = $"service:{id}", Ttl = "5m", Status = "passing", DeregisterCriticalServiceAfter = "10m" },
    };

    [Fact(Timeout = 30_000)]
    public async Task HealthyInstance_JoinsTheOrchestrator_WithAddressModelsSlotsAndGpusFromMeta()
    {
        await using var farm = await FollowedFarm.StartAsync();
        await farm.Client.RegisterServiceAsync(Worker("worker-a", 7101, "NVIDIA H100 80GB HBM3,NVIDIA H100 80GB HBM3"), CancellationToken.None).WaitAsync(Bound);

        var stopwatch = Stopwatch.StartNew();
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Joined, WorkerId: "worker-a" });
        output.WriteLine($"registration → joined the orchestrator in {stopwatch.Elapsed.TotalMilliseconds:0} ms");

        var worker = Assert.Single(farm.Harness.Orchestrator.Workers);
        Assert.Equal("worker-a", worker.WorkerId);
        Assert.Equal("http://127.0.0.1:7101", worker.Address);
        Assert.Equal(["procedural-i2v", "procedural-image"], worker.Models);
        Assert.Equal(2, worker.Slots);
        Assert.Equal(["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"], worker.Gpus);
        Assert.Equal("ready", worker.State);
    }

    [Fact(Timeout = 30_000)]
    public async Task CheckTurnsCritical_WorkerLeaves_AndItsRunningTaskMovesToTheOtherWorker()
    {
        await using var farm = await FollowedFarm.StartAsync();
        await farm.Client.RegisterServiceAsync(Worker("worker-a", 7101), CancellationToken.None).WaitAsync(Bound);
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Joined, WorkerId: "worker-a" });
        var job = await farm.Harness.SubmitAsync("a 5 second showcase for a lamp");
        var first = await farm.Harness.Transport.NextAsync();
        Assert.Equal("http://127.0.0.1:7101", first.Address);
        await farm.Client.RegisterServiceAsync(Worker("worker-b", 7102), CancellationToken.None).WaitAsync(Bound);
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Joined, WorkerId: "worker-b" });

        var stopwatch = Stopwatch.StartNew();
        farm.Consul.State.Force("service:worker-a", "critical");
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Left, WorkerId: "worker-a" });
        var noticed = stopwatch.Elapsed;
        var retried = await farm.Harness.Transport.NextAsync();

        output.WriteLine($"critical check → worker left the orchestrator in {noticed.TotalMilliseconds:0} ms");
        Assert.True(noticed < TimeSpan.FromSeconds(2), $"critical check noticed after {noticed.TotalMilliseconds:0} ms");
        Assert.True(first.Token.IsCancellationRequested, "the attempt on the lost worker was not stopped");
        Assert.Equal(first.TaskId, retried.TaskId);
        Assert.Equal("http://127.0.0.1:7102", retried.Address);
        Assert.Equal(["worker-b"], farm.Harness.Orchestrator.Workers.Select(w => w.WorkerId));
        Assert.Equal(job.JobId, retried.Request.JobId);
    }

    [Fact(Timeout = 30_000)]
    public async Task WarningCheck_DrainsTheWorkerWithoutRejoin_Deregistered_WorkerLeaves()
    {
        await using var farm = await FollowedFarm.StartAsync();
        await farm.Client.RegisterServiceAsync(Worker("worker-a", 7101), CancellationToken.None).WaitAsync(Bound);
        await farm.Client.RegisterServiceAsync(Worker("worker-b", 7102), CancellationToken.None).WaitAsync(Bound);
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Joined, WorkerId: "worker-b" });
        await farm.Events.WaitForAsync(e => e.Kind == FollowerEventKind.Synced && farm.Follower.Members.Count == 2);

        await farm.Client.UpdateTtlAsync("service:worker-b", CheckStatus.Warning, "draining", CancellationToken.None).WaitAsync(Bound);
        await farm.Events.WaitForAsync(e => e.Kind == FollowerEventKind.Synced && StateOf(farm, "worker-b") == "draining");
        await farm.Client.DeregisterServiceAsync("worker-a", CancellationToken.None).WaitAsync(Bound);
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Left, WorkerId: "worker-a" });

        Assert.Equal(["worker-b"], farm.Harness.Orchestrator.Workers.Select(w => w.WorkerId));
        Assert.Equal(2, farm.Events.Seen.Count(e => e.Kind == FollowerEventKind.Joined)); // draining is no re-join
    }

    [Fact(Timeout = 60_000)]
    public async Task ConsulOutage_KeepsTheKnownWorkersAlivePastTheirLease_LogsOnce_AndRecoversWhenConsulReturns()
    {
        await using var farm = await FollowedFarm.StartAsync();
        await farm.Client.RegisterServiceAsync(Worker("worker-a", 7101), CancellationToken.None).WaitAsync(Bound);
        await farm.Client.RegisterServiceAsync(Worker("worker-b", 7102), CancellationToken.None).WaitAsync(Bound);
        await farm.Events.WaitForAsync(e => e.Kind == FollowerEventKind.Synced && farm.Follower.Members.Count == 2);

        // Consul goes away (the agent's state lives on, as a restarted agent re-reads its registrations).
        var port = farm.Consul.Port;
        await farm.Consul.StopAsync();
        await farm.Events.WaitForAsync(e => e.Kind == FollowerEventKind.Unreachable);

        // Three worker leases pass on the coordinator's clock: without the follower's keep-alive both would be lost.
        var lease = TimeSpan.FromSeconds(farm.Harness.Options.WorkerLeaseSeconds);
        for (var elapsed = TimeSpan.Zero; elapsed < lease * 3; elapsed += TimeSpan.FromSeconds(0.5))
        {
            farm.Harness.Time.Advance(TimeSpan.FromSeconds(0.5));
            await farm.Harness.SyncAsync();
            Assert.All(farm.Harness.Orchestrator.Workers, w => Assert.Equal("ready", w.State));
        }

        Assert.Equal(["worker-a", "worker-b"], farm.Harness.Orchestrator.Workers.Select(w => w.WorkerId).Order());
        Assert.Equal(1, farm.LogLines.Count(m => m.Contains("consul unreachable", StringComparison.Ordinal)));

        // Consul comes back on the same port; the follower's backoff (on the fake clock) retries and recovers.
        await farm.RestartConsulAsync(port);
        var stopwatch = Stopwatch.StartNew();
        farm.Events.Drain();
        farm.Harness.Time.Advance(TimeSpan.FromSeconds(farm.ConsulOptions.RetryMaxSeconds * 1.2));
        while (await farm.Events.WaitForAsync(e => e.Kind is FollowerEventKind.BackingOff or FollowerEventKind.Recovered) is { Kind: FollowerEventKind.BackingOff })
        {
            farm.Harness.Time.Advance(TimeSpan.FromSeconds(farm.ConsulOptions.RetryMaxSeconds * 1.2));
        }

        await farm.Events.WaitForAsync(e => e.Kind == FollowerEventKind.Synced);
        output.WriteLine($"Consul back → follower synced in {stopwatch.Elapsed.TotalMilliseconds:0} ms (fake-clock backoff)");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"recovered after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(["worker-a", "worker-b"], farm.Harness.Orchestrator.Workers.Select(w => w.WorkerId).Order());
        Assert.DoesNotContain(farm.Events.Seen, e => e.Kind == FollowerEventKind.Left);
        Assert.Equal(2, farm.Events.Seen.Count(e => e.Kind == FollowerEventKind.Joined));
        Assert.Equal(1, farm.LogLines.Count(m => m.Contains("consul reachable again", StringComparison.Ordinal)));

        // And it follows changes again.
        farm.Consul.State.Force("service:worker-a", "critical");
        await farm.Events.WaitForAsync(e => e is { Kind: FollowerEventKind.Left, WorkerId: "worker-a" });
    }

    [Fact]
    public void ToJoinRequest_RejectsInstancesWithoutModelsOrSlots_AndUsesTheNodeAddressWhenTheServiceHasNone()
    {
        static ServiceHealthEntry Entry(Dictionary<string, string> meta, string address = "") => new()
        {
            Node = new HealthNode { Node = "n1", Address = "10.0.0.7" },
            Service = new HealthService { Id = "w", Service = "videogen-worker", Address = address, Port = 7101, Meta = meta },
        };

        var ok = ConsulWorkerFollower.ToJoinRequest(Entry(new() { ["models"] = "m1", ["slots"] = "3" }), out _);
        Assert.Equal("http://10.0.0.7:7101", ok!.Address);
        Assert.Equal("http://[fd00::1]:7101", ConsulWorkerFollower.ToJoinRequest(Entry(new() { ["models"] = "m1", ["slots"] = "3" }, "fd00::1"), out _)!.Address);
        Assert.Null(ConsulWorkerFollower.ToJoinRequest(Entry(new() { ["slots"] = "3" }), out var noModels));
        Assert.Contains("models", noModels);
        Assert.Null(ConsulWorkerFollower.ToJoinRequest(Entry(new() { ["models"] = "m1", ["slots"] = "zero" }), out var badSlots));
        Assert.Contains("slots", badSlots);
    }

    private static string? StateOf(FollowedFarm farm, string workerId) =>
        farm.Harness.Orchestrator.Workers.FirstOrDefault(w => w.WorkerId == workerId)?.State;

    /// <summary>An orchestrator (fake clock), the Consul stand-in (real HTTP) and a started follower between them.</summary>
    private sealed class FollowedFarm : IAsyncDisposable
    {
        private FollowedFarm(ConsulStandInServer consul, ConsulOptions options)
        {
            Consul = consul;
            ConsulOptions = options;
            Client = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString() });
            Follower = new ConsulWorkerFollower(
                new ConsulClient(options),
                Options.Create(options),
                Options.Create(Harness.Options),
                Harness.Orchestrator,
                Harness.Time,
                new ListLogger<ConsulWorkerFollower>(Log));
            Follower.Observed += Events.Add;
        }

        public OrchestratorHarness Harness { get; } = new();
        public ConsulStandInServer Consul { get; private set; }
        public ConsulOptions ConsulOptions { get; }
        public ConsulClient Client { get; }
        public ConsulWorkerFollower Follower { get; }
        public EventProbe Events { get; } = new();
        public List<string> Log { get; } = [];

        public IReadOnlyList<string> LogLines
        {
            get
            {
                lock (Log)
                {
                    return [.. Log];
                }
            }
        }

        public static async Task<FollowedFarm> StartAsync()
        {
            var consul = await ConsulStandInServer.StartAsync();
            var farm = new FollowedFarm(consul, new ConsulOptions
            {
                Address = consul.Address.ToString(),
                WaitSeconds = 30, // real time: a change must wake the query, not its timeout
                RetryBaseSeconds = 0.25,
                RetryMaxSeconds = 2,
            });
            await farm.Follower.StartAsync(CancellationToken.None);
            await farm.Events.WaitForAsync(e => e.Kind == FollowerEventKind.Synced);
            return farm;
        }

        public async Task RestartConsulAsync(int port)
        {
            await Consul.DisposeAsync();
            Consul = await ConsulStandInServer.StartAsync(Consul.State, port);
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(Bound);
            await Follower.StopAsync(timeout.Token);
            Follower.Dispose();
            Client.Dispose();
            await Consul.DisposeAsync();
            await Harness.DisposeAsync();
        }
    }

    /// <summary>The follower's events in order, awaited with a bound (signals, not sleeps).</summary>
    private sealed class EventProbe
    {
        private readonly Channel<FollowerEvent> _channel = Channel.CreateUnbounded<FollowerEvent>();
        private readonly List<FollowerEvent> _seen = [];

        public IReadOnlyList<FollowerEvent> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public void Add(FollowerEvent e)
        {
            lock (_seen)
            {
                _seen.Add(e);
            }

            _channel.Writer.TryWrite(e);
        }

        public void Drain()
        {
            while (_channel.Reader.TryRead(out _))
            {
            }
        }

        /// <summary>Consumes events until one matches.</summary>
        public async Task<FollowerEvent> WaitForAsync(Func<FollowerEvent, bool> match)
        {
            using var cts = new CancellationTokenSource(Bound);
            try
            {
                while (true)
                {
                    var e = await _channel.Reader.ReadAsync(cts.Token);
                    if (match(e))
                    {
                        return e;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching follower event within {Bound.TotalSeconds} s; seen: {string.Join(", ", Seen)}");
            }
        }
    }
}

/// <summary>A logger that keeps formatted messages.</summary>
internal sealed class ListLogger<T>(List<string> messages) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (messages)
        {
            messages.Add(formatter(state, exception));
        }
    }
}
