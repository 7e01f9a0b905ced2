using System.Globalization;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>The seam gate's thresholds (configuration <c>Scheduling:SeamGate:*</c>).</summary>
public sealed class SeamGateOptions
{
    /// <summary>Whether continuous chunks have their seam scored and gated.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Lowest SSIM of the conditioning frame and the chunk's first new frame that passes.</summary>
    public double MinSsim { get; set; } = 0.85;

    /// <summary>Largest distance of their mean colours (Y'CbCr code values) that passes.</summary>
    public double MaxColourDistance { get; set; } = 20;

    /// <summary>Largest luma jump across the seam beyond the clip's own motion (YDIF code values) that passes.</summary>
    public double MaxMotionJump { get; set; } = 15;

    /// <summary>
    /// Times one chunk may be made again with a new seed for its seam (each is paid for). 0, the default: seams are
    /// scored and reported (task status, metrics, a warning in the log), and regenerating them is a choice to pay for.
    /// </summary>
    public int MaxRegenerations { get; set; }

    /// <summary>What is wrong with the options, for start-up validation; null when nothing.</summary>
    public string? Problem() =>
        MinSsim is < 0 or > 1 ? "Scheduling:SeamGate:MinSsim must be from 0 to 1"
        : !(MaxColourDistance >= 0) || !(MaxMotionJump >= 0) ? "Scheduling:SeamGate:MaxColourDistance and MaxMotionJump must not be negative"
        : MaxRegenerations is < 0 or > 10 ? "Scheduling:SeamGate:MaxRegenerations must be from 0 to 10"
        : null;
}

/// <summary>What the gate makes of a scored seam.</summary>
public enum SeamVerdict
{
    /// <summary>The seam meets every threshold: the chunk succeeds.</summary>
    Passed,

    /// <summary>Below a threshold, with regenerations and budget left: the chunk is made again with a new seed.</summary>
    Regenerate,

    /// <summary>Below a threshold, but no regeneration is left (or the budget has no room for one): the chunk is kept as it is.</summary>
    KeptBelow,
}

/// <summary>
/// The seam quality gate, a pure function: a continuous chunk's seam (the worker's <see cref="SeamScore"/>) against the
/// thresholds, the regenerations it already had and the job's budget. A regeneration re-pays the chunk, so it is only
/// allowed while the budget guard (<see cref="BudgetGuard"/>) would still let the job spend on it.
/// </summary>
public static class SeamGatePolicy
{
    /// <summary>Whether the attempt of <paramref name="task"/> should score its seam: a chunk that continues a frame, with the gate on.</summary>
    public static bool Scores(Plan plan, TaskStatus task, SeamGateOptions gate) =>
        gate.Enabled && task.Kind == TaskKind.Chunk && task.Index >= 0 && task.Index < plan.Chunks.Count && !plan.Chunks[task.Index].IsReference;

    /// <summary>Whether <paramref name="score"/> meets every threshold.</summary>
    public static bool Passes(SeamScore score, SeamGateOptions gate) =>
        score.Ssim >= gate.MinSsim && score.ColourDistance <= gate.MaxColourDistance && score.MotionJump <= gate.MaxMotionJump;

    /// <summary>The verdict on a seam of a chunk that had <paramref name="regenerations"/> regenerations, the attempt having cost <paramref name="attemptCostUsd"/>.</summary>
    public static SeamVerdict Judge(SeamScore score, int regenerations, SeamGateOptions gate, Job job, double attemptCostUsd)
    {
        if (Passes(score, gate))
        {
            return SeamVerdict.Passed;
        }

        return regenerations < gate.MaxRegenerations && BudgetAllowsRemake(job, attemptCostUsd) ? SeamVerdict.Regenerate : SeamVerdict.KeptBelow;
    }

    /// <summary>
    /// Whether the job's budget has room to make the chunk again: what it spent, this attempt (wasted if remade) and
    /// everything still to pay, this chunk again included (it has not succeeded), within <c>max_cost_usd</c>.
    /// </summary>
    public static bool BudgetAllowsRemake(Job job, double attemptCostUsd)
    {
        if (!job.Request.HasMaxCostUsd)
        {
            return true;
        }

        var probe = job.Clone();
        probe.CostUsd += attemptCostUsd;
        return BudgetGuard.Check(probe) is null;
    }

    /// <summary>Which thresholds the score missed, for the task's error and the log.</summary>
    public static string Why(SeamScore score, SeamGateOptions gate)
    {
        var misses = new List<string>();
        if (score.Ssim < gate.MinSsim)
        {
            misses.Add(string.Create(CultureInfo.InvariantCulture, $"SSIM {score.Ssim:0.000} < {gate.MinSsim:0.###}"));
        }

        if (score.ColourDistance > gate.MaxColourDistance)
        {
            misses.Add(string.Create(CultureInfo.InvariantCulture, $"colour distance {score.ColourDistance:0.0} > {gate.MaxColourDistance:0.#}"));
        }

        if (score.MotionJump > gate.MaxMotionJump)
        {
            misses.Add(string.Create(CultureInfo.InvariantCulture, $"motion jump {score.MotionJump:0.0} > {gate.MaxMotionJump:0.#}"));
        }

        return "seam below the gate: " + string.Join(", ", misses);
    }

    /// <summary>The seed of a chunk's attempt: the task's stable seed, another one per regeneration.</summary>
    public static int SeedOffset(TaskStatus task) => task.SeamRegenerations * 7919;
}
