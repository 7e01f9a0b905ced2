namespace VideoGen.EndToEnd.Tests.Infrastructure;

/// <summary>Where the built servers and tools are: artifacts/bin/&lt;Project&gt;/&lt;config&gt;/ under the repository root.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration of this test assembly ("release" or "debug"): servers of the same build are used.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name;

    public static string Dll(string project, string? assembly = null) =>
        Path.Combine(Root, "artifacts", "bin", project, Configuration, (assembly ?? project) + ".dll");

    public static string CoordinatorDll => Dll("VideoGen.Coordinator");

    public static string WorkerDll => Dll("VideoGen.Worker");

    public static string CliDll => Dll("VideoGen.Cli", "videogen");

    public static string NewTempDirectory(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "videogen-e2e", $"{name}-{Guid.NewGuid():n}"[..Math.Min(name.Length + 9, 60)]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "VideoGen.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No VideoGen.sln above {AppContext.BaseDirectory}");
    }
}
