using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Cli.Tests;

/// <summary>Builders for the job events the tests feed.</summary>
internal static class Events
{
    public static JobEvent State(long sequence, JobState state, double cost = 0, string outputUri = "", double seconds = 0, string error = "") =>
        new()
        {
            JobId = "job-1",
            Sequence = sequence,
            StateChanged = new JobStateChanged
            {
                State = state, CostUsd = cost, OutputUri = outputUri, OutputDurationSeconds = seconds, Error = error,
            },
        };

    public static JobEvent Chunk(long sequence, int index, TaskState state, string worker = "", int attempt = 0, double progress = 0, double jobCost = 0) =>
        new()
        {
            JobId = "job-1",
            Sequence = sequence,
            TaskUpdated = new TaskUpdated
            {
                JobCostUsd = jobCost,
                Task = new TaskStatus
                {
                    TaskId = $"chunk-{index}", Kind = TaskKind.Chunk, Index = index, State = state,
                    WorkerId = worker, Attempt = attempt, Progress = progress, CostUsd = state == TaskState.Succeeded ? 0.25 : 0,
                },
            },
        };

    public static JobEvent Planned(long sequence, int chunks) =>
        new()
        {
            JobId = "job-1",
            Sequence = sequence,
            Planned = new JobPlanned
            {
                Plan = new Plan
                {
                    Model = "wan-2.1-480p",
                    ClipSeconds = 5,
                    Continuity = Continuity.Beat,
                    Spec = new Spec { DurationSeconds = chunks * 5, Template = "product_showcase" },
                    Chunks = { Enumerable.Range(0, chunks).Select(i => new ChunkPlan { Index = i, CostUsd = 0.25 }) },
                },
            },
        };
}
