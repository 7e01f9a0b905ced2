using VideoGen.Contracts.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Turns a spec into chunks of the model's real clip length. The model returns clips of its own
/// fixed length whatever it is asked, so <c>chunk_count = ceil(duration / clip_seconds)</c>, and the
/// final cut trims the last chunk to the asked duration.
/// </summary>
public static class ChunkPlanner
{
    // Durations are user input in seconds with at most millisecond meaning; the epsilon keeps
    // 30 / 5 from becoming 7 chunks through floating-point noise.
    private const double Epsilon = 1e-6;

    public static Plan Build(Spec spec, ModelSpec model, Continuity continuity)
    {
        var plan = new Plan { Spec = spec, Model = model.Name, ClipSeconds = model.ClipSeconds, Continuity = continuity };
        var count = (int)Math.Ceiling(spec.DurationSeconds / model.ClipSeconds - Epsilon);
        var previousBeat = -1;
        for (var i = 0; i < count; i++)
        {
            var start = i * model.ClipSeconds;
            var beat = BeatAt(spec, start);
            var isReference = continuity switch
            {
                Continuity.None => true,
                Continuity.Strict => i == 0,
                _ => i == 0 || beat != previousBeat,
            };
            plan.Chunks.Add(new ChunkPlan
            {
                Index = i,
                StartSeconds = Math.Round(start, 3),
                GeneratedSeconds = model.ClipSeconds,
                UsedSeconds = Math.Round(Math.Min(model.ClipSeconds, spec.DurationSeconds - start), 3),
                BeatIndex = beat,
                IsReference = isReference,
                CostUsd = Math.Round(model.ClipSeconds * model.PricePerSecondUsd, 6),
            });
            previousBeat = beat;
        }

        return plan;
    }

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

    /// <summary>Sum of the chunks' model cost.</summary>
    public static double Cost(Plan plan) => Math.Round(plan.Chunks.Sum(c => c.CostUsd), 6);
}
