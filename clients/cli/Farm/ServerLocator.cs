namespace VideoGen.Cli.Farm;

/// <summary>
/// Finds the coordinator and worker DLLs: an explicit path (option, then environment
/// variable) wins; else artifacts/bin/&lt;Project&gt;/&lt;config&gt;/&lt;Project&gt;.dll under the folder that holds
/// VideoGen.sln, found by walking up from the CLI's own folder, preferring the CLI's own
/// build configuration.
/// </summary>
public static class ServerLocator
{
    public const string CoordinatorProject = "VideoGen.Coordinator";
    public const string WorkerProject = "VideoGen.Worker";
    public const string CoordinatorVariable = "VIDEOGEN_COORDINATOR_DLL";
    public const string WorkerVariable = "VIDEOGEN_WORKER_DLL";

    public static string Locate(string project, string? optionPath, string? environmentPath, string baseDirectory)
    {
        var explicitPath = !string.IsNullOrWhiteSpace(optionPath) ? optionPath
            : !string.IsNullOrWhiteSpace(environmentPath) ? environmentPath
            : null;
        if (explicitPath is not null)
        {
            var full = Path.GetFullPath(explicitPath);
            return File.Exists(full) ? full : throw new FarmException($"{project}: {full} does not exist");
        }

        var root = FindRepositoryRoot(baseDirectory)
            ?? throw new FarmException(
                $"{project}: no VideoGen.sln above {baseDirectory}; pass --{DllOption(project)} or set {Variable(project)}");
        var tried = new List<string>();
        foreach (var configuration in Configurations(baseDirectory))
        {
            var candidate = Path.Combine(root, "artifacts", "bin", project, configuration, project + ".dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
            tried.Add(candidate);
        }
        throw new FarmException(
            $"{project}: not built (looked for {string.Join(", ", tried)}); run 'dotnet build VideoGen.sln -c Release' or pass --{DllOption(project)}");
    }

    /// <summary>The nearest folder at or above <paramref name="start"/> that holds VideoGen.sln.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "VideoGen.sln")))
            {
                return folder.FullName;
            }
        }
        return null;
    }

    /// <summary>The CLI's own configuration first (the name of its output folder), then the other.</summary>
    public static IReadOnlyList<string> Configurations(string baseDirectory)
    {
        var own = new DirectoryInfo(baseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar)).Name;
        return own.Equals("debug", StringComparison.OrdinalIgnoreCase) ? ["debug", "release"] : ["release", "debug"];
    }

    private static string DllOption(string project) => project == CoordinatorProject ? "coordinator-dll" : "worker-dll";

    private static string Variable(string project) => project == CoordinatorProject ? CoordinatorVariable : WorkerVariable;
}

/// <summary>The farm could not start or a process of it died (exit code 1).</summary>
public sealed class FarmException(string message) : Exception(message);
