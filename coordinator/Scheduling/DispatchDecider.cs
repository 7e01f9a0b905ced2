using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>What one dispatch pass decided: attempts to start (task → worker) and jobs to stop over budget.</summary>
/// <remarks><c>Waiting</c>: why each GPU task that could not start waits (its status shows it).</remarks>
internal sealed record DispatchPlan(IReadOnlyList<(TaskRef Task, WorkerRecord Worker)> Starts, IReadOnlyList<(JobRecord Job, string Reason)> BudgetStops, IReadOnlyList<(TaskRef Task, string Reason)>? Waiting = null)
{
    public static DispatchPlan Empty { get; } = new([], []);
}

/// <summary>
/// The dispatch decision as a function: from the ready tasks, the jobs, the workers and the time it returns which
/// task starts on which worker and which job stops over budget — no I/O, no clock, no mutation. The loop commits the
/// plan and only then acts on it (<see cref="Orchestrator"/>). Placement itself (free slots, the predecessor's
/// worker, spread, tenant fairness, per-model concurrency, GPUs) is <see cref="PlacementPolicy"/>; the budget rule is
/// <see cref="BudgetGuard"/>.
/// </summary>
internal static class DispatchDecider
{
    public static DispatchPlan Decide(
        IReadOnlyCollection<TaskRef> ready,
        IReadOnlyDictionary<string, JobRecord> jobs,
        IReadOnlyCollection<WorkerRecord> workers,
        DateTimeOffset now,
        TaskModels models,
        int tasksPerGpu = 1,
        ProviderGate? providers = null)
    {
        if (ready.Count == 0)
        {
            return DispatchPlan.Empty;
        }

        var capacities = new List<WorkerCapacity>();
        Dictionary<string, WorkerRecord>? byId = null;
        foreach (var w in workers)
        {
            if (w.IsSchedulable && w.QuarantinedUntil <= now && w.Running.Count < w.Slots)
            {
                // Tasks that call no model (TaskModels.Any) run on any worker: PlacementPolicy knows.
                // Models its server cannot run (withheld) are left out.
                capacities.Add(new WorkerCapacity(w.Id, w.RunnableModels, w.Slots - w.Running.Count, w.Running.Count, ModelFreeSlots(w, jobs, models), w.Gpus.Count > 0));
                (byId ??= new(StringComparer.Ordinal))[w.Id] = w;
            }
        }

        if (capacities.Count == 0)
        {
            return DispatchPlan.Empty;
        }

        // A pass places at most the free slots' worth of tasks, so each tenant's best few ready tasks that some free worker
        // could run are all it needs to see: read from the tenant's ready tasks in placement order (ReadyTasks), a pass
        // costs about the free slots, where a scan of the whole ready set cost every pass O(ready) (issue 17, item 5).
        var freeSlots = capacities.Sum(c => c.FreeSlots);
        var perTenant = freeSlots + SelectionSlack;
        var servedByFree = new HashSet<string>(capacities.SelectMany(c => c.Models), StringComparer.Ordinal) { TaskModels.Any };
        var anyGpu = capacities.Any(c => c.HasGpu);
        var capacity = new ProviderCapacity(jobs, workers, models, providers, now);
        // Each tenant's tasks come best placed first: the first perTenant that a free worker could run now are the ones.
        var readyTasks = ready as ReadyTasks ?? new ReadyTasks(ready);
        var best = new List<(TaskRef Ref, string Model)>();
        foreach (var tenant in readyTasks.Tenants)
        {
            var taken = 0;
            foreach (var r in readyTasks.BestFirst(tenant))
            {
                if (r.Job.NotBefore.TryGetValue(r.Task.TaskId, out var notBefore) && notBefore > now)
                {
                    continue; // still in its retry backoff
                }

                var model = models.PlacementModel(r.Job.Job, r.Task);
                if (!servedByFree.Contains(model) || (!anyGpu && models.RequiresGpu(model)))
                {
                    continue; // no free worker could run it in this pass
                }

                if (capacity.Blocks(model))
                {
                    continue; // its provider admits nothing now (throttled, circuit open, farm-wide limit reached)
                }

                best.Add((r, model));
                if (++taken == perTenant)
                {
                    break;
                }
            }
        }

        var candidates = new List<ReadyTask>();
        var refs = new Dictionary<(string, string), TaskRef>();
        foreach (var (r, model) in best)
        {
            var job = r.Job.Job;
            candidates.Add(new ReadyTask(
                job.JobId,
                r.Task.TaskId,
                model,
                job.Request.Priority,
                job.Request.Tenant,
                r.Job.Order,
                r.Job.TaskOrder[r.Task.TaskId],
                PreferredWorker(r.Job, r.Task),
                r.Job.Blocklist.Count == 0 ? null : r.Job.Blocklist,
                models.RequiresGpu(model)));
            refs[(job.JobId, r.Task.TaskId)] = r;
        }

        // Provider capacity: a throttled model or one with an open circuit starts nothing, a hosted model's
        // maxConcurrency holds across the farm (ProviderCapacity).
        candidates = capacity.Admit(candidates);
        if (candidates.Count == 0)
        {
            return DispatchPlan.Empty;
        }

        var runningByTenant = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var w in workers)
        {
            foreach (var (jobId, _) in w.Running)
            {
                if (jobs.TryGetValue(jobId, out var j))
                {
                    runningByTenant[j.Job.Request.Tenant] = runningByTenant.GetValueOrDefault(j.Job.Request.Tenant) + 1;
                }
            }
        }

