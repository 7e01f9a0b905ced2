using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VideoGen.Cli.Farm;

/// <summary>
/// One server of the farm run as <c>dotnet DLL ARGS</c>, its stdout and stderr appended to
/// its log file. Stopped with SIGTERM (a graceful shutdown: workers drain and leave), then
/// killed with its process tree after a bounded wait.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(string name, Process process, StreamWriter log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public string LogFile => ((FileStream)_log.BaseStream).Name;

    public int ProcessId => _process.Id;

    /// <summary>Completes with the exit code when the process ends, whoever ended it.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>
    /// Starts the process; <paramref name="appendLog"/> keeps the log of an earlier run (a restart). <paramref name="environment"/>
    /// is added to the inherited environment: where secrets go (a command line is visible to every user in <c>ps</c>).
    /// </summary>
    public static ChildProcess Start(string name, string dotnetHost, string dll, IEnumerable<string> arguments, string logFile, bool appendLog = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var mode = appendLog ? FileMode.Append : FileMode.Create;
        var log = new StreamWriter(new FileStream(logFile, mode, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var startInfo = new ProcessStartInfo(dotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // Plain logs: the servers' console logger must not colour a file.
        startInfo.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "false";
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, log);
        process.OutputDataReceived += (_, e) => child.WriteLog(e.Data);
        process.ErrorDataReceived += (_, e) => child.WriteLog(e.Data);
        process.Exited += (_, _) => child.OnExited();
        log.WriteLine($"# {dotnetHost} {dll} {string.Join(' ', startInfo.ArgumentList.Skip(1))}");
        if (!process.Start())
        {
            throw new FarmException($"{name}: could not start {dotnetHost}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>SIGTERM, then wait up to <paramref name="grace"/>, then kill the process tree.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_exited.Task.IsCompleted)
        {
            return;
        }
        try
        {
            if (OperatingSystem.IsWindows() || Kill(_process.Id, Sigterm) != 0)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended between the check and the signal.
        }
        var finished = await Task.WhenAny(_exited.Task, Task.Delay(grace));
        if (finished != _exited.Task)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromSeconds(5)));
        }
    }

    /// <summary>The last lines of the log, to show why a process died.</summary>
    public string LogTail(int lines = 20)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines + 1)).TrimEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private void WriteLog(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            if (_log.BaseStream.CanWrite)
            {
                _log.WriteLine(line);
            }
        }
    }

    private void OnExited()
    {
        int code;
        try
        {
            // The parameterless wait also drains the redirected output into the log.
            _process.WaitForExit();
            code = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1;
        }
        _exited.TrySetResult(code);
    }

    private const int Sigterm = 15;

    // The BCL can only SIGKILL a process; a graceful stop needs kill(2).
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
