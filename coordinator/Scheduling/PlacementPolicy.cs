namespace VideoGen.Coordinator.Scheduling;

/// <summary>A task that can run now, as the placement policy sees it.</summary>
public sealed record ReadyTask(
    string JobId,
    string TaskId,
    string Model,
    int Priority,
    string Tenant,
    long JobOrder,
    int TaskOrder,
    string? PreferredWorker = null,
    IReadOnlySet<string>? ExcludedWorkers = null,
    bool RequiresGpu = false);

/// <summary>
/// A worker that can take tasks, as the placement policy sees it. <paramref name="ModelFreeSlots"/>
/// holds the free slots of models with a per-worker concurrency limit (absent: only the worker's slots limit).
/// </summary>
public sealed record WorkerCapacity(string WorkerId, IReadOnlySet<string> Models, int FreeSlots, int RunningTasks, IReadOnlyDictionary<string, int>? ModelFreeSlots = null, bool HasGpu = false);

/// <summary>One decision: run this task on this worker.</summary>
public sealed record Placement(ReadyTask Task, string WorkerId);

/// <summary>
/// The placement rules, as a pure function over a snapshot (Nomad style): job priority first, then
/// fair share between tenants (the tenant with the fewest running tasks goes next, so one tenant's
/// 50 jobs do not starve another's one), then the oldest job and the task's order in it. A task
/// goes to the worker it prefers (the one holding its input) when that worker serves the model and
/// has a free slot; otherwise to the serving worker with the most free slots (spreading
/// independent work), then the fewest running tasks, then by id for determinism. A worker a job
/// blocklisted gets none of its tasks; a model with a per-worker concurrency limit never runs more
/// than that many at once on one worker; a model that needs a GPU goes only to workers with one.
/// </summary>
public static class PlacementPolicy
{
    public static List<Placement> Place(
        IEnumerable<ReadyTask> ready,
        IEnumerable<WorkerCapacity> workers,
        IReadOnlyDictionary<string, int> runningByTenant)
    {
        var placements = new List<Placement>();
        var free = workers.Where(w => w.FreeSlots > 0).ToDictionary(w => w.WorkerId, w => (Worker: w, Free: w.FreeSlots, Running: w.RunningTasks));
        var modelFree = free.Values
            .Where(w => w.Worker.ModelFreeSlots is not null)
            .SelectMany(w => w.Worker.ModelFreeSlots!.Select(m => (Key: (w.Worker.WorkerId, m.Key), m.Value)))
            .ToDictionary(x => x.Key, x => x.Value);
        if (free.Count == 0)
        {
            return placements;
        }

        var queues = ready
            .GroupBy(t => t.Tenant, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => new Queue<ReadyTask>(g.OrderByDescending(t => t.Priority).ThenBy(t => t.JobOrder).ThenBy(t => t.TaskOrder)),
                StringComparer.Ordinal);
        var running = new Dictionary<string, int>(runningByTenant, StringComparer.Ordinal);

        while (free.Count > 0 && queues.Count > 0)
        {
            string? tenant = null;
            ReadyTask? head = null;
            foreach (var (name, queue) in queues)
            {
                var candidate = queue.Peek();
                if (head is null || Better(candidate, running.GetValueOrDefault(name), head, running.GetValueOrDefault(tenant!)))
                {
                    head = candidate;
                    tenant = name;
                }
            }

            queues[tenant!].Dequeue();
            if (queues[tenant!].Count == 0)
            {
                queues.Remove(tenant!);
            }

            var worker = ChooseWorker(head!, free, modelFree);
            if (worker is null)
            {
                continue; // nothing free serves this model now; it stays ready for the next round
            }

            placements.Add(new Placement(head!, worker));
            if (modelFree.TryGetValue((worker, head!.Model), out var left))
            {
                modelFree[(worker, head.Model)] = left - 1;
            }
            running[tenant!] = running.GetValueOrDefault(tenant!) + 1;
            var slot = free[worker];
            if (slot.Free == 1)
            {
                free.Remove(worker);
            }
            else
            {
                free[worker] = (slot.Worker, slot.Free - 1, slot.Running + 1);
            }
        }

        return placements;
    }

    private static bool Better(ReadyTask a, int aTenantRunning, ReadyTask b, int bTenantRunning)
    {
        if (a.Priority != b.Priority)
        {
            return a.Priority > b.Priority;
        }

        if (aTenantRunning != bTenantRunning)
        {
            return aTenantRunning < bTenantRunning;
        }

        return a.JobOrder != b.JobOrder ? a.JobOrder < b.JobOrder : a.TaskOrder < b.TaskOrder;
    }

    private static string? ChooseWorker(ReadyTask task, Dictionary<string, (WorkerCapacity Worker, int Free, int Running)> free, Dictionary<(string, string), int> modelFree)
    {
        bool CanRun(string id, WorkerCapacity w) =>
            (task.Model == TaskModels.Any || w.Models.Contains(task.Model))
            && task.ExcludedWorkers?.Contains(id) != true
            && (!task.RequiresGpu || w.HasGpu)
            && (!modelFree.TryGetValue((id, task.Model), out var left) || left > 0);

        if (task.PreferredWorker is { } preferred && free.TryGetValue(preferred, out var p) && CanRun(preferred, p.Worker))
        {
            return preferred;
        }

        string? best = null;
        (WorkerCapacity Worker, int Free, int Running) bestSlot = default;
        foreach (var (id, slot) in free)
        {
            if (!CanRun(id, slot.Worker))
            {
                continue;
            }

            if (best is null
                || slot.Free > bestSlot.Free
                || (slot.Free == bestSlot.Free && slot.Running < bestSlot.Running)
                || (slot.Free == bestSlot.Free && slot.Running == bestSlot.Running && string.CompareOrdinal(id, best) < 0))
            {
                best = id;
                bestSlot = slot;
            }
        }

        return best;
    }
}
