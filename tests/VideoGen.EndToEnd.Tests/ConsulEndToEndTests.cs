using System.Diagnostics;
using System.Text.Json;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #5 end to end: the Consul stand-in, a coordinator and two workers as processes, all in Consul mode. The
/// workers register with the stand-in and the coordinator follows them; a failing check takes a worker out.
/// </summary>
public sealed class ConsulEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ConsulFarm_CompletesAJob_ThenAWorkersCheckFails_AndTheNextJobRunsOnTheOtherWorkerOnly()
    {
        var directory = RepoPaths.NewTempDirectory("consul-standin");
        await using var consul = ServerProcess.StartDotnet("consul", RepoPaths.Dll("VideoGen.ConsulStandIn"), ["--port", "0"], Path.Combine(directory, "consul.log"));
        var consulAddress = (await consul.WaitForLineAsync(@"consul stand-in listening (http://\S+)", TimeSpan.FromSeconds(60))).Groups[1].Value;

        var stopwatch = Stopwatch.StartNew();
        await using var farm = await LocalFarm.StartAsync("consul", new FarmOptions
        {
            Workers = 2,
            Coordinator = new()
            {
                ["Membership:Mode"] = "consul",
                ["Consul:Address"] = consulAddress,
                ["Consul:CheckTtlSeconds"] = "3",
            },
            Worker = _ => new()
            {
                ["Worker:Membership"] = "consul",
                // Nothing listens here: in Consul mode a worker never calls the coordinator's MembershipService.
                ["Worker:Coordinator"] = "http://127.0.0.1:1",
                ["Consul:Address"] = consulAddress,
                ["Consul:CheckTtlSeconds"] = "3",
            },
        });
        output.WriteLine($"farm of 2 workers joined through Consul in {stopwatch.ElapsedMilliseconds} ms");

        // The coordinator registered itself, so clients can find it through Consul.
        using var http = new HttpClient { BaseAddress = new Uri(consulAddress), Timeout = TimeSpan.FromSeconds(10) };
        using (var coordinators = JsonDocument.Parse(await http.GetStringAsync("/v1/health/service/videogen-coordinator?passing=true")))
        {
            var service = Assert.Single(coordinators.RootElement.EnumerateArray()).GetProperty("Service");
            Assert.Equal(farm.GrpcPort, service.GetProperty("Port").GetInt32());
        }

        var first = await farm.RunAsync("a 10 second showcase for a lamp");
        Assert.True(first.State == JobState.Succeeded, $"job ended {first.State}: {first.Error}\n{farm.Logs()}");

        // worker-1's health check fails (pinned critical; its own passes no longer count).
        stopwatch.Restart();
        using (var forced = await http.PutAsync("/_standin/checks/service:worker-1/force?status=critical", null))
        {
            forced.EnsureSuccessStatusCode();
        }

        await farm.Coordinator.WaitForLineAsync("worker=worker-1 left", TimeSpan.FromSeconds(10));
        output.WriteLine($"failing check → worker-1 left the scheduler in {stopwatch.ElapsedMilliseconds} ms");
        var workers = (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Workers;
        Assert.Equal(["worker-2"], workers.Select(w => w.WorkerId));

        var second = (await farm.SubmitAsync("a 15 second showcase for a lamp")).Job;
        var events = await farm.WatchAsync(second.JobId);
        var job = await farm.GetJobAsync(second.JobId);
        Assert.True(job.State == JobState.Succeeded, $"job ended {job.State}: {job.Error}\n{farm.Logs()}");
        var chunkRuns = events.Where(e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Running or TaskState.Succeeded })
            .Select(e => e.TaskUpdated.Task).ToList();
        Assert.Equal(job.Plan.Chunks.Count, chunkRuns.Where(t => t.State == TaskState.Succeeded).Select(t => t.Index).Distinct().Count());
        Assert.All(chunkRuns, t => Assert.Equal("worker-2", t.WorkerId));
    }
}
