using System.Globalization;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The running-job budget rule, checked before an attempt that is paid for (a chunk, an upscale, the voiceover, the
/// music) starts: what the job has spent plus the planned price of everything not yet paid for (running, this one,
/// those still to come; a retry re-pays its task) must stay within <c>max_cost_usd</c> (<see cref="Budget.Exceeds"/>).
/// Counting what is still to come stops a job that can no longer finish within its budget at once, instead of after
/// spending on chunks it could never use. Pure: a function of the job.
/// </summary>
public static class BudgetGuard
{
    /// <summary>True for the task kinds whose attempts cost money.</summary>
    public static bool IsPaid(TaskKind kind) => kind is TaskKind.Chunk or TaskKind.Voiceover or TaskKind.Music or TaskKind.Upscale;

    /// <summary>Why starting another paid attempt of <paramref name="job"/> would break its budget; null when it would not (or it has none).</summary>
    public static string? Check(Job job)
    {
        if (!job.Request.HasMaxCostUsd)
        {
            return null;
        }

        var succeeded = job.Tasks.Where(t => t.State == TaskState.Succeeded).Select(t => t.TaskId).ToHashSet(StringComparer.Ordinal);
        var unpaid = job.Plan.Chunks.Where(c => !succeeded.Contains(TaskGraph.ChunkTaskId(c.Index))).ToList();
        // The upscaler is paid per chunk too: its price counts until the chunk's upscale task succeeded.
        var upscalesUnpaid = job.Plan.Chunks.Where(c => c.UpscaleCostUsd > 0 && !succeeded.Contains(TaskGraph.UpscaleTaskId(c.Index))).Sum(c => c.UpscaleCostUsd);
        var planned = unpaid.Sum(c => c.CostUsd) + upscalesUnpaid;
        if (job.Plan.Spec.Soundtrack is { } soundtrack && TaskGraph.HasSoundtrack(job.Plan))
        {
            // The voiceover and the music are paid for beside the chunks: count what they will still cost.
            planned += (succeeded.Contains(TaskGraph.VoiceoverTaskId) ? 0 : soundtrack.VoiceCostUsd) + (succeeded.Contains(TaskGraph.MusicTaskId) ? 0 : soundtrack.MusicCostUsd);
        }

        if (!Budget.Exceeds(job.CostUsd + planned, job.Request.MaxCostUsd))
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"budget: ${job.CostUsd:0.00} spent + ${planned:0.00} planned for {unpaid.Count} chunk(s) still to render (soundtrack included; upscales still to pay: ${upscalesUnpaid:0.00}) exceeds max_cost_usd ${job.Request.MaxCostUsd:0.00}; stopped before spending more");
    }
}
