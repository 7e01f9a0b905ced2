using Prometheus;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Observability;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>A worker's state is derived once: the API's enum, its deprecated string and the metric agree.</summary>
public sealed class WorkerStatesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-27T00:00:00Z");

    private static WorkerRecord Worker(string id, int slots = 2, int running = 0, bool lost = false, bool draining = false, double quarantinedForSeconds = 0)
    {
        var worker = new WorkerRecord(id, id, ["procedural-i2v"], slots, [], Now) { Lost = lost, Draining = draining, QuarantinedUntil = Now.AddSeconds(quarantinedForSeconds) };
        for (var i = 0; i < running; i++)
        {
            worker.Running.Add(("job-1", $"chunk-{i}"));
        }
        return worker;
    }

    public static TheoryData<string, WorkerState> Cases => new()
    {
        { "ready", WorkerState.Ready },
        { "busy", WorkerState.Busy },
        { "draining", WorkerState.Draining },
        { "quarantined", WorkerState.Quarantined },
        { "lost", WorkerState.Lost },
        { "quarantined-and-busy", WorkerState.Quarantined },
        { "lost-and-draining", WorkerState.Lost },
        { "unhealthy-and-busy", WorkerState.Unhealthy },
    };

    private static WorkerRecord Named(string name) => name switch
    {
        "ready" => Worker(name, running: 1),
        "busy" => Worker(name, running: 2),
        "draining" => Worker(name, draining: true),
        "quarantined" => Worker(name, quarantinedForSeconds: 30),
        "lost" => Worker(name, lost: true),
        "quarantined-and-busy" => Worker(name, running: 2, quarantinedForSeconds: 1),
        "lost-and-draining" => Worker(name, lost: true, draining: true),
        "unhealthy-and-busy" => Unhealthy(Worker(name, running: 2)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static WorkerRecord Unhealthy(WorkerRecord worker)
    {
        worker.Resources = GpuResources.None with { Reported = true, UnhealthyReason = "ComfyUI does not answer" };
        return worker;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Of_TheFirstThatApplies_LostDrainingQuarantinedBusyReady(string name, WorkerState expected)
    {
        Assert.Equal(expected, WorkerStates.Of(Named(name), Now));
    }

    [Fact]
    public void Of_QuarantineThatEnded_IsReadyAgain()
    {
        Assert.Equal(WorkerState.Ready, WorkerStates.Of(Worker("w", quarantinedForSeconds: 30), Now.AddSeconds(30)));
    }

    [Fact]
    public void Label_IsTheDeprecatedStringForEveryState()
    {
        Assert.Equal(["ready", "busy", "draining", "quarantined", "lost", "unhealthy"], WorkerStates.All.Select(WorkerStates.Label));
    }

    [Fact]
    public async Task Metric_CountsWorkersByTheSameState_QuarantinedAsSuch()
    {
        var metrics = new PrometheusFarmMetrics();
        var workers = Cases.Select(c => Named((string)c[0])).ToList();

        metrics.ObserveQueue(0, 0, workers, Now);

        using var text = new MemoryStream();
        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(text);
        var exported = System.Text.Encoding.UTF8.GetString(text.ToArray());
        foreach (var state in WorkerStates.All)
        {
            var expected = workers.Count(w => WorkerStates.Of(w, Now) == state);
            Assert.Contains($"videogen_workers{{state=\"{WorkerStates.Label(state)}\"}} {expected}\n", exported);
        }
        Assert.Contains("videogen_workers{state=\"quarantined\"} 2\n", exported);
    }
}
