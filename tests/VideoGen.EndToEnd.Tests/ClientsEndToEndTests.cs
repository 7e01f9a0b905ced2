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
            Path.Combine(farm.Directory, "cli.log"), environment: farm.ClientEnvironment);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromMinutes(6));

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
            Path.Combine(farm.Directory, "cli.log"), environment: farm.ClientEnvironment);

        Assert.Equal(3, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("INVALID_ARGUMENT", cli.Output);
        Assert.Contains("job.duration_seconds", cli.Output);
    }

    [Fact]
    public async Task Cli_KeysCreateListRevoke_TheNewKeyWorksUntilRevoked()
    {
        await using var farm = await LocalFarm.StartAsync("cli-keys", new FarmOptions { Workers = 0 });

        var created = await CliAsync(farm, farm.ClientEnvironment, "keys", "create", "--tenant", "acme", "--json");
        using var json = System.Text.Json.JsonDocument.Parse(created.Lines.Last(l => l.Length > 0));
        var key = json.RootElement.GetProperty("key").GetString()!;
        var keyId = json.RootElement.GetProperty("info").GetProperty("keyId").GetString()!;
        Assert.Equal("acme", json.RootElement.GetProperty("info").GetProperty("tenant").GetString());

        var listed = await CliAsync(farm, farm.ClientEnvironment, "keys", "list");
        Assert.Contains(listed.Lines, l => l.StartsWith(keyId, StringComparison.Ordinal) && l.Contains("acme") && l.Contains("client"));
        Assert.DoesNotContain(key, listed.Output);

        // The new key, by flag: its tenant's (empty) job list; not the workers.
        Assert.Contains("no jobs", (await CliAsync(farm, [], "--api-key", key, "list")).Output);
        var workers = await CliAsync(farm, [], 3, "--api-key", key, "workers");
        Assert.Contains("PERMISSION_DENIED", workers.Output);

        Assert.Contains($"{keyId} revoked", (await CliAsync(farm, farm.ClientEnvironment, "keys", "revoke", keyId)).Output);
        var revoked = await CliAsync(farm, new Dictionary<string, string> { ["VIDEOGEN_API_KEY"] = key }, 3, "list");
        Assert.Contains("UNAUTHENTICATED", revoked.Output);
        var none = await CliAsync(farm, new Dictionary<string, string> { ["VIDEOGEN_CONFIG_DIR"] = Path.Combine(farm.Directory, "no-config") }, 3, "list");
        Assert.Contains("UNAUTHENTICATED", none.Output);
    }

    [Fact]
    public async Task Cli_WithSeveralCoordinators_PassesOverOneThatIsDown()
    {
        await using var farm = await LocalFarm.StartAsync("cli-failover", new FarmOptions { Workers = 1 });
        var down = $"127.0.0.1:{DownPort()}";

        await using var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll,
            ["--coordinator", $"{down},{farm.CoordinatorAddress}", "workers"],
            Path.Combine(farm.Directory, "cli.log"), environment: farm.ClientEnvironment);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 0, cli.Output);
        Assert.Contains(cli.Lines, l => l.StartsWith("worker-1 ", StringComparison.Ordinal) && l.Contains("ready"));
    }

    /// <summary>
    /// A loopback port nothing listens on (a coordinator that is down): port 1, which nothing binds, so a connection
    /// there is refused at once. (A port that was free a moment ago can be taken by another test's worker meanwhile.)
    /// </summary>
    private static int DownPort() => 1;

    private static Task<ServerProcess> CliAsync(LocalFarm farm, Dictionary<string, string> environment, params string[] args) => CliAsync(farm, environment, 0, args);

    /// <summary>Runs the CLI against the farm to its exit, asserting the exit code; its output is in the farm's folder (scanned for keys).</summary>
    private static async Task<ServerProcess> CliAsync(LocalFarm farm, Dictionary<string, string> environment, int expectedExit, params string[] args)
    {
        var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll, ["--coordinator", farm.CoordinatorAddress, .. args],
            Path.Combine(farm.Directory, $"cli-{Guid.NewGuid():N}.log"), environment: environment);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await cli.DisposeAsync();
        Assert.True(exit == expectedExit, $"videogen {string.Join(' ', args)} exited {exit}:\n{cli.Output}");
        return cli;
    }

    [Fact]
    public async Task NodeClient_SubmitsAndWatchesAJobToItsEnd()
    {
        await using var farm = await LocalFarm.StartAsync("node", new FarmOptions { Workers = 1 });

        await using var node = ServerProcess.Start("node", "node",
            // Two coordinators, the first down: the client passes over it (pick_first over an ipv4: target).
            [Path.Combine(RepoPaths.Root, "clients", "node", "watch.js"), "--coordinator", $"127.0.0.1:{DownPort()},127.0.0.1:{farm.GrpcPort}", "--prompt", "a showcase for a lamp", "--duration", "5"],
            Path.Combine(farm.Directory, "node.log"), environment: farm.ClientEnvironment);
        var exit = await node.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, node.Output);
        Assert.Contains(node.Lines, l => l.Contains("JOB_STATE_SUCCEEDED"));
        Assert.StartsWith("{\"final\"", node.Lines.Last(l => l.Length > 0));
    }

    [Fact]
    public async Task PythonClient_SubmitsWatchesWithResumeGetsAndCancels()
    {
        await using var farm = await LocalFarm.StartAsync("python", new FarmOptions { Workers = 1 });
        var python = Path.Combine(RepoPaths.Root, "clients", "python");

        // Stubs are generated from protos/ at test time with Debian's protoc and grpc_python_plugin.
        await using (var generate = ServerProcess.Start("generate", "bash", [Path.Combine(python, "generate.sh")], Path.Combine(farm.Directory, "generate.log")))
        {
            Assert.True(await generate.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, generate.Output);
        }

        await using var client = ServerProcess.Start("python", "/usr/bin/python3",
            [Path.Combine(python, "check.py"), "--coordinator", $"127.0.0.1:{DownPort()},127.0.0.1:{farm.GrpcPort}", "--prompt", "Announce our new store opening", "--duration", "12"],
            Path.Combine(farm.Directory, "python.log"), workingDirectory: python, environment: farm.ClientEnvironment);
        var exit = await client.WaitForExitAsync(TimeSpan.FromMinutes(6));

        Assert.True(exit == 0, client.Output + farm.Logs());
        using var summary = System.Text.Json.JsonDocument.Parse(client.Lines.Last(l => l.Length > 0));
        var root = summary.RootElement;
        Assert.Equal("JOB_STATE_SUCCEEDED", root.GetProperty("state").GetString());
        Assert.InRange(root.GetProperty("duration").GetDouble(), 11.95, 12.05);
        Assert.True(File.Exists(LocalFarm.LocalPath(root.GetProperty("output_uri").GetString()!)));
        // The watch was dropped after three events and resumed: every sequence once, in order, none missing.
        var sequences = root.GetProperty("sequences").EnumerateArray().Select(e => e.GetInt64()).ToList();
        Assert.Equal(3, root.GetProperty("resumed_after").GetInt64());
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        var job = await farm.GetJobAsync(root.GetProperty("job").GetString()!);
        Assert.Equal(job.LastSequence, sequences[^1]);
        Assert.Equal("JOB_STATE_CANCELLED", root.GetProperty("cancelled").GetString());
        Assert.StartsWith("INVALID_ARGUMENT", root.GetProperty("bad_prompt").GetString());
        Assert.Contains("job.prompt", root.GetProperty("bad_prompt").GetString());
    }
}
