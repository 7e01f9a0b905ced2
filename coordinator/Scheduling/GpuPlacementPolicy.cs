using System.Globalization;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>One GPU as a worker last reported it.</summary>
public sealed record GpuReport(int Index, string Name, long TotalBytes, long FreeBytes);

/// <summary>
/// What a GPU worker reported with its last join or heartbeat (<c>WorkerResources</c>): its GPUs with free memory,
/// the models its server holds loaded, the models it cannot run, and whether its server answers.
/// </summary>
public sealed record GpuResources(IReadOnlyList<GpuReport> Gpus, IReadOnlySet<string> Loaded, IReadOnlySet<string> Withheld, string UnhealthyReason, bool Reported)
{
    public static GpuResources None { get; } = new([], new HashSet<string>(), new HashSet<string>(), "", false);

    /// <summary>From the contract; an unreported message is <see cref="None"/>.</summary>
    public static GpuResources From(WorkerResources? resources) => resources is not { Reported: true }
        ? None
        : new(
            [.. resources.GpuDevices.Select(g => new GpuReport(g.Index, g.Name, (long)g.TotalMemoryBytes, (long)g.FreeMemoryBytes))],
            resources.LoadedModels.ToHashSet(StringComparer.Ordinal),
            resources.WithheldModels.ToHashSet(StringComparer.Ordinal),
            resources.UnhealthyReason,
            true);

    /// <summary>The contract's view (<c>WorkerInfo.resources</c>), with models withheld by the coordinator too.</summary>
    public WorkerResources ToProto(IEnumerable<string> withheld)
    {
        var proto = new WorkerResources { Reported = Reported, UnhealthyReason = UnhealthyReason };
        proto.GpuDevices.AddRange(Gpus.Select(g => new GpuDevice { Index = g.Index, Name = g.Name, TotalMemoryBytes = (ulong)g.TotalBytes, FreeMemoryBytes = (ulong)g.FreeBytes }));
        proto.LoadedModels.AddRange(Loaded.Order(StringComparer.Ordinal));
        proto.WithheldModels.AddRange(Withheld.Concat(withheld).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return proto;
    }
}

/// <summary>A worker as GPU placement sees it: free slots, GPU tasks running, and its report.</summary>
public sealed record GpuWorker(string WorkerId, IReadOnlySet<string> Models, int FreeSlots, int RunningGpuTasks, GpuResources Resources, IReadOnlySet<string>? ExcludedFor = null);

/// <summary>A ready task whose model needs GPU memory: how much, and (after an out-of-memory failure) how much free memory it must find.</summary>
public sealed record GpuTask(ReadyTask Task, long VramBytes, long MoreFreeThanBytes = 0);

/// <summary>What GPU placement decided: starts, and for each task that cannot start, why.</summary>
public sealed record GpuPlan(IReadOnlyList<Placement> Placements, IReadOnlyDictionary<(string JobId, string TaskId), string> Waiting);

/// <summary>
/// Placement of tasks whose model needs GPU memory (the catalog's <c>vramGb</c>), as a pure function: a task goes only
/// to a worker that serves its model (and has not withheld it), whose server answers, that has a free slot and a GPU
/// not already running its share of GPU tasks (one per GPU by default) with at least the model's need free — and, after an
/// out-of-memory failure, more free memory than the GPU it failed on. Among those it prefers a worker whose server
/// already holds the model loaded (a cold load costs minutes), then the worker it prefers for its inputs, then the most
/// free memory, then the fewest GPU tasks, then the id. Tasks are taken by priority, then job and task order. A task
/// that cannot start gets a reason a person can act on, most of all when no worker's GPU is big enough at all.
/// </summary>
public static class GpuPlacementPolicy
{
    private const double GiB = 1024.0 * 1024 * 1024;

    public static GpuPlan Place(IEnumerable<GpuTask> tasks, IEnumerable<GpuWorker> workers, int tasksPerGpu = 1)
    {
        var pool = workers.ToDictionary(w => w.WorkerId, w => (Worker: w, Free: w.FreeSlots, Gpu: w.RunningGpuTasks), StringComparer.Ordinal);
        var placements = new List<Placement>();
        var waiting = new Dictionary<(string, string), string>();
        foreach (var task in tasks.OrderByDescending(t => t.Task.Priority).ThenBy(t => t.Task.JobOrder).ThenBy(t => t.Task.TaskOrder))
        {
            string? best = null;
            (long Free, bool Loaded, bool Preferred, int Gpu) bestKey = default;
            foreach (var (id, entry) in pool)
            {
                if (!Fits(task, entry.Worker, entry.Free, entry.Gpu, tasksPerGpu, out var free))
                {
                    continue;
                }

                var key = (free, entry.Worker.Resources.Loaded.Contains(task.Task.Model), task.Task.PreferredWorker == id, entry.Gpu);
                if (best is null || Better(key, id, bestKey, best))
                {
                    (best, bestKey) = (id, key);
                }
            }

            if (best is null)
            {
                waiting[(task.Task.JobId, task.Task.TaskId)] = WhyWaiting(task, pool.Values.Select(p => p.Worker));
                continue;
            }

            placements.Add(new Placement(task.Task, best));
            var chosen = pool[best];
            pool[best] = (chosen.Worker, chosen.Free - 1, chosen.Gpu + 1);
        }

        return new GpuPlan(placements, waiting);
    }

