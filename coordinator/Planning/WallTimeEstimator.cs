using VideoGen.Contracts.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Expected wall time of a plan on a given number of worker slots: a list-scheduling simulation of
/// the task DAG (storyboards, then chunks by their dependencies, then the stitch) with the
/// catalog's expected latencies. Pure; no I/O.
/// </summary>
public static class WallTimeEstimator
{
    public const double StitchSeconds = 1.0;

    public static double Estimate(Plan plan, ModelSpec videoModel, double storyboardSeconds, int slots)
    {
        slots = Math.Max(1, slots);
        var graph = Scheduling.TaskGraph.Build(plan);
        var finish = new Dictionary<string, double>();
        var slotFree = new PriorityQueue<int, double>();
        for (var i = 0; i < slots; i++)
        {
            slotFree.Enqueue(i, 0);
        }

        // Tasks come out of TaskGraph.Build in a topological order (storyboards, chunks, stitch).
        foreach (var task in graph)
        {
            var ready = task.DependsOn.Select(d => finish[d]).DefaultIfEmpty(0).Max();
            slotFree.TryDequeue(out var slot, out var free);
            var start = Math.Max(ready, free);
            var length = task.Kind switch
            {
                TaskKind.Storyboard => storyboardSeconds,
                TaskKind.Chunk => videoModel.ExpectedLatencySeconds,
                _ => StitchSeconds,
            };
            finish[task.TaskId] = start + length;
            slotFree.Enqueue(slot, start + length);
        }

        return Math.Round(finish.Values.DefaultIfEmpty(0).Max(), 3);
    }
}
