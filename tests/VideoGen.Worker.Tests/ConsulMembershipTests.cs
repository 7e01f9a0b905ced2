using System.Text.Json;
using VideoGen.ConsulStandIn;

namespace VideoGen.Worker.Tests;

/// <summary>A real worker in <c>Worker:Membership=consul</c> against the Consul stand-in.</summary>
public sealed class ConsulMembershipTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact(Timeout = 40_000)]
    public async Task Worker_ConsulMode_RegistersWithTtlCheckAndMeta_KeepsItPassing_ReregistersWhenForgotten_DeregistersOnStop()
    {
        var token = Timeouts.After(35);
        await using var consul = await ConsulStandInServer.StartAsync(token: "worker-token", cancellationToken: token);
        var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Membership"] = "consul",
            ["Consul:Address"] = consul.Address.ToString(),
            ["Consul:Token"] = "worker-token",
            ["Consul:CheckTtlSeconds"] = "0.6",
            ["Consul:Tags:0"] = "gpu-pool-a",
        }, token);
        try
        {
            static bool IsRegister(RecordedRequest r) => r.Path == "/v1/agent/service/register";
            var registered = await consul.State.WaitForRequestAsync(IsRegister, Bound);
            Assert.Equal("worker-token", registered.Token);
            using (var body = JsonDocument.Parse(registered.Body))
            {
                var root = body.RootElement;
                var grpc = new Uri(worker.Endpoints.GrpcAddress);
                Assert.Equal("test-worker", root.GetProperty("ID").GetString());
                Assert.Equal("videogen-worker", root.GetProperty("Name").GetString());
                Assert.Equal(grpc.Host, root.GetProperty("Address").GetString());
                Assert.Equal(grpc.Port, root.GetProperty("Port").GetInt32());
                Assert.Equal(["videogen", "grpc", "gpu-pool-a"], root.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
                var meta = root.GetProperty("Meta");
                Assert.Equal("procedural-i2v,procedural-flf2v,procedural-extend,procedural-image,espeak-ng,ffmpeg-bed", meta.GetProperty("models").GetString());
                Assert.Equal("2", meta.GetProperty("slots").GetString());
                Assert.Equal(new Uri(worker.Endpoints.HttpAddress).Port.ToString(), meta.GetProperty("metrics_port").GetString());
                Assert.Equal("0", meta.GetProperty("gpu_count").GetString()); // no nvidia-smi here
                Assert.Equal("", meta.GetProperty("gpus").GetString());
                Assert.False(string.IsNullOrEmpty(meta.GetProperty("version").GetString()));
                var check = root.GetProperty("Check");
                Assert.Equal("service:test-worker", check.GetProperty("CheckID").GetString());
                Assert.Equal("600ms", check.GetProperty("TTL").GetString());
                Assert.Equal("passing", check.GetProperty("Status").GetString());
                Assert.Equal("1m", check.GetProperty("DeregisterCriticalServiceAfter").GetString());
            }

            // It keeps its TTL check passing (every TTL/3), so it never expires.
            await consul.State.WaitForRequestAsync(r => r.Path == "/v1/agent/check/pass/service:test-worker", Bound, skip: 4);
            Assert.Equal("passing", consul.State.CheckStatus("service:test-worker"));

            // The agent forgets it (agent restarted, or it was reaped): the next pass gets 404 and it registers again.
            consul.State.Deregister("test-worker");
            await consul.State.WaitForRequestAsync(IsRegister, Bound, skip: 1);
            Assert.Equal(["test-worker"], consul.State.ServiceIds);

            // A clean shutdown deregisters.
            await worker.App.StopAsync(token);
            await consul.State.WaitForRequestAsync(r => r.Path == "/v1/agent/service/deregister/test-worker", Bound);
            Assert.Empty(consul.State.ServiceIds);
        }
        finally
        {
            await worker.DisposeAsync();
        }
    }
}