    /// <summary>Whether <paramref name="task"/> can start on <paramref name="worker"/> now; <paramref name="free"/> is the free memory of the GPU it would get.</summary>
    private static bool Fits(GpuTask task, GpuWorker worker, int freeSlots, int gpuTasks, int tasksPerGpu, out long free)
    {
        free = 0;
        var r = worker.Resources;
        if (freeSlots <= 0 || !r.Reported || r.UnhealthyReason.Length > 0 || !Serves(worker, task.Task.Model) || task.Task.ExcludedWorkers?.Contains(worker.WorkerId) == true)
        {
            return false;
        }

        // Which GPU runs what is the worker's business; the coordinator counts: the GPUs with the most free memory are
        // the ones not yet running a task (a running model holds its memory).
        var available = r.Gpus.Count * Math.Max(1, tasksPerGpu) - gpuTasks;
        if (available <= 0)
        {
            return false;
        }

        var candidates = r.Gpus.OrderByDescending(g => g.FreeBytes).Take(Math.Min(available, r.Gpus.Count));
        var gpu = candidates.FirstOrDefault(g => g.FreeBytes >= task.VramBytes && g.FreeBytes > task.MoreFreeThanBytes);
        if (gpu is null)
        {
            return false;
        }

        free = gpu.FreeBytes;
        return true;
    }

    private static bool Serves(GpuWorker worker, string model) =>
        worker.Models.Contains(model) && !worker.Resources.Withheld.Contains(model) && worker.ExcludedFor?.Contains(model) != true;

    private static bool Better((long Free, bool Loaded, bool Preferred, int Gpu) a, string aId, (long Free, bool Loaded, bool Preferred, int Gpu) b, string bId) =>
        a.Loaded != b.Loaded ? a.Loaded
        : a.Preferred != b.Preferred ? a.Preferred
        : a.Free != b.Free ? a.Free > b.Free
        : a.Gpu != b.Gpu ? a.Gpu < b.Gpu
        : string.CompareOrdinal(aId, bId) < 0;

    /// <summary>Why <paramref name="task"/> cannot start on any of <paramref name="workers"/>, most fundamental reason first.</summary>
    public static string WhyWaiting(GpuTask task, IEnumerable<GpuWorker> workers)
    {
        var model = task.Task.Model;
        var need = Gb(task.VramBytes);
        var serving = workers.Where(w => Serves(w, model)).ToList();
        if (serving.Count == 0)
        {
            return $"no ready worker serves {model}";
        }

        var gpus = serving.SelectMany(w => w.Resources.Gpus).ToList();
        if (gpus.Count == 0)
        {
            return $"{model} needs {need} GiB of GPU memory and no worker serving it reports a GPU";
        }

        var largest = gpus.Max(g => g.TotalBytes);
        if (largest < task.VramBytes)
        {
            return $"{model} needs {need} GiB of GPU memory; the largest GPU of a worker serving it has {Gb(largest)} GiB";
        }

        if (serving.All(w => w.Resources.UnhealthyReason.Length > 0))
        {
            return $"every worker serving {model} is unhealthy ({serving[0].Resources.UnhealthyReason})";
        }

        if (task.MoreFreeThanBytes > 0 && gpus.All(g => g.FreeBytes <= task.MoreFreeThanBytes))
        {
            return $"it ran out of GPU memory with {Gb(task.MoreFreeThanBytes)} GiB free; needs a GPU with more free memory";
        }

        return $"no free GPU with {need} GiB of free memory for {model} yet";
    }

    private static string Gb(long bytes) => (bytes / GiB).ToString("0.#", CultureInfo.InvariantCulture);
}

/// <summary>
/// The scheduler's records as <see cref="GpuPlacementPolicy"/> sees them, and its answer: which ready tasks are GPU
/// tasks (handled here, whatever the outcome), which of them start where, and why the others wait.
/// </summary>
internal static class GpuPlacement
{
    public sealed record Result(IReadOnlyList<Placement> Placements, IReadOnlySet<(string JobId, string TaskId)> Handled, IReadOnlyDictionary<(string JobId, string TaskId), string> Waiting);

    public static Result Decide(
        IReadOnlyList<ReadyTask> candidates,
        IReadOnlyDictionary<(string, string), TaskRef> refs,
        IReadOnlyCollection<WorkerRecord> workers,
        IReadOnlyDictionary<string, JobRecord> jobs,
        DateTimeOffset now,
        TaskModels models,
        int tasksPerGpu)
    {
        var tasks = new List<GpuTask>();
        foreach (var c in candidates)
        {
            var need = models.VramBytes(c.Model);
            if (need > 0)
            {
                var record = refs[(c.JobId, c.TaskId)].Job;
                tasks.Add(new GpuTask(c, need, record.OutOfMemoryAt.GetValueOrDefault(c.TaskId)));
            }
        }

        if (tasks.Count == 0)
        {
            return new Result([], new HashSet<(string, string)>(), new Dictionary<(string, string), string>());
        }

        var pool = workers
            .Where(w => !w.Lost && !w.Draining && w.QuarantinedUntil <= now)
            .Select(w => new GpuWorker(
                w.Id,
                w.Models,
                w.Slots - w.Running.Count,
                w.Running.Count(r => jobs.TryGetValue(r.JobId, out var j) && j.Tasks.TryGetValue(r.TaskId, out var t) && models.VramBytes(models.PlacementModel(j.Job, t)) > 0),
                w.Resources,
                w.WithheldModels))
            .ToList();
        var plan = GpuPlacementPolicy.Place(tasks, pool, tasksPerGpu);
        return new Result(plan.Placements, tasks.Select(t => (t.Task.JobId, t.Task.TaskId)).ToHashSet(), plan.Waiting);
    }
}
