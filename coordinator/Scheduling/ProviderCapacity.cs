namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// Provider capacity as a dispatch rule: of the ready tasks, which may be placed now as far as their model's provider
/// is concerned. A model that is throttled (429) or whose circuit is open admits none, a half-open circuit one probe
/// (<see cref="ProviderGate.Allowance"/>), and a hosted model's <c>maxConcurrency</c> (its provider account's limit)
/// caps its attempts running across the whole farm. Where only some of a model's tasks are admitted, the highest
/// priority, oldest job, first task go first. The rest simply wait ready: nothing is consumed. Pure.
/// </summary>
internal static class ProviderCapacity
{
    public static List<ReadyTask> Admit(
        List<ReadyTask> candidates,
        IReadOnlyDictionary<string, JobRecord> jobs,
        IReadOnlyCollection<WorkerRecord> workers,
        TaskModels models,
        ProviderGate? providers,
        DateTimeOffset now)
    {
        Dictionary<string, int>? runningByModel = null;
        var admitted = new List<ReadyTask>(candidates.Count);
        foreach (var group in candidates.GroupBy(c => c.Model, StringComparer.Ordinal))
        {
            var allowance = group.Key == TaskModels.Any ? int.MaxValue : providers?.Allowance(group.Key, now) ?? int.MaxValue;
            var limit = models.FarmMaxConcurrency(group.Key);
            if (limit > 0)
            {
                runningByModel ??= RunningByModel(jobs, workers, models);
                allowance = Math.Min(allowance, limit - runningByModel.GetValueOrDefault(group.Key));
            }

            if (allowance == int.MaxValue)
            {
                admitted.AddRange(group);
            }
            else if (allowance > 0)
            {
                admitted.AddRange(group.OrderByDescending(t => t.Priority).ThenBy(t => t.JobOrder).ThenBy(t => t.TaskOrder).Take(allowance));
            }
        }

        return admitted.Count == candidates.Count ? candidates : admitted;
    }

    private static Dictionary<string, int> RunningByModel(IReadOnlyDictionary<string, JobRecord> jobs, IReadOnlyCollection<WorkerRecord> workers, TaskModels models)
    {
        var running = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var w in workers)
        {
            foreach (var (jobId, taskId) in w.Running)
            {
                if (jobs.TryGetValue(jobId, out var j) && j.Tasks.TryGetValue(taskId, out var t))
                {
                    var model = models.PlacementModel(j.Job, t);
                    running[model] = running.GetValueOrDefault(model) + 1;
                }
            }
        }

        return running;
    }
}
