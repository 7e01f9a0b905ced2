using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// What a task's success means for its job, a pure function of the job's tasks: the job's final task ends the job;
/// any other makes ready each waiting dependent whose every input has succeeded (a dependent with another input
/// still running keeps waiting).
/// </summary>
internal static class CompletionPolicy
{
    /// <summary>Whether <paramref name="taskId"/> is the job's last task (its success is the job's).</summary>
    public static bool EndsJob(Job job, string taskId) => taskId == TaskGraph.FinalTaskId(job.Plan);

    /// <summary>The dependents of a task that just succeeded that may run now, in the order given.</summary>
    public static IReadOnlyList<TaskStatus> NewlyReady(IReadOnlyList<TaskStatus> dependents, Func<string, TaskState> stateOf)
    {
        // Loops rather than LINQ: this runs for every task that succeeds (a stitch waits on every chunk).
        var ready = new List<TaskStatus>();
        for (var i = 0; i < dependents.Count; i++)
        {
            var d = dependents[i];
            if (d.State != TaskState.Waiting)
            {
                continue;
            }

            var inputs = d.DependsOn;
            var all = true;
            for (var j = 0; j < inputs.Count && all; j++)
            {
                all = stateOf(inputs[j]) == TaskState.Succeeded;
            }

            if (all)
            {
                ready.Add(d);
            }
        }

        return ready;
    }
}
