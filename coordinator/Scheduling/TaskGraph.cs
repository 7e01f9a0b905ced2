using VideoGen.Contracts;
using VideoGen.Contracts.Catalog;
using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The task DAG of a plan: one storyboard per beat that a reference chunk starts from, one task
/// per chunk (a reference chunk waits for its beat's storyboard, a continuous chunk for the
/// previous chunk's last frame), and the stitch, which waits for every chunk.
/// Tasks come out in a topological order.
/// </summary>
public static class TaskGraph
{
    public const string StitchTaskId = "stitch";

    public static string StoryboardTaskId(int beat) => $"storyboard-{beat}";

    public static string ChunkTaskId(int chunk) => $"chunk-{chunk}";

    public static List<TaskStatus> Build(Plan plan)
    {
        var tasks = new List<TaskStatus>();
        foreach (var beat in plan.Chunks.Where(c => c.IsReference).Select(c => c.BeatIndex).Distinct().Order())
        {
            tasks.Add(new TaskStatus { TaskId = StoryboardTaskId(beat), Kind = TaskKind.Storyboard, Index = beat, State = TaskState.Ready });
        }

        foreach (var chunk in plan.Chunks)
        {
            var task = new TaskStatus { TaskId = ChunkTaskId(chunk.Index), Kind = TaskKind.Chunk, Index = chunk.Index, State = TaskState.Waiting };
            task.DependsOn.Add(chunk.IsReference ? StoryboardTaskId(chunk.BeatIndex) : ChunkTaskId(chunk.Index - 1));
            tasks.Add(task);
        }

        var stitch = new TaskStatus { TaskId = StitchTaskId, Kind = TaskKind.Stitch, Index = -1, State = TaskState.Waiting };
        stitch.DependsOn.AddRange(plan.Chunks.Select(c => ChunkTaskId(c.Index)));
        tasks.Add(stitch);
        return tasks;
    }

    /// <summary>
    /// The worker request for one attempt of <paramref name="task"/>. Inputs are the URIs its
    /// dependencies produced; outputs are named by <see cref="ArtifactKeys"/>, so the storage behind
    /// the URIs can change without touching the scheduler.
    /// </summary>
    public static RunTaskRequest BuildRequest(Job job, TaskStatus task, IReadOnlyDictionary<string, TaskStatus> tasks, ModelCatalog models, string storyboardImageModel = "")
    {
        var plan = job.Plan;
        var request = new RunTaskRequest { JobId = job.JobId, TaskId = task.TaskId, Attempt = task.Attempt };
        switch (task.Kind)
        {
            case TaskKind.Storyboard:
                var beat = plan.Spec.Beats[task.Index];
                var video = models.Models[plan.Model];
                request.Storyboard = new StoryboardTask
                {
                    Beat = beat,
                    Subject = plan.Spec.Subject,
                    Style = plan.Spec.Style,
                    WidthPixels = video.Width,
                    HeightPixels = video.Height,
                    OutputKey = ArtifactKeys.Storyboard(job.JobId, beat.Index),
                    ImageModel = storyboardImageModel,
                };
                break;
            case TaskKind.Chunk:
                var chunk = plan.Chunks[task.Index];
                var model = models.Models[plan.Model];
                var dependency = tasks[task.DependsOn[0]];
                var chunkBeat = plan.Spec.Beats[chunk.BeatIndex];
                request.Chunk = new ChunkTask
                {
                    ChunkIndex = chunk.Index,
                    Model = model.Name,
                    Prompt = $"{chunkBeat.ShotDescription}. {plan.Spec.Style}",
                    StartImageUri = !model.TakesImage ? "" : chunk.IsReference ? dependency.OutputUri : dependency.LastFrameUri,
                    ClipSeconds = model.ClipSeconds,
                    WidthPixels = model.Width,
                    HeightPixels = model.Height,
                    Fps = model.Fps,
                    OutputKey = ArtifactKeys.Chunk(job.JobId, chunk.Index),
                    LastFrameKey = ArtifactKeys.LastFrame(job.JobId, chunk.Index),
                    Seed = StableSeed(job.JobId, chunk.Index),
                    PricePerSecondUsd = model.PricePerSecondUsd,
                };
                break;
            case TaskKind.Stitch:
                var stitch = new StitchTask { DurationSeconds = plan.Spec.DurationSeconds, OutputKey = ArtifactKeys.Final(job.JobId) };
                stitch.ChunkUris.AddRange(task.DependsOn.Select(d => tasks[d].OutputUri));
                request.Stitch = stitch;
                break;
            default:
                throw new InvalidOperationException($"Task {task.TaskId} has no kind.");
        }

        return request;
    }

    private static long StableSeed(string jobId, int index)
    {
        // FNV-1a: a seed that does not change between processes (string.GetHashCode does).
        ulong hash = 14695981039346656037;
        foreach (var c in jobId)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return (long)((hash ^ (ulong)index) & 0x7FFFFFFF);
    }
}
