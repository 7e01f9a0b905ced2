using VideoGen.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// Where a ready chunk goes while its model's provider is down: to the fallback model the catalog names for it
/// (<see cref="ModelSpec.Fallback"/>), when its job allows it (<c>allow_model_fallback</c>), the circuit of its model is
/// open (not merely throttled, not half-open: the probe decides then), the fallback's own provider admits calls, and the
/// fallback makes the same clips (kind, clip length, size, frame rate), so that the plan, the stitch and the finish hold.
/// Pure: the catalog and the gate are read, nothing is changed.
/// </summary>
public static class ModelFallbackPolicy
{
    /// <summary>The model <paramref name="task"/> of <paramref name="job"/> should move to now; null when it stays.</summary>
    public static string? MoveTo(Job job, Contracts.V1.TaskStatus task, TaskModels models, ProviderGate providers, DateTimeOffset now)
    {
        if (task.Kind != TaskKind.Chunk || !job.Request.AllowModelFallback)
        {
            return null;
        }

        var current = models.PlacementModel(job, task);
        if (providers.Circuit(current, now) != CircuitState.Open
            || !models.Catalog.Models.TryGetValue(current, out var spec)
            || spec.Fallback.Length == 0
            || !models.Catalog.Models.TryGetValue(spec.Fallback, out var fallback)
            || fallback.Name == current
            || providers.Allowance(fallback.Name, now) == 0)
        {
            return null;
        }

        // The fallback must also draw the plan's graph (a keyframed chunk needs a model that takes an end image).
        return (fallback.Kind, fallback.ClipSeconds, fallback.Width, fallback.Height, fallback.Fps) == (spec.Kind, spec.ClipSeconds, spec.Width, spec.Height, spec.Fps)
               && fallback.Can(Planning.GraphStrategies.Capability(TaskGraph.StrategyOf(job.Plan)))
               && (TaskGraph.StrategyOf(job.Plan) != GraphStrategy.Extend || fallback.OverlapFrames == spec.OverlapFrames)
            ? fallback.Name
            : null;
    }
}
