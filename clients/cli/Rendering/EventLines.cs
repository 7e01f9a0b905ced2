using System.Globalization;
using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Cli.Rendering;

/// <summary>
/// One plain line per event, for pipes and logs:
/// <c>[seq 12] chunk-3 running on worker-2 (attempt 1) 40%</c>; and the final line of a
/// watch: <c>job succeeded 30.0 s -> file:///...</c>. Pure.
/// </summary>
public static class EventLines
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Format(JobEvent jobEvent)
    {
        var prefix = $"[seq {jobEvent.Sequence}] ";
        return jobEvent.EventCase switch
        {
            JobEvent.EventOneofCase.StateChanged => prefix + FormatState(jobEvent.StateChanged),
            JobEvent.EventOneofCase.TaskUpdated => prefix + FormatTask(jobEvent.TaskUpdated),
            JobEvent.EventOneofCase.Planned => prefix + FormatPlan(jobEvent.Planned.Plan),
            _ => prefix + "event",
        };
    }

    /// <summary>The line that ends a watch, from what the stream told.</summary>
    public static string FinalLine(ProgressModel model) => model.State switch
    {
        JobState.Succeeded => string.Create(Invariant,
            $"job succeeded {model.OutputDurationSeconds:0.0} s -> {Location(model)}"),
        JobState.Failed => $"job failed: {(model.Error.Length > 0 ? model.Error : "no reason given")}",
        JobState.Cancelled => "job cancelled",
        _ => $"job {Names.Of(model.State)}",
    };

    public static string Money(double usd) => string.Create(Invariant, $"${usd:0.000}");

    public static string Percent(double progress) =>
        string.Create(Invariant, $"{Math.Round(Math.Clamp(progress, 0, 1) * 100):0}%");

    private static string Location(ProgressModel model) =>
        model.OutputUri.Length > 0 ? model.OutputUri : model.OutputUrl.Length > 0 ? model.OutputUrl : "(no output)";

    private static string FormatState(JobStateChanged changed)
    {
        var line = $"job {Names.Of(changed.State)} cost {Money(changed.CostUsd)}";
        if (changed.State == JobState.Succeeded)
        {
            line += string.Create(Invariant, $" {changed.OutputDurationSeconds:0.0} s -> {changed.OutputUri}");
        }
        if (changed.Error.Length > 0)
        {
            line += $": {changed.Error}";
        }
        return line;
    }

    private static string FormatTask(TaskUpdated updated)
    {
        var task = updated.Task ?? new TaskStatus();
        var line = $"{task.TaskId} {Names.Of(task.State)}";
        if (task.WorkerId.Length > 0)
        {
            line += $" on {task.WorkerId}";
        }
        if (task.Attempt > 0)
        {
            line += $" (attempt {task.Attempt})";
        }
        switch (task.State)
        {
            case TaskState.Running:
                line += " " + Percent(task.Progress);
                break;
            case TaskState.Succeeded:
                line += $" {Money(task.CostUsd)}, job {Money(updated.JobCostUsd)}";
                break;
            case TaskState.Failed:
                if (task.Error.Length > 0)
                {
                    line += $": {task.Error}";
                }
                break;
            case TaskState.Ready when task.WaitingReason.Length > 0:
                line += $", waiting: {task.WaitingReason}";
                break;
        }
        return line;
    }

    private static string FormatPlan(Plan? plan)
    {
        if (plan is null)
        {
            return "planned";
        }
        var spec = plan.Spec ?? new Spec();
        var cost = plan.Chunks.Sum(c => c.CostUsd);
        return string.Create(Invariant,
            $"planned {spec.DurationSeconds:0.0} s {spec.Template}: {plan.Chunks.Count} chunks of {plan.ClipSeconds:0.0} s on {plan.Model}, {spec.Beats.Count} beats, continuity {Names.Of(plan.Continuity)}, est {Money(cost)}");
    }
}
