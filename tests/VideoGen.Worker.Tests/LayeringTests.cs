namespace VideoGen.Worker.Tests;

/// <summary>
/// The worker's folders depend one way (issue #14): Services/ (the gRPC edge) uses Tasks/, Media/, Models/ and Storage/;
/// none of those uses Services/ or builds the contract's task events — executions report domain events
/// (<c>Tasks/ExecutionEvent.cs</c>) and <c>Services/TaskEventMapper</c> alone turns them into <c>TaskEvent</c>s.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string Worker = Path.Combine(FindRepositoryRoot(), "worker");

    public static TheoryData<string> InnerFolders => new() { "Tasks", "Media", "Models", "Storage" };

    [Theory]
    [MemberData(nameof(InnerFolders))]
    public void InnerFolder_NeitherUsesServicesNorBuildsTaskEvents(string folder)
    {
        var files = Directory.EnumerateFiles(Path.Combine(Worker, folder), "*.cs", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);

        var offending = files
            .Where(f => File.ReadLines(f).Any(line => line.StartsWith("using VideoGen.Worker.Services", StringComparison.Ordinal)
                || line.Contains("new TaskEvent", StringComparison.Ordinal)
                || line.Contains("VideoGen.Worker.Services.", StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(Worker, f))
            .ToList();

        Assert.True(offending.Count == 0, $"{folder}/ depends on the service edge: {string.Join(", ", offending)}");
    }

    [Fact]
    public void ServiceEdge_IsWhereTaskEventsAreBuilt()
    {
        // The check above can fail: the mapper itself builds TaskEvents and sits in Services/.
        var mapper = File.ReadAllText(Path.Combine(Worker, "Services", "TaskEventMapper.cs"));

        Assert.Contains("new TaskEvent", mapper);
    }

    private static string FindRepositoryRoot()
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