        // Tasks whose model needs GPU memory are placed first, by their own rules (GpuPlacementPolicy); the rest share
        // the slots they leave.
        var gpu = GpuPlacement.Decide(candidates, refs, workers, jobs, now, models, tasksPerGpu);
        if (gpu.Placements.Count > 0)
        {
            var taken = gpu.Placements.GroupBy(p => p.WorkerId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            capacities = capacities.Select(c => taken.TryGetValue(c.WorkerId, out var n) ? c with { FreeSlots = c.FreeSlots - n, RunningTasks = c.RunningTasks + n } : c).ToList();
        }

        var starts = new List<(TaskRef, WorkerRecord)>();
        var stops = new List<(JobRecord, string)>();
        var budgetOf = new Dictionary<string, string?>(StringComparer.Ordinal);
        var others = PlacementPolicy.Place(gpu.Handled.Count == 0 ? candidates : candidates.Where(c => !gpu.Handled.Contains((c.JobId, c.TaskId))), capacities, runningByTenant);
        foreach (var placement in gpu.Placements.Count == 0 ? others : gpu.Placements.Concat(others))
        {
            var taskRef = refs[(placement.Task.JobId, placement.Task.TaskId)];
            var jobId = taskRef.Job.Job.JobId;
            if (budgetOf.TryGetValue(jobId, out var stopped) && stopped is not null)
            {
                continue; // the job stops over budget in this pass
            }

            if (BudgetGuard.IsPaid(taskRef.Task.Kind))
            {
                if (!budgetOf.TryGetValue(jobId, out var reason))
                {
                    budgetOf[jobId] = reason = BudgetGuard.Check(taskRef.Job.Job);
                }

                if (reason is not null)
                {
                    stops.Add((taskRef.Job, reason));
                    continue;
                }
            }

            starts.Add((taskRef, byId![placement.WorkerId]));
        }

        List<(TaskRef, string)>? waiting = gpu.Waiting.Count == 0 ? null : [.. gpu.Waiting.Select(w => (refs[w.Key], w.Value))];
        if (stops.Count == 0)
        {
            return new DispatchPlan(starts, stops, waiting);
        }

        // A job that stops starts nothing in this pass, not even a task placed before its paid one.
        var stoppedJobs = stops.Select(s => s.Item1.Job.JobId).ToHashSet(StringComparer.Ordinal);
        return new DispatchPlan(starts.Where(s => !stoppedJobs.Contains(s.Item1.Job.Job.JobId)).ToList(), stops, waiting);
    }

    /// <summary>Ready tasks per tenant a pass looks at beyond the free slots: room for tasks a blocklist or a model's concurrency limit keeps off every free worker.</summary>
    public const int SelectionSlack = 64;

    /// <summary>A task's preferred worker: where it ran before a coordinator restart, or where its chained predecessor's last frame is.</summary>
    public static string? PreferredWorker(JobRecord record, Contracts.V1.TaskStatus task)
    {
        // A task interrupted by a coordinator restart still runs on its worker: go back there.
        if (record.ResumeOn.TryGetValue(task.TaskId, out var resumeOn))
        {
            return resumeOn;
        }

        // A continuous chunk prefers the worker that made its predecessor: its last frame is local there.
        if (task.Kind == TaskKind.Chunk && task.DependsOn.Count == 1 && record.Tasks.TryGetValue(task.DependsOn[0], out var dep) && dep.Kind == TaskKind.Chunk)
        {
            return dep.WorkerId;
        }

        return null;
    }

    /// <summary>Free slots per model with a per-worker concurrency limit (the catalog's MaxConcurrency); null when none applies.</summary>
    private static Dictionary<string, int>? ModelFreeSlots(WorkerRecord worker, IReadOnlyDictionary<string, JobRecord> jobs, TaskModels models)
    {
        Dictionary<string, int>? free = null;
        foreach (var model in worker.Models)
        {
            var limit = models.MaxConcurrency(model);
            if (limit > 0)
            {
                var running = worker.Running.Count(r => jobs.TryGetValue(r.JobId, out var j) && j.Tasks.TryGetValue(r.TaskId, out var t) && models.PlacementModel(j.Job, t) == model);
                (free ??= new(StringComparer.Ordinal))[model] = limit - running;
            }
        }

        return free;
    }
}
