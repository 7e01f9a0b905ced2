using VideoGen.Contracts.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Turns a spec into chunks of the model's real clip length. The model returns clips of its own
/// fixed length whatever it is asked, so <c>chunk_count = ceil(duration / clip_seconds)</c>, and the
/// final cut trims the last chunk to the asked duration. Transitions between takes add their overlap.
/// </summary>
public static class ChunkPlanner
{
    // Durations are user input in seconds with at most millisecond meaning; the epsilon keeps
    // 30 / 5 from becoming 7 chunks through floating-point noise.
    private const double Epsilon = 1e-6;

    /// <summary>
    /// Chunks for <paramref name="spec"/>. A chunk that starts a new take (a reference chunk after the first) is
    /// entered with the finish's transition, which overlaps the end of the take before it by
    /// <see cref="FinishPlan.TransitionSeconds"/>: that chunk starts earlier in the final video by the overlap,
    /// so the takes still cover the duration exactly once the transitions are made (and one more chunk may be needed).
    /// </summary>
    public static Plan Build(Spec spec, ModelSpec model, Continuity continuity, FinishPlan? finish = null)
    {
        var plan = new Plan { Spec = spec, Model = model.Name, ClipSeconds = model.ClipSeconds, Continuity = continuity, Finish = finish };
        var overlap = finish is null || !(finish.TransitionSeconds > 0) ? 0 : Math.Min(finish.TransitionSeconds, model.ClipSeconds / 2);
        var previousBeat = -1;
        double next = 0;
        for (var i = 0; ; i++)
        {
            var beat = BeatAt(spec, next);
            var isReference = continuity switch
            {
                Continuity.None => true,
                Continuity.Strict => i == 0,
                _ => i == 0 || beat != previousBeat,
            };
            var transitionIn = i > 0 && isReference ? overlap : 0;
            var start = next - transitionIn;
            plan.Chunks.Add(new ChunkPlan
            {
                Index = i,
                StartSeconds = Math.Round(start, 3),
                GeneratedSeconds = model.ClipSeconds,
                UsedSeconds = Math.Round(Math.Min(model.ClipSeconds, spec.DurationSeconds - start), 3),
                BeatIndex = beat,
                IsReference = isReference,
                CostUsd = Math.Round(model.ClipSeconds * model.PricePerSecondUsd, 6),
                TransitionInSeconds = transitionIn,
            });
            previousBeat = beat;
            next = start + model.ClipSeconds;
            if (next >= spec.DurationSeconds - Epsilon)
            {
                break;
            }
        }

        return plan;
    }

    /// <summary>Seconds of raw cut the stitch must keep: every chunk at full length, the last one up to its used part.</summary>
    public static double RawSeconds(Plan plan) =>
        Math.Round(plan.Chunks.Take(plan.Chunks.Count - 1).Sum(c => c.GeneratedSeconds) + plan.Chunks[^1].UsedSeconds, 3);

    /// <summary>Where chunk <paramref name="index"/> starts in the raw cut (chunks are joined at full length).</summary>
    public static double RawStart(Plan plan, int index) => Math.Round(plan.Chunks.Take(index).Sum(c => c.GeneratedSeconds), 3);

    /// <summary>The beat whose [start, start+length) holds <paramref name="seconds"/> (by the beats' real start times).</summary>
    public static int BeatAt(Spec spec, double seconds)
    {
        var index = 0;
        foreach (var beat in spec.Beats)
        {
            if (beat.StartSeconds <= seconds + Epsilon)
            {
                index = beat.Index;
            }
        }

        return index;
    }

    /// <summary>The plan's model cost: the chunks', plus the voiceover's and the music's when it has a soundtrack.</summary>
    public static double Cost(Plan plan) => Math.Round(plan.Chunks.Sum(c => c.CostUsd) + SoundtrackPlanner.Cost(plan.Spec), 6);
}
