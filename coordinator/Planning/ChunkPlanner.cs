using VideoGen.Catalog;
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
    /// A continuous chunk's first frame repeats the last frame of the chunk before it (the model started from it);
    /// the finish drops it, so such a chunk covers one model frame less. An end card covers the last
    /// <see cref="EndCard.Seconds"/>, entered with the transition like a take: the chunks end where it is fully in.
    /// </summary>
    /// <remarks>With an <paramref name="upscaler"/> (named by <see cref="FinishPlan.Upscaler"/>) every chunk also carries the
    /// upscaler's price for its generated seconds (<see cref="ChunkPlan.UpscaleCostUsd"/>).</remarks>
    /// <remarks>
    /// The <paramref name="strategy"/> (default: the chain) says how a take's chunks depend on each other
    /// (<see cref="GraphStrategies"/>): an extend model's continuation repeats <see cref="ModelSpec.OverlapFrames"/> frames
    /// (so it covers that much less), and first-and-last-frame keyframes are counted and priced at
    /// <paramref name="keyframePriceUsd"/> each.
    /// </remarks>
    public static Plan Build(Spec spec, ModelSpec model, Continuity continuity, FinishPlan? finish = null, ModelSpec? upscaler = null,
        GraphStrategy strategy = GraphStrategy.Chain, double keyframePriceUsd = 0)
    {
        var upscalePrice = upscaler is not null && finish is not null && finish.Upscaler == upscaler.Name ? upscaler.PricePerSecondUsd : 0;
        var plan = new Plan
        {
            Spec = spec, Model = model.Name, ClipSeconds = model.ClipSeconds, Continuity = continuity, Finish = finish,
            Strategy = strategy == GraphStrategy.Unspecified ? GraphStrategy.Chain : strategy,
            OverlapFrames = strategy == GraphStrategy.Extend ? model.OverlapFrames : 1,
        };
        var overlap = finish is null || !(finish.TransitionSeconds > 0) ? 0 : Math.Min(finish.TransitionSeconds, model.ClipSeconds / 2);
        var videoEnd = VideoEnd(spec, finish, overlap);
        // Only the finish drops the repeated frames; a plan without one (older plans) stitches chunks whole.
        var repeated = finish is null ? 0 : RepeatedFrameSeconds(model) * plan.OverlapFrames;
        var previousBeat = -1;
        double next = 0;
        for (var i = 0; ; i++)
        {
            // A chunk belongs to the beat its start falls in, or to the next beat when that starts within a snap of it:
            // a beat starting a few frames after a chunk boundary (the repeated frames and overlaps move boundaries a
            // little) still gets its own take instead of being swallowed by the chunk before it.
            var beat = BeatAt(spec, next + Math.Min(BeatSnapSeconds, model.ClipSeconds / 4));
            var isReference = continuity switch
            {
                Continuity.None => true,
                Continuity.Strict => i == 0,
                _ => i == 0 || beat != previousBeat,
            };
            var transitionIn = i > 0 && isReference ? overlap : 0;
            var start = next - transitionIn;
            var covers = model.ClipSeconds - (isReference ? 0 : repeated);
            plan.Chunks.Add(new ChunkPlan
            {
                Index = i,
                StartSeconds = Math.Round(start, 3),
                GeneratedSeconds = model.ClipSeconds,
                UsedSeconds = Math.Round(Math.Min(covers, videoEnd - start), 3),
                BeatIndex = beat,
                IsReference = isReference,
                CostUsd = Math.Round(model.ClipSeconds * model.PricePerSecondUsd, 6),
                TransitionInSeconds = transitionIn,
                UpscaleCostUsd = Math.Round(model.ClipSeconds * upscalePrice, 6),
            });
            previousBeat = beat;
            next = start + covers;
            if (next >= videoEnd - Epsilon)
            {
                break;
            }
        }

        if (plan.Strategy == GraphStrategy.Keyframes)
        {
            // One keyframe at the end of every chunk: where the next chunk of its take starts, or where the take ends.
            plan.Keyframes = plan.Chunks.Count;
            plan.KeyframeCostUsd = Math.Round(plan.Keyframes * keyframePriceUsd, 6);
        }

        return plan;
    }

    /// <summary>How close after a chunk's start a beat may start and still get the chunk (at most a quarter of a clip).</summary>
    public const double BeatSnapSeconds = 0.5;

    /// <summary>Seconds of one model frame: what a continuous chunk loses when the finish drops its repeated first frame.</summary>
    public static double RepeatedFrameSeconds(ModelSpec model) => model.Fps > 0 ? 1.0 / model.Fps : 0;

    /// <summary>Where the chunks must reach in the final timeline: the duration, or the end card's start plus the overlap it is entered with.</summary>
    public static double VideoEnd(Spec spec, FinishPlan? finish, double overlap) =>
        finish?.EndCard is { Seconds: > 0 } card ? spec.DurationSeconds - card.Seconds + overlap : spec.DurationSeconds;

    /// <summary>Where the end card starts in the final timeline (its transition included); the duration when there is none.</summary>
    public static double EndCardStart(Plan plan) =>
        plan.Finish?.EndCard is { Seconds: > 0 } card ? Math.Round(plan.Spec.DurationSeconds - card.Seconds, 3) : plan.Spec.DurationSeconds;

    /// <summary>
    /// Seconds of raw cut the stitch keeps. Without a finish (older plans) the raw cut is the video: every chunk at full
    /// length, the last one up to its used part. With one, the raw cut is a review copy of every chunk whole (the finish
    /// reads the chunks themselves).
    /// </summary>
    public static double RawSeconds(Plan plan) => plan.Finish is null
        ? Math.Round(plan.Chunks.Take(plan.Chunks.Count - 1).Sum(c => c.GeneratedSeconds) + plan.Chunks[^1].UsedSeconds, 3)
        : Math.Round(plan.Chunks.Sum(c => c.GeneratedSeconds), 3);

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

    /// <summary>The plan's model cost: the chunks' (the upscaler's included), plus the voiceover's and the music's when it has a soundtrack, plus its keyframes'.</summary>
    public static double Cost(Plan plan) => Math.Round(plan.Chunks.Sum(c => c.CostUsd + c.UpscaleCostUsd) + SoundtrackPlanner.Cost(plan.Spec) + plan.KeyframeCostUsd, 6);

    /// <summary>The upscaler's share of <see cref="Cost"/>: Σ chunk seconds × its price (0 without an upscaler).</summary>
    public static double UpscaleCost(Plan plan) => Math.Round(plan.Chunks.Sum(c => c.UpscaleCostUsd), 6);
}
