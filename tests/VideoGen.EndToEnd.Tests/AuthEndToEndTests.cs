using System.Net;
using Google.Rpc;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #12 over real processes: API keys, tenants from the key, admin-only operations, quotas, and keys that
/// never reach a log line or the database.
/// </summary>
public sealed class AuthEndToEndTests
{
    private static readonly TimeSpan Call = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SecondTenant_CannotGetWatchCancelOrListTheFirstTenantsJob_ClientKeyCannotDrain_NoKeyIsUnauthenticated()
    {
        await using var farm = await LocalFarm.StartAsync("auth", new FarmOptions
        {
            Workers = 1,
            Coordinator = { ["Quotas:Tenants:acme:SubmitsPerMinute"] = "1" },
            // Chunks that take a while: the job is still running while the other tenant tries it.
            Worker = _ => new Dictionary<string, string> { ["Procedural:LatencySeconds"] = "1" },
        });
        var acmeKey = await farm.CreateKeyAsync("acme");
        var globexKey = await farm.CreateKeyAsync("globex");
        var acme = farm.JobsFor(acmeKey);
        var globex = farm.JobsFor(globexKey);

        // The job's tenant comes from the key; naming another tenant is refused.
        var job = (await acme.SubmitJobAsync(new SubmitJobRequest { RequestId = Guid.NewGuid().ToString(), Job = new JobRequest { Prompt = "a 10 second showcase for a lamp" } }, deadline: Deadline())).Job;
        Assert.Equal("acme", job.Request.Tenant);
        await AssertStatusAsync(StatusCode.PermissionDenied, acme.SubmitJobAsync(new SubmitJobRequest { Job = new JobRequest { Prompt = "a showcase", Tenant = "globex" } }, deadline: Deadline()).ResponseAsync);

        // The other tenant: NOT_FOUND, worded exactly as for a job that does not exist.
        var unknown = "job-20261127-000000-0000";
        var missing = await AssertStatusAsync(StatusCode.NotFound, globex.GetJobAsync(new GetJobRequest { JobId = unknown }, deadline: Deadline()).ResponseAsync);
        var hidden = await AssertStatusAsync(StatusCode.NotFound, globex.GetJobAsync(new GetJobRequest { JobId = job.JobId }, deadline: Deadline()).ResponseAsync);
        Assert.Equal(missing.Status.Detail.Replace(unknown, job.JobId), hidden.Status.Detail);
        await AssertStatusAsync(StatusCode.NotFound, globex.CancelJobAsync(new CancelJobRequest { JobId = job.JobId }, deadline: Deadline()).ResponseAsync);
        await AssertStatusAsync(StatusCode.NotFound, WatchFirstAsync(globex, job.JobId));
        var globexList = await globex.ListJobsAsync(new ListJobsRequest(), deadline: Deadline());
        Assert.DoesNotContain(globexList.Jobs, j => j.JobId == job.JobId);
        await AssertStatusAsync(StatusCode.PermissionDenied, globex.ListJobsAsync(new ListJobsRequest { Tenant = "acme" }, deadline: Deadline()).ResponseAsync);

        // The owner and the admin see it.
        Assert.Equal(job.JobId, (await acme.GetJobAsync(new GetJobRequest { JobId = job.JobId }, deadline: Deadline())).Job.JobId);
        Assert.Equal([job.JobId], (await acme.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs.Select(j => j.JobId));
        Assert.Contains((await farm.Jobs.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs, j => j.JobId == job.JobId);

        // Workers and keys are the admin's.
        await AssertStatusAsync(StatusCode.PermissionDenied, acme.DrainWorkerAsync(new DrainWorkerRequest { WorkerId = "worker-1" }, deadline: Deadline()).ResponseAsync);
        await AssertStatusAsync(StatusCode.PermissionDenied, acme.ListWorkersAsync(new ListWorkersRequest(), deadline: Deadline()).ResponseAsync);
        await AssertStatusAsync(StatusCode.PermissionDenied, farm.KeysFor(acmeKey).CreateKeyAsync(new CreateKeyRequest { Tenant = "acme", Role = KeyRole.Admin }, deadline: Deadline()).ResponseAsync);
        var worker = (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest(), deadline: Deadline())).Workers.Single();
        Assert.NotEqual(WorkerState.Draining, worker.WorkerState);

        // No key, a wrong key, a revoked key: UNAUTHENTICATED, over gRPC and over REST.
        await AssertStatusAsync(StatusCode.Unauthenticated, farm.JobsFor(null).GetJobAsync(new GetJobRequest { JobId = job.JobId }, deadline: Deadline()).ResponseAsync);
        await AssertStatusAsync(StatusCode.Unauthenticated, farm.JobsFor(null).SubmitJobAsync(new SubmitJobRequest { Job = new JobRequest { Prompt = "a showcase" } }, deadline: Deadline()).ResponseAsync);
        await AssertStatusAsync(StatusCode.Unauthenticated, farm.JobsFor(LocalFarm.NewKey()).ListJobsAsync(new ListJobsRequest(), deadline: Deadline()).ResponseAsync);
        using (var http = new HttpClient { BaseAddress = new Uri(farm.CoordinatorHttpAddress), Timeout = Call })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/jobs")).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{job.JobId}");
            request.Headers.Authorization = new("Bearer", globexKey);
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(request)).StatusCode);
        }

        var globexId = (await farm.KeysFor().ListKeysAsync(new ListKeysRequest(), deadline: Deadline())).Keys.Single(k => k.Tenant == "globex").KeyId;
        await farm.KeysFor().RevokeKeyAsync(new RevokeKeyRequest { KeyId = globexId }, deadline: Deadline());
        await AssertStatusAsync(StatusCode.Unauthenticated, globex.ListJobsAsync(new ListJobsRequest(), deadline: Deadline()).ResponseAsync);

        // acme's quota (one submit a minute): RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo.
        var refused = await AssertStatusAsync(StatusCode.ResourceExhausted, acme.SubmitJobAsync(new SubmitJobRequest { RequestId = Guid.NewGuid().ToString(), Job = new JobRequest { Prompt = "a showcase for a chair" } }, deadline: Deadline()).ResponseAsync);
        var status = refused.GetRpcStatus()!;
        Assert.Equal("tenant:acme/submits_per_minute", status.GetDetail<QuotaFailure>()!.Violations.Single().Subject);
        Assert.InRange(status.GetDetail<RetryInfo>()!.RetryDelay.ToTimeSpan(), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        // The owner cancels its own job (a job that already finished is returned as it is).
        var cancelled = (await acme.CancelJobAsync(new CancelJobRequest { JobId = job.JobId }, deadline: Deadline())).Job;
        Assert.Equal(job.JobId, cancelled.JobId);
        Assert.Contains(cancelled.State, new[] { JobState.Cancelled, JobState.Succeeded });

        // Keys are stored only as hashes: none is in the database files.
        await farm.Coordinator.StopAsync();
        // A clean stop exits 0 (not a crash on the way out, not the kill that follows a stop that hangs).
        Assert.True(farm.Coordinator.HasExited && await farm.Coordinator.Exited == 0, $"the coordinator did not exit 0 on SIGTERM:\n{farm.Coordinator.Tail(20)}");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(farm.Directory, "coordinator")))
        {
            var bytes = System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain(acmeKey, bytes);
            Assert.DoesNotContain(globexKey, bytes);
        }

        farm.AssertNoSecretInLogs();
    }

    private static DateTime Deadline() => DateTime.UtcNow.Add(Call);

    private static async Task WatchFirstAsync(JobService.JobServiceClient client, string jobId)
    {
        using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: Deadline());
        await call.ResponseStream.MoveNext(CancellationToken.None);
    }

    private static async Task<RpcException> AssertStatusAsync(StatusCode expected, Task call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Call * 2));
        Assert.True(error.StatusCode == expected, $"expected {expected}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }
}
