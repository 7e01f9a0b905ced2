using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Worker admission both ways (issue #12 item 4), over real processes: with a worker token, a process without it cannot
/// join, a worker refuses RunTask and CancelTask that do not carry it, and the farm's own calls (join, heartbeats,
/// every task of a job) do.
/// </summary>
public sealed class WorkerAdmissionEndToEndTests
{
    [Fact(Timeout = 300_000)]
    public async Task FarmWithAWorkerToken_AdmitsItsOwn_RefusesOthersBothWays()
    {
        var token = "farm-token-" + Guid.NewGuid().ToString("N");
        await using var farm = await LocalFarm.StartAsync("admission", new FarmOptions
        {
            Workers = 1,
            Coordinator = { ["Coordinator:WorkerToken"] = token },
            Worker = _ => new() { ["Worker:Token"] = token },
        });

        // The coordinator's calls carry the token: a whole job runs on the admitted worker.
        var job = await farm.RunAsync("a 4 second showcase for a lamp", r => (r.Transition, r.EndCard, r.Audio) = ("cut", false, false));
        Assert.True(job.State == JobState.Succeeded, job.Error);

        // A process without the token cannot join: refused, logged by the coordinator, never listed.
        await using var intruder = ServerProcess.StartDotnet("intruder", RepoPaths.WorkerDll,
            [$"--Worker:Id=intruder", $"--Worker:Coordinator={farm.CoordinatorAddress}", $"--Worker:WorkDirectory={Path.Combine(farm.Directory, "work", "intruder")}", $"--Storage:LocalRoot={farm.ArtifactsRoot}"],
            Path.Combine(farm.Directory, "intruder.log"));
        await farm.Coordinator.WaitForLineAsync(@"worker=intruder from \S+ refused on /videogen.v1.MembershipService/Join", TimeSpan.FromSeconds(60));
        await intruder.WaitForLineAsync("join failed .*Unauthenticated", TimeSpan.FromSeconds(30));
        var workers = await farm.Jobs.ListWorkersAsync(new ListWorkersRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(["worker-1"], workers.Workers.Select(w => w.WorkerId).ToArray());

        // A forged RunTask or CancelTask straight to the worker is refused; the same call with the token is answered.
        using var channel = GrpcChannel.ForAddress(workers.Workers.Single().Address);
        var worker = new WorkerService.WorkerServiceClient(channel);
        var forged = new RunTaskRequest { JobId = job.JobId, TaskId = "chunk-0", Attempt = 9 };
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = worker.RunTask(forged, deadline: DateTime.UtcNow.AddSeconds(10));
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        var wrong = new Metadata { { "authorization", "Bearer not-the-" + token } };
        var cancel = new CancelTaskRequest { JobId = job.JobId, TaskId = "chunk-99", Reason = "forged" };
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => worker.CancelTaskAsync(cancel, wrong, DateTime.UtcNow.AddSeconds(10)).ResponseAsync)).StatusCode);
        var right = new Metadata { { "authorization", "Bearer " + token } };
        Assert.False((await worker.CancelTaskAsync(cancel, right, DateTime.UtcNow.AddSeconds(10))).Found); // answered: nothing running
        await farm.Worker(1).WaitForLineAsync("refused /videogen.v1.WorkerService/RunTask from", TimeSpan.FromSeconds(10));

        // Probes need no token.
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(Path.Combine(farm.Directory, "coordinator.log")));
    }
}
