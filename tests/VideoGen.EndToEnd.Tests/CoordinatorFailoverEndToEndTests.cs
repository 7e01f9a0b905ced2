using System.Text.RegularExpressions;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Workers and clients that list two coordinators follow the farm from one to the other: the first is killed
/// (kill -9) in the middle of a job and a second starts on another address over the same store, as a standby taking
/// over would. Workers join it, it resumes the job, and the CLI's watch resumes there from its last event.
/// </summary>
public sealed partial class CoordinatorFailoverEndToEndTests
{
    [Fact]
    public async Task CoordinatorKilledMidJob_WorkersAndTheCliWatchFollowToTheNext_TheJobCompletes_NoEventMissedOrRepeated()
    {
        await using var farm = await LocalFarm.StartAsync("failover", new FarmOptions
        {
            Workers = 2,
            Standby = true,
            Worker = _ => new() { ["Procedural:LatencySeconds"] = "1.5" },
        });
        var output = Path.Combine(farm.Directory, "lamp.mp4");
        await using var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll,
            ["--coordinator", $"{farm.CoordinatorAddress},{farm.StandbyAddress}", "submit", "a 10 second showcase for a lamp", "--out", output],
            Path.Combine(farm.Directory, "cli.log"), environment: farm.ClientEnvironment);
        await cli.WaitForLineAsync(@"\[seq \d+\] chunk-\d+ running", TimeSpan.FromSeconds(60));

        await farm.FailOverAsync();
        var exit = await cli.WaitForExitAsync(TimeSpan.FromMinutes(6));

        Assert.True(exit == 0, $"{cli.Output}\n{farm.Logs()}");
        var sequences = cli.Lines.Select(l => SeqLine().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences); // each once, in order, none missing
        Assert.Contains(cli.Lines, l => l.Contains("job succeeded"));
        Assert.InRange((await Media.ProbeAsync(output)).DurationSeconds, 9.9, 10.1);
        using var standby = Grpc.Net.Client.GrpcChannel.ForAddress(farm.StandbyAddress);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {farm.AdminKey}" } };
        var workers = (await new JobService.JobServiceClient(standby).ListWorkersAsync(new ListWorkersRequest(), headers)).Workers;
        Assert.Equal(2, workers.Count(w => w.WorkerState is WorkerState.Ready or WorkerState.Busy));
    }

    [GeneratedRegex(@"^\[seq (\d+)\]")]
    private static partial Regex SeqLine();
}
