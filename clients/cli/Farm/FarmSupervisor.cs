using System.Text.Json;
using Grpc.Core;
using VideoGen.Cli.Client;
using VideoGen.Cli.Commands;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Farm;

/// <summary>
/// Runs a local farm: starts the coordinator and the workers as child processes, waits
/// until the coordinator lists every worker as ready, then supervises them until asked to
/// stop, and stops them: workers first, so they can leave cleanly. A process that dies once
/// the farm is ready is restarted (same id, same arguments, its log appended) after the
/// <see cref="RestartPolicy"/>'s backoff; one that dies more often than the policy allows ends
/// the farm with its log's last lines. A restarted worker rejoins and gets work again; a
/// restarted coordinator resumes every job from its store.
/// </summary>
public sealed class FarmSupervisor(FarmLayout layout, string coordinatorDll, string workerDll, TextWriter output, TextWriter errors, string? adminKey = null)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public bool Json { get; init; }

    /// <summary>When a dead process is restarted; <c>RestartPolicy.Default(0)</c> turns healing off.</summary>
    public RestartPolicy Restarts { get; init; } = RestartPolicy.Default();

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The line printed once every worker is ready; scripts wait for it.</summary>
    public static string ReadyLine(FarmLayout layout) =>
        $"farm ready: coordinator {layout.CoordinatorUrl}, {layout.Workers} workers" + (layout.WebUrl is { } web ? $", web page {web}" : "");

    /// <summary>Runs until <paramref name="stop"/> fires (exit 0) or a process dies too often (exit 1).</summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        var host = DotnetHost();
        // The farm's worker token: the one in the environment, else a fresh one for this farm. Its processes get it
        // through their environment; only they know it, so no other process can join as a worker or send them tasks.
        var token = VideoGen.Security.WorkerToken.Resolve(null);
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VideoGen.Security.WorkerToken.EnvironmentVariable] = token.Length > 0 ? token : VideoGen.Security.WorkerToken.New(),
        };
        var coordinator = new Supervised("coordinator", host, coordinatorDll, layout.CoordinatorArguments(), layout.LogFile("coordinator"), secrets);
        var workers = Enumerable.Range(1, layout.Workers)
            .Select(i => new Supervised(FarmLayout.WorkerId(i), host, workerDll, layout.WorkerArguments(i), layout.LogFile(FarmLayout.WorkerId(i)), secrets))
            .ToList();
        var all = workers.Prepend(coordinator).ToList();
        var ready = false;
        try
        {
            Directory.CreateDirectory(layout.ArtifactsDirectory);
            coordinator.Start(appendLog: false);
            Info($"farm: coordinator pid {coordinator.Current!.ProcessId} on {layout.CoordinatorUrl} (log {coordinator.LogFile})");
            foreach (var worker in workers)
            {
                worker.Start(appendLog: false);
                Info($"farm: {worker.Name} pid {worker.Current!.ProcessId} (log {worker.LogFile})");
            }

            // A process that dies before the farm is ready is a configuration problem (a port in
            // use, a missing model): restarting it would only hide the message.
            await WaitUntilReadyAsync(all.Select(s => s.Current!).ToList(), stop);
            ready = true;
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

            await SuperviseAsync(all, stop);
            Info("farm: stopping");
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Info(ready ? "farm: stopping" : "farm: stopping before it was ready");
            return ready ? ExitCodes.Ok : ExitCodes.JobFailed;
        }
        finally
        {
            // Workers first: they drain and leave while the coordinator still answers.
            await Task.WhenAll(workers.Select(w => w.StopAsync(StopGrace)));
            await coordinator.StopAsync(StopGrace);
            foreach (var supervised in all)
            {
                supervised.Dispose();
            }
        }
    }

    /// <summary>Until <paramref name="stop"/>: restarts each process that dies, as the policy allows.</summary>
    private async Task SuperviseAsync(IReadOnlyList<Supervised> all, CancellationToken stop)
    {
        while (true)
        {
            var anyExit = Task.WhenAny(all.Select(s => s.Current!.Exited));
            await Task.WhenAny(anyExit, Task.Delay(Timeout.Infinite, stop)).ConfigureAwait(false);
            stop.ThrowIfCancellationRequested();
            foreach (var dead in all.Where(s => s.Current!.Exited.IsCompleted))
            {
                var decision = Restarts.OnExit(dead.Name, Time.GetUtcNow());
                if (!decision.Restart)
                {
                    throw new FarmException(Died(dead.Current!)
                        + $"\nfarm: {dead.Name} died {decision.RecentRestarts + 1} times within a minute; giving up");
                }
                Info($"farm: {dead.Name} pid {dead.Current!.ProcessId} exited with code {dead.Current.Exited.Result}; "
                     + $"restarting in {decision.Delay.TotalSeconds:0.#} s (restart {decision.RecentRestarts} of at most {Restarts.MaxPerMinute} a minute; log {dead.LogFile})");
                await Task.Delay(decision.Delay, Time, stop);
                dead.Start(appendLog: true);
                Info($"farm: {dead.Name} restarted, pid {dead.Current.ProcessId}");
            }
        }
    }

    private async Task WaitUntilReadyAsync(IReadOnlyList<ChildProcess> children, CancellationToken stop)
    {
        using var connection = new CoordinatorConnection(layout.CoordinatorUrl, adminKey);
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
                var ready = response.Workers.Count(w => expected.Contains(w.WorkerId) && w.WorkerState is WorkerState.Ready or WorkerState.Busy);
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
            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
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

    /// <summary>One server of the farm across its restarts: its command line and its current process.</summary>
    private sealed class Supervised(string name, string host, string dll, IReadOnlyList<string> arguments, string logFile, IReadOnlyDictionary<string, string> environment) : IDisposable
    {
        public string Name => name;

        public string LogFile => logFile;

        public ChildProcess? Current { get; private set; }

        public void Start(bool appendLog)
        {
            Current?.Dispose();
            Current = ChildProcess.Start(name, host, dll, arguments, logFile, appendLog, environment);
        }

        public Task StopAsync(TimeSpan grace) => Current?.StopAsync(grace) ?? Task.CompletedTask;

        public void Dispose() => Current?.Dispose();
    }
}
