using VideoGen.Cli.Farm;

namespace VideoGen.Cli.Tests;

public class FarmTests
{
    [Fact]
    public void FarmLayout_Arguments_AreTheDocumentedOnes()
    {
        var layout = new FarmLayout(Workers: 2, Port: 7171, Directory: "/f", Slots: 3);

        Assert.Equal(
            ["--Coordinator:GrpcUrl=http://127.0.0.1:7171", "--Coordinator:HttpUrl=http://127.0.0.1:0",
             "--Coordinator:DataDirectory=/f/coordinator", "--Storage:LocalRoot=/f/artifacts",
             "--Coordinator:Auth:BootstrapAdminKeyFile=/f/admin.key"],
            layout.CoordinatorArguments());
        Assert.Equal(
            ["--Worker:Id=worker-2", "--Worker:Coordinator=http://127.0.0.1:7171", "--Storage:LocalRoot=/f/artifacts",
             "--Worker:WorkDirectory=/f/work/worker-2", "--Worker:Slots=3"],
            layout.WorkerArguments(2));
        Assert.Equal("farm ready: coordinator http://127.0.0.1:7171, 2 workers", FarmSupervisor.ReadyLine(layout));

        // --http-port: the web page and REST/JSON on a known port, named in the ready line.
        var web = layout with { HttpPort = 7079 };
        Assert.Contains("--Coordinator:HttpUrl=http://127.0.0.1:7079", web.CoordinatorArguments());
        Assert.Equal("farm ready: coordinator http://127.0.0.1:7171, 2 workers, web page http://127.0.0.1:7079/", FarmSupervisor.ReadyLine(web));
    }

    [Fact]
    public void RestartPolicy_BackoffDoublesPerRestartInTheLastMinute_UpToTheMax()
    {
        var policy = new RestartPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), maxPerMinute: 10);
        var t0 = DateTimeOffset.UnixEpoch;

        var delays = Enumerable.Range(0, 5).Select(i => policy.OnExit("worker-1", t0.AddSeconds(i)).Delay.TotalSeconds).ToArray();

        Assert.Equal([1.0, 2, 4, 4, 4], delays);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.OnExit("worker-2", t0.AddSeconds(5)).Delay); // per process
    }

    [Fact]
    public void RestartPolicy_MoreThanTheLimitInAMinute_GivesUp_AndAQuietMinuteResetsIt()
    {
        var policy = new RestartPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(16), maxPerMinute: 3);
        var t0 = DateTimeOffset.UnixEpoch;

        Assert.All(Enumerable.Range(0, 3), i => Assert.True(policy.OnExit("coordinator", t0.AddSeconds(i * 10)).Restart));
        var fourth = policy.OnExit("coordinator", t0.AddSeconds(59));

        Assert.False(fourth.Restart);
        Assert.Equal(3, fourth.RecentRestarts);
        var later = policy.OnExit("coordinator", t0.AddSeconds(60 + 10 + 1)); // the first two left the window
        Assert.True(later.Restart);
        Assert.Equal(TimeSpan.FromSeconds(2), later.Delay);
    }

    [Fact]
    public void RestartPolicy_ZeroPerMinute_NeverRestarts()
    {
        Assert.False(RestartPolicy.Default(0).OnExit("worker-1", DateTimeOffset.UnixEpoch).Restart);
    }

    [Fact]
    public void FarmLayout_NoSlots_LeavesWorkerDefault()
    {
        var layout = new FarmLayout(1, 7070, "/f", null);

        Assert.DoesNotContain(layout.WorkerArguments(1), a => a.StartsWith("--Worker:Slots", StringComparison.Ordinal));
    }

    [Fact]
    public void ServerLocator_PrefersTheCliConfiguration_ThenTheOther()
    {
        var root = Directory.CreateTempSubdirectory("videogen-locator-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "VideoGen.sln"), "");
            var cliFolder = Directory.CreateDirectory(Path.Combine(root, "artifacts", "bin", "VideoGen.Cli", "debug")).FullName;
            var release = Path.Combine(root, "artifacts", "bin", "VideoGen.Worker", "release");
            Directory.CreateDirectory(release);
            File.WriteAllText(Path.Combine(release, "VideoGen.Worker.dll"), "");

            Assert.Equal(["debug", "release"], ServerLocator.Configurations(cliFolder + "/"));
            Assert.Equal(Path.Combine(release, "VideoGen.Worker.dll"),
                ServerLocator.Locate(ServerLocator.WorkerProject, null, null, cliFolder));
            var ex = Assert.Throws<FarmException>(() =>
                ServerLocator.Locate(ServerLocator.CoordinatorProject, null, null, cliFolder));
            Assert.Contains("--coordinator-dll", ex.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
