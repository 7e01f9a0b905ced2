using VideoGen.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Expected wall time of a plan on a given number of worker slots: a list-scheduling simulation of
/// the task DAG (storyboards, then chunks by their dependencies, then the stitch and the finish) with the
/// catalog's expected latencies. Pure; no I/O.
/// </summary>
public static class WallTimeEstimator
{
    public const double StitchSeconds = 1.0;

    /// <summary>Expected seconds of the soundtrack mix (a premix with the loudness measure, then the normalised AAC encode).</summary>
    public const double MixSeconds = 1.0;

    /// <summary>Seconds of one upscale task when the catalog entry is not at hand.</summary>
    public const double UpscaleSeconds = 30.0;

    /// <param name="plan">The plan.</param>
    /// <param name="videoModel">The chunks' model.</param>
    /// <param name="storyboardSeconds">Expected seconds of one storyboard.</param>
    /// <param name="slots">Worker slots that serve the video model.</param>
    /// <param name="catalog">The catalog, for the expected latency of the voiceover's and the music's models (0.5 s each without it).</param>
    /// <param name="upscaler">The plan's upscaler (<see cref="FinishPlan.Upscaler"/>): each upscale task takes its expected latency.</param>
    public static double Estimate(Plan plan, ModelSpec videoModel, double storyboardSeconds, int slots, ModelCatalog? catalog = null, ModelSpec? upscaler = null)
    {
        double Latency(string model) => catalog is not null && catalog.Models.TryGetValue(model, out var spec) ? spec.ExpectedLatencySeconds : 0.5;
        slots = Math.Max(1, slots);
        var graph = Scheduling.TaskGraph.Build(plan);
        var finish = new Dictionary<string, double>();
        var slotFree = new PriorityQueue<int, double>();
        for (var i = 0; i < slots; i++)
        {
            slotFree.Enqueue(i, 0);
        }

        // Tasks come out of TaskGraph.Build in a topological order (voiceover, music and their mix, storyboards, chunks, stitch, finish).
        foreach (var task in graph)
        {
            var ready = task.DependsOn.Select(d => finish[d]).DefaultIfEmpty(0).Max();
            slotFree.TryDequeue(out var slot, out var free);
            var start = Math.Max(ready, free);
            var length = task.Kind switch
            {
                TaskKind.Storyboard or TaskKind.Keyframe => storyboardSeconds,
                TaskKind.Chunk => videoModel.ExpectedLatencySeconds,
                TaskKind.Upscale => upscaler?.ExpectedLatencySeconds ?? UpscaleSeconds,
                TaskKind.Finish => FinishSeconds(plan),
                TaskKind.Voiceover => Latency(SoundtrackPlanner.VoiceModelOf(plan.Spec.Soundtrack)),
                TaskKind.Music => Latency(SoundtrackPlanner.MusicModelOf(plan.Spec.Soundtrack)),
                TaskKind.Soundtrack => MixSeconds,
                _ => StitchSeconds,
            };
            finish[task.TaskId] = start + length;
            slotFree.Enqueue(slot, start + length);
        }

        return Math.Round(finish.Values.DefaultIfEmpty(0).Max(), 3);
    }

    /// <summary>
    /// Expected seconds of the finish step: one decode of the raw cut and one veryfast H.264 encode per
    /// rendition, in seconds of encode per second of video by output size (bench/ measures them on 2 cores).
    /// A deliverable is encoded at the master's pixel count.
    /// </summary>
    public static double FinishSeconds(Plan plan)
    {
        if (plan.Finish is null)
        {
            return 0;
        }

        var perSecond = plan.Finish.Resolution switch
        {
            Resolution._480P => FinishSecondsPerSecond480,
            Resolution._1080P => FinishSecondsPerSecond1080,
            _ => FinishSecondsPerSecond720,
        };
        return Math.Round(StitchSeconds + plan.Spec.DurationSeconds * perSecond * (1 + plan.Finish.AspectRatios.Count), 3);
    }

    /// <summary>Finish seconds per second of video at 480p, 720p and 1080p (see bench/README.md).</summary>
    public const double FinishSecondsPerSecond480 = 0.15;

    /// <inheritdoc cref="FinishSecondsPerSecond480"/>
    public const double FinishSecondsPerSecond720 = 0.35;

    /// <inheritdoc cref="FinishSecondsPerSecond480"/>
    public const double FinishSecondsPerSecond1080 = 0.6;
}
