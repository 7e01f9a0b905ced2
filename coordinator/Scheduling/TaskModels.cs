using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// Which model a task is: the one a worker must serve to run it (placement) and the one its cost is charged to (a
/// bounded metric label). Pure: the catalog and the configured storyboard image model are its only inputs.
/// </summary>
public sealed class TaskModels(ModelCatalog catalog, string storyboardImageModel = "")
{
    /// <summary>The pseudo-model of tasks that call no model (stitch, finish, the soundtrack mix) and of the embedded audio models: every worker serves it.</summary>
    public const string Any = "*";

    /// <summary>The catalog the decisions read.</summary>
    public ModelCatalog Catalog { get; } = catalog;

    /// <summary>The model a task's cost is charged to.</summary>
    public string ChargedTo(Job job, TaskStatus task) => task.Kind switch
    {
        TaskKind.Chunk when task.Model.Length > 0 => task.Model, // moved to a fallback model
        TaskKind.Chunk => job.Plan.Model,
        TaskKind.Upscale => job.Plan.Finish.Upscaler,
        TaskKind.Storyboard or TaskKind.Keyframe => storyboardImageModel.Length > 0 ? storyboardImageModel : ModelCatalog.ProceduralImageModel,
        TaskKind.Voiceover when job.Plan.Spec.Soundtrack is { } s => SoundtrackPlanner.VoiceModelOf(s),
        TaskKind.Music when job.Plan.Spec.Soundtrack is { } s => SoundtrackPlanner.MusicModelOf(s),
        _ => "ffmpeg",
    };

    /// <summary>
    /// The model a worker must serve to run <paramref name="task"/>: a chunk's video model, an upscale's upscaler, a configured storyboard
    /// image model, a hosted speech or music model; tasks without a model call (stitch, finish, the soundtrack mix) and
    /// the embedded audio models (espeak-ng and FFmpeg, on every worker image) run on any worker (<see cref="Any"/>).
    /// </summary>
    public string PlacementModel(Job job, TaskStatus task)
    {
        var model = task.Kind switch
        {
            TaskKind.Chunk when task.Model.Length > 0 => task.Model, // moved to a fallback model
            TaskKind.Chunk => job.Plan.Model,
            TaskKind.Upscale => job.Plan.Finish.Upscaler,
            TaskKind.Storyboard or TaskKind.Keyframe when storyboardImageModel.Length > 0 => storyboardImageModel,
            TaskKind.Voiceover or TaskKind.Music => ChargedTo(job, task),
            _ => Any,
        };
        return task.Kind is TaskKind.Voiceover or TaskKind.Music && Catalog.Models.TryGetValue(model, out var spec) && spec.Provider == "procedural"
            ? Any
            : model;
    }

    /// <summary>True when only a worker with a GPU may run <paramref name="model"/>.</summary>
    public bool RequiresGpu(string model) => model != Any && Catalog.Models.TryGetValue(model, out var spec) && spec.RequiresGpu;

    /// <summary>GPU memory one call of <paramref name="model"/> needs (the catalog's <c>vramGb</c>); 0: none.</summary>
    public long VramBytes(string model) => model != Any && Catalog.Models.TryGetValue(model, out var spec) ? spec.VramBytes : 0;

    /// <summary>The catalog's per-worker concurrency limit of a local <paramref name="model"/>; 0 when none applies (hosted models: <see cref="FarmMaxConcurrency"/>).</summary>
    public int MaxConcurrency(string model) => Catalog.Models.TryGetValue(model, out var spec) && !spec.IsHosted ? spec.MaxConcurrency : 0;

    /// <summary>The catalog's farm-wide concurrency limit of a hosted <paramref name="model"/> (its provider account's); 0 when none applies.</summary>
    public int FarmMaxConcurrency(string model) => Catalog.Models.TryGetValue(model, out var spec) && spec.IsHosted ? spec.MaxConcurrency : 0;
}
