using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VideoGen.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A child process (a coordinator, a worker, the CLI, node) whose output is kept in memory and in a
/// log file, with waits on output lines as signals instead of sleeps.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Signal)> _waiters = [];
    private readonly Lock _gate = new();
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>; output goes to <paramref name="logPath"/>.</summary>
    public static ServerProcess Start(string name, string fileName, IEnumerable<string> arguments, string logPath, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(name, process, logPath);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Exited += (_, _) =>
        {
            // Exited can fire before the last output lines arrive; WaitForExit() drains them.
            process.WaitForExit();
            server._exited.TrySetResult(process.ExitCode);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Starts a .NET program from its dll.</summary>
    public static ServerProcess StartDotnet(string name, string dll, IEnumerable<string> arguments, string logPath, string? workingDirectory = null, IDictionary<string, string>? environment = null) =>
        Start(name, "dotnet", [dll, .. arguments], logPath, workingDirectory, environment);

    /// <summary>Waits for an output line matching <paramref name="pattern"/> (already seen or future), bounded.</summary>
    public async Task<Match> WaitForLineAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var signal = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var line in _lines)
            {
                var m = regex.Match(line);
                if (m.Success)
                {
                    return m;
                }
            }

            _waiters.Add((regex, signal));
        }

        var done = await Task.WhenAny(signal.Task, _exited.Task, Task.Delay(timeout));
        if (done == signal.Task)
        {
            return await signal.Task;
        }

        lock (_gate)
        {
            _waiters.RemoveAll(w => w.Signal == signal);
        }

        var why = done == _exited.Task ? $"exited with {await _exited.Task}" : $"did not print it within {timeout.TotalSeconds} s";
        throw new TimeoutException($"{Name} {why} (waiting for /{pattern}/). Output:\n{Tail(40)}");
    }

    /// <summary>Waits for the process to exit, bounded; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var done = await Task.WhenAny(_exited.Task, Task.Delay(timeout));
        if (done != _exited.Task)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds} s. Output:\n{Tail(40)}");
        }

        return await _exited.Task;
    }

    /// <summary>SIGKILL: the process dies at once, as in a crash.</summary>
    public void Kill()
    {
        if (!HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>SIGTERM: a clean shutdown request; waits for the exit, bounded.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        var done = await Task.WhenAny(_exited.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(15)));
        if (done != _exited.Task)
        {
            Kill();
        }
    }

    public string Tail(int lines)
    {
        var all = Lines;
        return string.Join('\n', all.Skip(Math.Max(0, all.Count - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            _log.WriteLine(line);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var m = _waiters[i].Pattern.Match(line);
                if (m.Success)
                {
                    _waiters[i].Signal.TrySetResult(m);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
