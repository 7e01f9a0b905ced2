using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using VideoGen.ConsulStandIn;
using VideoGen.Consul;

namespace VideoGen.Coordinator.Tests.Membership;

/// <summary>The real Consul client against the stand-in: the wire format Consul documents, and the stand-in's state.</summary>
public sealed class ConsulClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static ServiceRegistration Worker(string id, int port = 7101) => new()
    {
        Id = id,
        Name = "videogen-worker",
        Tags = ["videogen", "grpc"],
        Address = "127.0.0.1",
        Port = port,
        Meta = new() { ["models"] = "procedural-i2v,procedural-image", ["slots"] = "2", ["metrics_port"] = "9101" },
        Check = new ServiceCheck
        {
            CheckId = $"service:{id}",
            Name = "videogen worker heartbeat",
            Ttl = GoDuration.Format(TimeSpan.FromSeconds(10)),
            Status = "passing",
            DeregisterCriticalServiceAfter = GoDuration.Format(TimeSpan.FromMinutes(1)),
        },
    };

    [Fact(Timeout = 20_000)]
    public async Task RegisterService_SendsTheDocumentedBodyWithTokenHeader_AndHealthShowsThePassingInstance()
    {
        await using var consul = await ConsulStandInServer.StartAsync(token: "s3cret");
        using var client = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString(), Token = "s3cret", Datacenter = "dc1" });

        await client.RegisterServiceAsync(Worker("worker-a"), CancellationToken.None).WaitAsync(Bound);

        var sent = consul.State.Requests.Single(r => r.Path == "/v1/agent/service/register");
        Assert.Equal("PUT", sent.Method);
        Assert.Equal("s3cret", sent.Token);
        using var body = JsonDocument.Parse(sent.Body);
        var root = body.RootElement;
        Assert.Equal("worker-a", root.GetProperty("ID").GetString());
        Assert.Equal("videogen-worker", root.GetProperty("Name").GetString());
        Assert.Equal("127.0.0.1", root.GetProperty("Address").GetString());
        Assert.Equal(7101, root.GetProperty("Port").GetInt32());
        Assert.Equal(["videogen", "grpc"], root.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("9101", root.GetProperty("Meta").GetProperty("metrics_port").GetString());
        var check = root.GetProperty("Check");
        Assert.Equal("service:worker-a", check.GetProperty("CheckID").GetString());
        Assert.Equal("10s", check.GetProperty("TTL").GetString());
        Assert.Equal("1m", check.GetProperty("DeregisterCriticalServiceAfter").GetString());
        Assert.Equal("passing", check.GetProperty("Status").GetString());
        Assert.False(check.TryGetProperty("GRPC", out _), "unset fields are left out, not sent as null");

        var health = await client.HealthServiceAsync("videogen-worker", passingOnly: true, 0, TimeSpan.Zero, CancellationToken.None).WaitAsync(Bound);
        var entry = Assert.Single(health.Entries);
        Assert.Equal(("worker-a", 7101, "127.0.0.1"), (entry.Service.Id, entry.Service.Port, entry.EffectiveAddress));
        Assert.Equal(CheckStatus.Passing, entry.AggregatedStatus);
        Assert.Contains(entry.Checks, c => c.CheckId == "serfHealth");
        Assert.True(health.Index > 0);
        Assert.Contains("dc=dc1", consul.State.Requests.Last(r => r.Path.StartsWith("/v1/health/", StringComparison.Ordinal)).Query);
    }

    [Fact(Timeout = 20_000)]
    public async Task WrongTokenOrDatacenter_AreConsulErrors_NotSilence()
    {
        await using var consul = await ConsulStandInServer.StartAsync(token: "s3cret");
        using var noToken = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString(), Token = "wrong" });
        using var otherDc = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString(), Token = "s3cret", Datacenter = "eu-west" });

        var denied = await Assert.ThrowsAsync<ConsulException>(() => noToken.RegisterServiceAsync(Worker("worker-a"), CancellationToken.None)).WaitAsync(Bound);
        var noPath = await Assert.ThrowsAsync<ConsulException>(() => otherDc.HealthServiceAsync("videogen-worker", true, 0, TimeSpan.Zero, CancellationToken.None)).WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.Forbidden, denied.Status);
        Assert.Equal(HttpStatusCode.InternalServerError, noPath.Status);
        Assert.Contains("No path to datacenter", noPath.Message);
    }

    [Fact(Timeout = 20_000)]
    public async Task DeregisterAndTtlUpdates_OfUnknownIds_AnswerFalse_KnownOnesTrue()
    {
        await using var consul = await ConsulStandInServer.StartAsync();
        using var client = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString() });
        await client.RegisterServiceAsync(Worker("worker-a"), CancellationToken.None).WaitAsync(Bound);

        Assert.True(await client.UpdateTtlAsync("service:worker-a", CheckStatus.Warning, "draining", CancellationToken.None).WaitAsync(Bound));
        Assert.Equal("warning", consul.State.CheckStatus("service:worker-a"));
        Assert.Contains(consul.State.Requests, r => r.Path == "/v1/agent/check/warn/service:worker-a" && r.Query == "?note=draining");
        Assert.True(await client.DeregisterServiceAsync("worker-a", CancellationToken.None).WaitAsync(Bound));
        Assert.Empty(consul.State.ServiceIds);

        Assert.False(await client.UpdateTtlAsync("service:worker-a", CheckStatus.Passing, null, CancellationToken.None).WaitAsync(Bound));
        Assert.False(await client.DeregisterServiceAsync("worker-a", CancellationToken.None).WaitAsync(Bound));
    }

    [Fact(Timeout = 20_000)]
    public async Task BlockingQuery_WakesWhenTheServiceChanges_LongBeforeItsWait()
    {
        await using var consul = await ConsulStandInServer.StartAsync();
        using var client = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString() });
        await client.RegisterServiceAsync(Worker("worker-a"), CancellationToken.None).WaitAsync(Bound);
        var first = await client.HealthServiceAsync("videogen-worker", false, 0, TimeSpan.Zero, CancellationToken.None).WaitAsync(Bound);

        var blocked = client.HealthServiceAsync("videogen-worker", false, first.Index, TimeSpan.FromSeconds(30), CancellationToken.None);
        await consul.State.WaitForRequestAsync(r => r.Query.Contains("index=", StringComparison.Ordinal), Bound);
        Assert.False(blocked.IsCompleted, "a query at the current index must block until a change");
        var stopwatch = Stopwatch.StartNew();
        await client.RegisterServiceAsync(Worker("worker-b", 7102), CancellationToken.None).WaitAsync(Bound);
        var woke = await blocked.WaitAsync(Bound);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"woke after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(woke.Index > first.Index);
        Assert.Equal(["worker-a", "worker-b"], woke.Entries.Select(e => e.Service.Id));
        Assert.Contains("wait=30s", consul.State.Requests.Last(r => r.Query.Contains("index=", StringComparison.Ordinal)).Query);
    }

    [Fact(Timeout = 20_000)]
    public async Task BlockingQuery_WithoutChange_ReturnsAtItsWaitWithTheSameIndex_AndPassesDoNotWakeIt()
    {
        await using var consul = await ConsulStandInServer.StartAsync();
        using var client = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString() });
        await client.RegisterServiceAsync(Worker("worker-a"), CancellationToken.None).WaitAsync(Bound);
        var first = await client.HealthServiceAsync("videogen-worker", false, 0, TimeSpan.Zero, CancellationToken.None).WaitAsync(Bound);

        var stopwatch = Stopwatch.StartNew();
        var blocked = client.HealthServiceAsync("videogen-worker", false, first.Index, TimeSpan.FromMilliseconds(500), CancellationToken.None);
        // A pass of an already passing check is no change: Consul does not wake watchers for it.
        Assert.True(await client.UpdateTtlAsync("service:worker-a", CheckStatus.Passing, "1 running", CancellationToken.None).WaitAsync(Bound));
        var result = await blocked.WaitAsync(Bound);

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(480), TimeSpan.FromSeconds(3));
        Assert.Equal(first.Index, result.Index);
    }

    [Fact(Timeout = 20_000)]
    public async Task TtlCheck_NotPassedInTime_TurnsCritical_AndIsDeregisteredAfterDeregisterCriticalServiceAfter()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T00:00:00Z"));
        await using var consul = await ConsulStandInServer.StartAsync(new ConsulStandInState(time));
        using var client = new ConsulClient(new ConsulOptions { Address = consul.Address.ToString() });
        await client.RegisterServiceAsync(Worker("worker-a"), CancellationToken.None).WaitAsync(Bound);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(await client.UpdateTtlAsync("service:worker-a", CheckStatus.Passing, null, CancellationToken.None).WaitAsync(Bound));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("passing", consul.State.CheckStatus("service:worker-a")); // the pass reset the 10 s TTL
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("critical", consul.State.CheckStatus("service:worker-a"));
        var passing = await client.HealthServiceAsync("videogen-worker", passingOnly: true, 0, TimeSpan.Zero, CancellationToken.None).WaitAsync(Bound);
        Assert.Empty(passing.Entries);
        Assert.Equal(CheckStatus.Critical, Assert.Single((await client.HealthServiceAsync("videogen-worker", false, 0, TimeSpan.Zero, CancellationToken.None).WaitAsync(Bound)).Entries).AggregatedStatus);

        time.Advance(TimeSpan.FromSeconds(58)); // critical since t=19; deregistered at t=79
        Assert.Equal(["worker-a"], consul.State.ServiceIds);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(consul.State.ServiceIds);
    }

    [Fact]
    public void Options_FallBackToConsulEnvironmentVariables_AndAcceptHostPort()
    {
        var environment = new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = "consul.internal:8500", ["CONSUL_HTTP_TOKEN"] = "from-env" };

        Assert.Equal(new Uri("http://consul.internal:8500/"), new ConsulOptions().ResolveAddress(environment.GetValueOrDefault));
        Assert.Equal("from-env", new ConsulOptions().ResolveToken(environment.GetValueOrDefault));
        Assert.Equal(new Uri("https://c:8501/"), new ConsulOptions { Address = "https://c:8501" }.ResolveAddress(environment.GetValueOrDefault));
        Assert.Equal("given", new ConsulOptions { Token = "given" }.ResolveToken(environment.GetValueOrDefault));
        Assert.Equal(new Uri("http://127.0.0.1:8500/"), new ConsulOptions().ResolveAddress(_ => null));
        Assert.NotEmpty(new ConsulOptions { Address = "ftp://x", WaitSeconds = 0 }.Validate());
        Assert.Equal(["10s", "1m", "1500ms", "90s"], new[] { 10.0, 60, 1.5, 90 }.Select(s => GoDuration.Format(TimeSpan.FromSeconds(s))));
        Assert.Equal(TimeSpan.FromSeconds(90), GoDurationParser.Parse("1m30s", "x"));
    }

    [Fact]
    public void ConsulIndex_ResetsWhenItGoesBackwards_AndIsNeverZero()
    {
        Assert.Equal(42UL, ConsulIndex.Next(10, 42));
        Assert.Equal(10UL, ConsulIndex.Next(10, 10));
        Assert.Equal(0UL, ConsulIndex.Next(10, 3));
        Assert.Equal(1UL, ConsulIndex.Next(10, 0));
    }
}
