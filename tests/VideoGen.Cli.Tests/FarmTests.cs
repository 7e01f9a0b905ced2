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
             "--Coordinator:DataDirectory=/f/coordinator", "--Storage:LocalRoot=/f/artifacts"],
            layout.CoordinatorArguments());
        Assert.Equal(
            ["--Worker:Id=worker-2", "--Worker:Coordinator=http://127.0.0.1:7171", "--Storage:LocalRoot=/f/artifacts",
             "--Worker:WorkDirectory=/f/work/worker-2", "--Worker:Slots=3"],
            layout.WorkerArguments(2));
        Assert.Equal("farm ready: coordinator http://127.0.0.1:7171, 2 workers", FarmSupervisor.ReadyLine(layout));
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
