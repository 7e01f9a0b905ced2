namespace VideoGen.Cli.Farm;

/// <summary>
/// A local farm's settings and the command lines of its processes. Pure, so tests can
/// pin the exact arguments each server gets.
/// </summary>
public sealed record FarmLayout(int Workers, int Port, string Directory, int? Slots, int HttpPort = 0)
{
    public string CoordinatorUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The coordinator's HTTP/1.1 endpoint (web page, REST/JSON, /metrics) when <see cref="HttpPort"/> names one; null for a free port.</summary>
    public string? WebUrl => HttpPort > 0 ? $"http://127.0.0.1:{HttpPort}/" : null;

    public string ArtifactsDirectory => Path.Combine(Directory, "artifacts");

    public string LogsDirectory => Path.Combine(Directory, "logs");

    /// <summary>The farm's admin API key (0600): the coordinator's bootstrap admin key, made at the first <c>farm up</c>.</summary>
    public string AdminKeyFile => Path.Combine(Directory, "admin.key");

    public static string WorkerId(int index) => $"worker-{index}";

    public IEnumerable<string> WorkerIds => Enumerable.Range(1, Workers).Select(WorkerId);

    public string LogFile(string processName) => Path.Combine(LogsDirectory, processName + ".log");

    public IReadOnlyList<string> CoordinatorArguments() =>
    [
        $"--Coordinator:GrpcUrl={CoordinatorUrl}",
        $"--Coordinator:HttpUrl=http://127.0.0.1:{HttpPort}",
        $"--Coordinator:DataDirectory={Path.Combine(Directory, "coordinator")}",
        $"--Storage:LocalRoot={ArtifactsDirectory}",
        // The path, not the key: command lines are visible to every user of the machine.
        $"--Coordinator:Auth:BootstrapAdminKeyFile={AdminKeyFile}",
    ];

    public IReadOnlyList<string> WorkerArguments(int index)
    {
        var id = WorkerId(index);
        var arguments = new List<string>
        {
            $"--Worker:Id={id}",
            $"--Worker:Coordinator={CoordinatorUrl}",
            $"--Storage:LocalRoot={ArtifactsDirectory}",
            $"--Worker:WorkDirectory={Path.Combine(Directory, "work", id)}",
        };
        if (Slots is { } slots)
        {
            arguments.Add($"--Worker:Slots={slots}");
        }
        return arguments;
    }
}
