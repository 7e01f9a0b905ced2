using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Contract hygiene (issue #13): <c>buf lint</c> with the STANDARD rules passes on protos/, and <c>buf breaking</c> against
/// the committed image of the released contract (protos/released/videogen-v1.binpb) keeps changes additive. buf comes from
/// the npm package @bufbuild/buf installed in tests/support/buf.
/// </summary>
public sealed class ContractTests
{
    private static readonly string Buf = Path.Combine(RepoPaths.Root, "tests", "support", "buf", "node_modules", ".bin", "buf");
    private static readonly string Protos = Path.Combine(RepoPaths.Root, "protos");
    private static readonly string Released = Path.Combine(Protos, "released", "videogen-v1.binpb");

    [Fact]
    public async Task BufLint_StandardRules_Pass()
    {
        var (exit, output) = await RunAsync(["lint", Protos]);

        Assert.True(exit == 0, $"buf lint:\n{output}");
    }

    [Fact]
    public async Task BufBreaking_AgainstTheReleasedContract_FindsNothing()
    {
        var (exit, output) = await RunAsync(["breaking", Protos, "--against", Released]);

        Assert.True(exit == 0, $"buf breaking:\n{output}");
    }

    [Fact]
    public async Task BufBreaking_SeesARemovedField()
    {
        // The check can fail: a copy of the contract without JobRequest.prompt is a breaking change.
        using var copy = new TempDirectory();
        CopyTree(Protos, copy.Path);
        var jobs = Path.Combine(copy.Path, "videogen", "v1", "jobs.proto");
        var text = await File.ReadAllTextAsync(jobs);
        Assert.Contains("  string prompt = 1;", text);
        await File.WriteAllTextAsync(jobs, text.Replace("  string prompt = 1;", "  reserved 1;", StringComparison.Ordinal));

        var (exit, output) = await RunAsync(["breaking", copy.Path, "--against", Released]);

        Assert.NotEqual(0, exit);
        Assert.Contains("prompt", output);
    }

    [Fact]
    public void ProtosFolder_HoldsTheContractOnly()
    {
        // Issue #14: protos/ is the .proto files, the buf configuration and the released image; shared C# lives in libs/.
        var allowed = new[] { ".proto", ".yaml", ".csproj", ".binpb", ".md" };
        var files = Directory.EnumerateFiles(Protos, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Protos, f))
            .Where(f => !f.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal) && !f.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToList();

        Assert.Contains(Path.Combine("videogen", "v1", "jobs.proto"), files);
        Assert.DoesNotContain(files, f => !allowed.Contains(Path.GetExtension(f), StringComparer.Ordinal));
    }

    [Fact]
    public async Task Cli_ShipsNeitherTheConsulClientNorTheCatalog()
    {
        // The CLI is a client of the contract: its dependency manifest names the contract and none of the farm's own libraries.
        var deps = await File.ReadAllTextAsync(Path.ChangeExtension(RepoPaths.CliDll, ".deps.json"));

        Assert.Contains("VideoGen.Contracts", deps);
        Assert.DoesNotContain("VideoGen.Consul", deps);
        Assert.DoesNotContain("VideoGen.Catalog", deps);
        Assert.Contains("VideoGen.Consul", await File.ReadAllTextAsync(Path.ChangeExtension(RepoPaths.WorkerDll, ".deps.json")));
    }

    private static async Task<(int Exit, string Output)> RunAsync(string[] arguments)
    {
        Assert.True(File.Exists(Buf), $"{Buf} is missing: npm ci in tests/support/buf (deploy/local/test.sh does it)");
        var log = Path.Combine(Path.GetTempPath(), $"buf-{Guid.NewGuid():N}.log");
        await using var buf = ServerProcess.Start("buf", Buf, arguments, log, workingDirectory: Protos);
        var exit = await buf.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (exit, buf.Output);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("videogen-buf-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
