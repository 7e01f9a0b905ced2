using System.Diagnostics;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// <c>videogen farm up</c> as a user runs it: a real CLI process supervising a real coordinator and
/// workers. A worker killed with SIGKILL mid-job is restarted, the job finishes, and Ctrl-C still
/// stops every process.
/// </summary>
public sealed class FarmHealingEndToEndTests
{
    [Fact]
    public async Task FarmUp_KillNineOfAWorkerMidJob_RestartsIt_JobSucceeds_BackToNWorkers_CtrlCStopsAll()
    {
        var directory = RepoPaths.NewTempDirectory("farm-heal");
        var port = LocalFarm.FreePort();
        var address = $"http://127.0.0.1:{port}";
        // The workers inherit the CLI's environment: a model latency keeps chunks running long
        // enough to kill a worker in the middle of one.
        // As from a terminal, where Ctrl-C is SIGINT at its default: a test host started in the background (a script's
        // `cmd &`) hands its children SIGINT ignored, and the farm would then rightly ignore the test's Ctrl-C.
        await using var cli = ServerProcess.Start("farm", "env",
            ["--default-signal=INT", "dotnet", RepoPaths.CliDll, "farm", "up", "--workers", "2", "--port", port.ToString(), "--dir", Path.Combine(directory, "farm"), "--ready-timeout", "120"],
            Path.Combine(directory, "farm-up.log"),
            environment: new Dictionary<string, string>
            {
                ["Procedural__LatencySeconds"] = "2",
                ["VIDEOGEN_COORDINATOR_DLL"] = RepoPaths.CoordinatorDll,
                ["VIDEOGEN_WORKER_DLL"] = RepoPaths.WorkerDll,
                // farm up leaves a copy of its admin key for the CLI here, not in the user's home.
                ["VIDEOGEN_CONFIG_DIR"] = Path.Combine(directory, "config"),
            });
        await cli.WaitForLineAsync("^farm ready:", TimeSpan.FromSeconds(150));
        // Zero-config credentials: the farm made its admin key (0600) and the CLI's copy for this address.
        var keyFile = Path.Combine(directory, "farm", "admin.key");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        var adminKey = File.ReadAllLines(keyFile)[0];
        Assert.Equal(adminKey, File.ReadAllLines(Path.Combine(directory, "config", "credentials", $"127.0.0.1_{port}"))[0]);
        Assert.DoesNotContain(adminKey, cli.Output);
        using var channel = GrpcChannel.ForAddress(address);
        var jobs = new JobService.JobServiceClient(channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + adminKey);
            return metadata;
        }));

        var job = (await jobs.SubmitJobAsync(new SubmitJobRequest
        {
            RequestId = Guid.NewGuid().ToString(),
            Job = new JobRequest { Prompt = "a 30 second product showcase for a titanium smartwatch" },
        }, deadline: DateTime.UtcNow.AddSeconds(30))).Job;
        var running = await WatchUntilAsync(jobs, job.JobId,
            e => e.TaskUpdated?.Task is { Kind: TaskKind.Chunk, State: TaskState.Running });
        var victim = running.TaskUpdated.Task.WorkerId;
        var victimPid = int.Parse(cli.Lines.Select(l => Regex.Match(l, $@"^farm: {victim} pid (\d+)")).First(m => m.Success).Groups[1].Value);

        using (var process = Process.GetProcessById(victimPid))
        {
            process.Kill(); // SIGKILL: no goodbye to the coordinator
        }

        await cli.WaitForLineAsync($@"^farm: {victim} pid {victimPid} exited with code 137; restarting in", TimeSpan.FromSeconds(30));
        var restartedPid = int.Parse((await cli.WaitForLineAsync($@"^farm: {victim} restarted, pid (\d+)", TimeSpan.FromSeconds(60))).Groups[1].Value);
        Assert.NotEqual(victimPid, restartedPid);

        // The farm kept serving: the job that was running when the worker died finishes.
        await WatchUntilAsync(jobs, job.JobId, e => e.StateChanged is { State: JobState.Succeeded or JobState.Failed or JobState.Cancelled },
            TimeSpan.FromMinutes(4));
        var done = (await jobs.GetJobAsync(new GetJobRequest { JobId = job.JobId }, deadline: DateTime.UtcNow.AddSeconds(30))).Job;
        Assert.True(done.State == JobState.Succeeded, $"job ended {done.State}: {done.Error}\n{cli.Tail(40)}");
        Assert.InRange((await Media.ProbeAsync(LocalFarm.LocalPath(done.OutputUri))).DurationSeconds, 29.9, 30.1);
        Assert.False(cli.HasExited, cli.Tail(40));

        // Back to N workers, both ready.
        await Poll.UntilAsync(async () =>
        {
            var workers = (await jobs.ListWorkersAsync(new ListWorkersRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Workers;
            return workers.Where(w => w.State == "ready").Select(w => w.WorkerId).Order().SequenceEqual(["worker-1", "worker-2"]);
        }, TimeSpan.FromSeconds(60), "the farm did not get back to 2 ready workers");

        // Ctrl-C stops everything, the restarted worker included.
        var children = cli.Lines.Select(l => Regex.Match(l, @"^farm: \S+ (?:restarted, )?pid (\d+)")).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value)).Where(pid => pid != victimPid).ToList();
        Assert.Equal(3, children.Count);
        using (var interrupt = Process.Start("kill", ["-INT", cli.Id.ToString()]))
        {
            await interrupt.WaitForExitAsync();
        }
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.All(children, pid => Assert.False(IsAlive(pid), $"pid {pid} outlived the farm"));
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<JobEvent> WatchUntilAsync(JobService.JobServiceClient jobs, string jobId, Func<JobEvent, bool> stop, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        using var call = jobs.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cts.Token);
        await foreach (var e in call.ResponseStream.ReadAllAsync(cts.Token))
        {
            if (stop(e))
            {
                return e;
            }
        }
        throw new InvalidOperationException($"job {jobId} ended before the awaited event");
    }
}
