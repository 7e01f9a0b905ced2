using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>What a success makes ready, on the task graph of a real plan (no loop, no store).</summary>
public sealed class CompletionPolicyTests
{
    [Fact]
    public void Success_ReadiesOnlyDependentsWhoseEveryInputSucceeded()
    {
        var tasks = new Dictionary<string, TaskStatus>
        {
            ["chunk-0"] = new() { TaskId = "chunk-0", State = TaskState.Succeeded },
            ["chunk-1"] = new() { TaskId = "chunk-1", State = TaskState.Running },
            ["chunk-2"] = new() { TaskId = "chunk-2", State = TaskState.Waiting, DependsOn = { "chunk-0" } },
            ["stitch"] = new() { TaskId = "stitch", State = TaskState.Waiting, DependsOn = { "chunk-0", "chunk-1" } },
            ["cancelled"] = new() { TaskId = "cancelled", State = TaskState.Cancelled, DependsOn = { "chunk-0" } },
        };

        var ready = CompletionPolicy.NewlyReady([tasks["chunk-2"], tasks["stitch"], tasks["cancelled"]], id => tasks[id].State);

        Assert.Equal(["chunk-2"], ready.Select(t => t.TaskId));
    }

    [Fact]
    public void FinalTask_EndsTheJob_AndNoOtherDoes()
    {
        var request = new JobRequest { Prompt = "a 10 second showcase for a watch", Audio = false };
        var job = new Job { JobId = "j", Plan = OrchestratorHarness.Rules.Plan(request) };
        var final = TaskGraph.FinalTaskId(job.Plan);

        Assert.True(CompletionPolicy.EndsJob(job, final));
        Assert.False(CompletionPolicy.EndsJob(job, "chunk-0"));
    }
}
