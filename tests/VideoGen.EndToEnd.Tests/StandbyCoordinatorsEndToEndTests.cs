using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Tests.Persistence;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Standby coordinators on a real PostgreSQL: two coordinator processes compete for the store's lease, two workers and
/// the CLI list both. The leader is killed (kill -9) in the middle of a 30 s job: the standby takes over at a new
/// epoch, resumes the job, the CLI's watch and the Python client's (each listing the standby first) follow it and see
/// every event once, no chunk is generated twice, and the workers refuse anything from the old epoch.
/// </summary>
public sealed partial class StandbyCoordinatorsEndToEndTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task LeaderKilledMidJob_TheStandbyTakesOver_TheJobCompletes_NoChunkTwice_NoEventMissed_OldEpochRefused()
    {
        var store = await postgres.CreateSchemaAsync();
        await using var farm = await LocalFarm.StartAsync("standby", new FarmOptions
        {
            Workers = 2,
            Standby = true,
            Coordinator = new()
            {
                ["JobStore:Kind"] = "postgres",
                ["JobStore:ConnectionString"] = store,
                ["Coordinator:Leadership:Enabled"] = "true",
                ["Coordinator:Leadership:LeaseSeconds"] = "4",
                ["Coordinator:Leadership:PollSeconds"] = "0.5",
            },
            Worker = _ => new() { ["Procedural:LatencySeconds"] = "1.5" },
        });
        await farm.Coordinator.WaitForLineAsync("leading the farm at epoch 1,", TimeSpan.FromSeconds(30));
        var standby = await farm.StartStandbyCoordinatorAsync();
        await standby.WaitForLineAsync($"standing by at epoch 1: the leader is {Regex.Escape(farm.CoordinatorAddress)}", TimeSpan.FromSeconds(60));

        // A standby asked for anything answers UNAVAILABLE and names the leader.
        using (var direct = GrpcChannel.ForAddress(farm.StandbyAddress))
        {
            var headers = new Metadata { { "authorization", $"Bearer {farm.AdminKey}" } };
            var refused = await Assert.ThrowsAsync<RpcException>(() => new JobService.JobServiceClient(direct)
                .SubmitJobAsync(new SubmitJobRequest { Job = new JobRequest { Prompt = "a lamp" } }, headers, DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            Assert.Contains(farm.CoordinatorAddress, refused.Status.Detail);
            Assert.Equal(farm.CoordinatorAddress, refused.Trailers.GetValue("videogen-leader"));
        }

        // The Node client lists the standby first: round-robin with retries on UNAVAILABLE reaches the leader.
        var standbyTarget = new Uri(farm.StandbyAddress).Authority;
        await using (var node = ServerProcess.Start("node", "node",
            [Path.Combine(RepoPaths.Root, "clients", "node", "watch.js"), "--coordinator", $"{standbyTarget},127.0.0.1:{farm.GrpcPort}", "--prompt", "a showcase for a lamp", "--duration", "5"],
            Path.Combine(farm.Directory, "node.log"), environment: farm.ClientEnvironment))
        {
            Assert.True(await node.WaitForExitAsync(TimeSpan.FromMinutes(6)) == 0, node.Output + farm.Logs());
            Assert.Contains(node.Lines, l => l.Contains("JOB_STATE_SUCCEEDED"));
        }

        // The CLI lists the standby first too: its calls reach the leader all the same.
        var output = Path.Combine(farm.Directory, "lamp.mp4");
        await using var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll,
            ["--coordinator", $"{farm.StandbyAddress},{farm.CoordinatorAddress}", "submit", "a 30 second showcase for a lamp", "--out", output],
            Path.Combine(farm.Directory, "cli.log"), environment: farm.ClientEnvironment);
        await cli.WaitForLineAsync(@"\[seq \d+\] chunk-\d+ running", TimeSpan.FromSeconds(120));

        // The Python client watches the same job through both coordinators, the standby listed first, across the kill.
        var python = Path.Combine(RepoPaths.Root, "clients", "python");
        await using (var generate = ServerProcess.Start("generate", "bash", [Path.Combine(python, "generate.sh")], Path.Combine(farm.Directory, "generate.log")))
        {
            Assert.True(await generate.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, generate.Output);
        }

        var lampJobId = await LampJobIdAsync(farm.CoordinatorAddress, farm.AdminKey);
        await using var pythonWatch = ServerProcess.Start("python", "/usr/bin/python3",
            ["-m", "videogen_client", "--coordinator", $"{standbyTarget},127.0.0.1:{farm.GrpcPort}", "watch", lampJobId],
            Path.Combine(farm.Directory, "python.log"), workingDirectory: python, environment: farm.ClientEnvironment);
        await pythonWatch.WaitForLineAsync("\"sequence\"", TimeSpan.FromSeconds(60));

        farm.Coordinator.Kill();
        await farm.Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await standby.WaitForLineAsync("leading the farm at epoch 2,", TimeSpan.FromSeconds(60));
        var exit = await cli.WaitForExitAsync(TimeSpan.FromMinutes(6));

        Assert.True(exit == 0, $"{cli.Output}\n{farm.Logs()}");
        var sequences = cli.Lines.Select(l => SeqLine().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences); // each once, in order, none missing
        Assert.Contains(cli.Lines, l => l.Contains("job succeeded"));
        Assert.InRange((await Media.ProbeAsync(output)).DurationSeconds, 29.9, 30.1);

        // The Python watch resumed on the new leader from its last sequence: the same events, each once, in order.
        Assert.True(await pythonWatch.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, pythonWatch.Output);
        var pythonSequences = pythonWatch.Lines.Where(l => l.StartsWith('{'))
            .Select(l => long.Parse(System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("sequence").GetString()!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(sequences, pythonSequences);
        Assert.Contains(pythonWatch.Lines, l => l.StartsWith("stream lost: resuming after sequence ", StringComparison.Ordinal));

        // No chunk was generated twice: the workers' successful chunk attempts are the jobs' chunks.
        using var leader = GrpcChannel.ForAddress(farm.StandbyAddress);
        var jobs = new JobService.JobServiceClient(leader);
        var auth = new Metadata { { "authorization", $"Bearer {farm.AdminKey}" } };
        var all = (await jobs.ListJobsAsync(new ListJobsRequest { PageSize = 5 }, auth, DateTime.UtcNow.AddSeconds(30))).Jobs;
        Assert.Equal(2, all.Count); // the Node client's and the CLI's
        var job = all.Single(j => j.Request.Prompt == "a 30 second showcase for a lamp");
        var planned = 0;
        foreach (var j in all)
        {
            planned += (await jobs.GetJobAsync(new GetJobRequest { JobId = j.JobId }, auth)).Job.Tasks.Count(t => t.Kind == TaskKind.Chunk);
        }

        double generated = 0;
        using var http = new HttpClient();
        for (var i = 1; i <= 2; i++)
        {
            var metrics = await http.GetStringAsync($"{await farm.WorkerHttpAddressAsync(i)}/metrics");
            generated += ChunkSuccesses().Matches(metrics).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        var done = (await jobs.GetJobAsync(new GetJobRequest { JobId = job.JobId }, auth)).Job;
        Assert.Equal(planned, generated);

        // Fencing: a task sent with the old epoch is refused by a worker that has seen the new one (the worker that ran
        // the job's last task, which the new leader sent).
        var last = done.Tasks.OrderBy(t => t.FinishedAt).Last();
        var workerAddress = (await jobs.ListWorkersAsync(new ListWorkersRequest(), auth)).Workers.Single(w => w.WorkerId == last.WorkerId).Address;
        using var workerChannel = GrpcChannel.ForAddress(workerAddress);
        using var stale = new WorkerService.WorkerServiceClient(workerChannel).RunTask(new RunTaskRequest
        {
            JobId = job.JobId,
            TaskId = "chunk-0",
            Attempt = 99,
            CoordinatorEpoch = 1,
        }, deadline: DateTime.UtcNow.AddSeconds(30));
        var fenced = await Assert.ThrowsAsync<RpcException>(() => stale.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Aborted, fenced.StatusCode);
    }

    private static async Task<string> LampJobIdAsync(string leader, string adminKey)
    {
        using var channel = GrpcChannel.ForAddress(leader);
        var page = await new JobService.JobServiceClient(channel).ListJobsAsync(new ListJobsRequest { PageSize = 5 },
            new Metadata { { "authorization", $"Bearer {adminKey}" } }, DateTime.UtcNow.AddSeconds(30));
        return page.Jobs.Single(j => j.Request.Prompt == "a 30 second showcase for a lamp").JobId;
    }

    [GeneratedRegex(@"^\[seq (\d+)\]")]
    private static partial Regex SeqLine();

    [GeneratedRegex(@"videogen_worker_tasks_total\{kind=""chunk"",outcome=""succeeded""\} ([0-9.e+]+)")]
    private static partial Regex ChunkSuccesses();
}
