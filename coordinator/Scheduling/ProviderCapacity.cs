namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// Provider capacity as a dispatch rule, for one pass: which ready tasks may be placed as far as their model's provider
/// is concerned. A model that is throttled (429) or whose circuit is open admits none, a half-open circuit one probe
/// (<see cref="ProviderGate.Allowance"/>), and a hosted model's <c>maxConcurrency</c> (its provider account's limit)
/// caps its attempts running across the whole farm. <see cref="Blocks"/> keeps a model that admits nothing out of the
/// pass's selection (so its waiting tasks never crowd others out); <see cref="Admit"/> trims the rest to each model's
/// allowance, the highest priority, oldest job, first task first. The others simply wait ready: nothing is consumed. Pure.
/// </summary>
internal sealed class ProviderCapacity
{
    private readonly Dictionary<string, int> _allowance = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, JobRecord> _jobs;
    private readonly IReadOnlyCollection<WorkerRecord> _workers;
    private readonly TaskModels _models;
    private readonly ProviderGate? _providers;
    private readonly DateTimeOffset _now;
    private Dictionary<string, int>? _runningByModel;

    public ProviderCapacity(IReadOnlyDictionary<string, JobRecord> jobs, IReadOnlyCollection<WorkerRecord> workers, TaskModels models, ProviderGate? providers, DateTimeOffset now)
    {
        (_jobs, _workers, _models, _providers, _now) = (jobs, workers, models, providers, now);
    }

    /// <summary>True when <paramref name="model"/> may start nothing in this pass.</summary>
    public bool Blocks(string model) => Allowance(model) <= 0;

    /// <summary>How many of <paramref name="model"/>'s tasks may start in this pass (<see cref="int.MaxValue"/>: no limit).</summary>
    public int Allowance(string model)
    {
        if (model == TaskModels.Any)
        {
            return int.MaxValue;
        }

        if (!_allowance.TryGetValue(model, out var allowance))
        {
            allowance = _providers?.Allowance(model, _now) ?? int.MaxValue;
            var limit = _models.FarmMaxConcurrency(model);
            if (limit > 0)
            {
                _runningByModel ??= RunningByModel();
                allowance = Math.Min(allowance, limit - _runningByModel.GetValueOrDefault(model));
            }

            _allowance[model] = allowance;
        }

        return allowance;
    }

    /// <summary><paramref name="candidates"/> trimmed to each model's allowance.</summary>
    public List<ReadyTask> Admit(List<ReadyTask> candidates)
    {
        var admitted = new List<ReadyTask>(candidates.Count);
        foreach (var group in candidates.GroupBy(c => c.Model, StringComparer.Ordinal))
        {
            var allowance = Allowance(group.Key);
            if (allowance == int.MaxValue)
            {
                admitted.AddRange(group);
            }
            else if (allowance > 0)
            {
                admitted.AddRange(group.OrderByDescending(t => t.Priority).ThenBy(t => t.JobOrder).ThenBy(t => t.TaskOrder).Take(allowance));
            }
        }

        return admitted;
    }

    private Dictionary<string, int> RunningByModel()
    {
        var running = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var w in _workers)
        {
            foreach (var (jobId, taskId) in w.Running)
            {
                if (_jobs.TryGetValue(jobId, out var j) && j.Tasks.TryGetValue(taskId, out var t))
                {
                    var model = _models.PlacementModel(j.Job, t);
                    running[model] = running.GetValueOrDefault(model) + 1;
                }
            }
        }

        return running;
    }
}
