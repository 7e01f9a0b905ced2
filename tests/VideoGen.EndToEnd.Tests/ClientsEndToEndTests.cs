using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>The farm from real clients: the videogen CLI and a Node.js gRPC client, as separate processes.</summary>
public sealed class ClientsEndToEndTests
{
    [Fact]
    public async Task Cli_SubmitWithOut_WritesTheMp4_AndPrintsItsPathLast()
    {
        await using var farm = await LocalFarm.StartAsync("cli", new FarmOptions { Workers = 1 });
        var output = Path.Combine(farm.Directory, "opening.mp4");

        await using var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll,
            ["--coordinator", farm.CoordinatorAddress, "submit", "Announce our new store opening, 12 seconds", "--out", output],
            Path.Combine(farm.Directory, "cli.log"));
        var exit = await cli.WaitForExitAsync(TimeSpan.FromMinutes(3));

        Assert.True(exit == 0, cli.Output);
        Assert.Equal(output, cli.Lines.Last(l => l.Length > 0));
        Assert.InRange((await Media.ProbeAsync(output)).DurationSeconds, 11.9, 12.1);
    }

    [Fact]
    public async Task Cli_BadInput_ExitsWithTheGrpcErrorNamingTheField()
    {
        await using var farm = await LocalFarm.StartAsync("cli-bad", new FarmOptions { Workers = 1 });

        await using var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll,
            ["--coordinator", farm.CoordinatorAddress, "submit", "a showcase", "--duration", "900"],
            Path.Combine(farm.Directory, "cli.log"));

        Assert.Equal(3, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("INVALID_ARGUMENT", cli.Output);
        Assert.Contains("job.duration_seconds", cli.Output);
    }

    [Fact]
    public async Task NodeClient_SubmitsAndWatchesAJobToItsEnd()
    {
        await using var farm = await LocalFarm.StartAsync("node", new FarmOptions { Workers = 1 });

        await using var node = ServerProcess.Start("node", "node",
            [Path.Combine(RepoPaths.Root, "clients", "node", "watch.js"), "--coordinator", $"127.0.0.1:{farm.GrpcPort}", "--prompt", "a showcase for a lamp", "--duration", "5"],
            Path.Combine(farm.Directory, "node.log"));
        var exit = await node.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, node.Output);
        Assert.Contains(node.Lines, l => l.Contains("JOB_STATE_SUCCEEDED"));
        Assert.StartsWith("{\"final\"", node.Lines.Last(l => l.Length > 0));
    }
}
