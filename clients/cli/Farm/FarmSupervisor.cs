using System.Text.Json;
using Grpc.Core;
using VideoGen.Cli.Client;
using VideoGen.Cli.Commands;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Farm;

/// <summary>
/// Runs a local farm: starts the coordinator and the workers as child processes, waits
/// until the coordinator lists every worker as ready, then supervises them until asked to
/// stop (or until one dies), and stops them: workers first, so they can leave cleanly.
/// </summary>
public sealed class FarmSupervisor(FarmLayout layout, string coordinatorDll, string workerDll, TextWriter output, TextWriter errors)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public bool Json { get; init; }

    /// <summary>The line printed once every worker is ready; scripts wait for it.</summary>
    public static string ReadyLine(FarmLayout layout) =>
        $"farm ready: coordinator {layout.CoordinatorUrl}, {layout.Workers} workers";

    /// <summary>Runs until <paramref name="stop"/> fires (exit 0) or a process dies (exit 1).</summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        var host = DotnetHost();
        var coordinator = (ChildProcess?)null;
        var workers = new List<ChildProcess>();
        try
        {
            Directory.CreateDirectory(layout.ArtifactsDirectory);
            coordinator = ChildProcess.Start("coordinator", host, coordinatorDll, layout.CoordinatorArguments(), layout.LogFile("coordinator"));
            Info($"farm: coordinator pid {coordinator.ProcessId} on {layout.CoordinatorUrl} (log {coordinator.LogFile})");
            for (var i = 1; i <= layout.Workers; i++)
            {
                var id = FarmLayout.WorkerId(i);
                var worker = ChildProcess.Start(id, host, workerDll, layout.WorkerArguments(i), layout.LogFile(id));
                workers.Add(worker);
                Info($"farm: {id} pid {worker.ProcessId} (log {worker.LogFile})");
            }
            var all = workers.Prepend(coordinator).ToList();

            await WaitUntilReadyAsync(all, stop);
            if (Json)
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["event"] = "ready", ["coordinator"] = layout.CoordinatorUrl, ["workers"] = layout.Workers,
                    ["dir"] = Path.GetFullPath(layout.Directory),
                }));
            }
            else
            {
                output.WriteLine(ReadyLine(layout));
            }
            output.Flush();

            var anyExit = Task.WhenAny(all.Select(c => c.Exited));
            await Task.WhenAny(anyExit, Task.Delay(Timeout.Infinite, stop)).ContinueWith(_ => { }, TaskScheduler.Default);
            if (!stop.IsCancellationRequested)
            {
                var dead = all.First(c => c.Exited.IsCompleted);
                throw new FarmException(Died(dead));
            }
            Info("farm: stopping");
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Info("farm: stopping before it was ready");
            return ExitCodes.JobFailed;
        }
        finally
        {
            // Workers first: they drain and leave while the coordinator still answers.
            await Task.WhenAll(workers.Select(w => w.StopAsync(StopGrace)));
            if (coordinator is not null)
            {
                await coordinator.StopAsync(StopGrace);
            }
            foreach (var child in workers.Prepend(coordinator).OfType<ChildProcess>())
            {
                child.Dispose();
            }
        }
    }

    private async Task WaitUntilReadyAsync(IReadOnlyList<ChildProcess> children, CancellationToken stop)
    {
        using var connection = new CoordinatorConnection(layout.CoordinatorUrl);
        var expected = layout.WorkerIds.ToHashSet(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + ReadyTimeout;
        var lastReady = -1;
        var lastProblem = "the coordinator did not answer";
        while (true)
        {
            if (children.FirstOrDefault(c => c.Exited.IsCompleted) is { } dead)
            {
                throw new FarmException(Died(dead));
            }
            try
            {
                var response = await connection.Jobs.ListWorkersAsync(
                    new ListWorkersRequest(), deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: stop);
                var ready = response.Workers.Count(w => expected.Contains(w.WorkerId) && w.State is "ready" or "busy");
                if (ready != lastReady)
                {
                    Info($"farm: {ready}/{layout.Workers} workers ready");
                    lastReady = ready;
                }
                if (ready >= layout.Workers)
                {
                    return;
                }
                lastProblem = $"only {ready} of {layout.Workers} workers are ready";
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                lastProblem = $"the coordinator did not answer ({ex.StatusCode})";
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new FarmException(
                    $"farm not ready after {ReadyTimeout.TotalSeconds:0} s: {lastProblem}; logs in {Path.GetFullPath(layout.LogsDirectory)}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300), stop);
        }
    }

    private static string Died(ChildProcess child)
    {
        var tail = child.LogTail();
        return $"farm: {child.Name} exited with code {child.Exited.Result} (log {child.LogFile})"
            + (tail.Length > 0 ? $"\n--- last lines of {child.Name}.log ---\n{tail}" : "");
    }

    private void Info(string line)
    {
        // Status lines go to stderr in JSON mode so that stdout stays machine-readable.
        (Json ? errors : output).WriteLine(line);
    }

    /// <summary>The dotnet host that runs this CLI, so the servers run on the same runtime.</summary>
    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}
