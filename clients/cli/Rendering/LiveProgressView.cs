using System.Globalization;
using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Cli.Rendering;

/// <summary>
/// The lines of the live progress view: a header, one bar per task (storyboards, chunks,
/// stitch) with its worker and attempt, and one bar for the job. Pure: the terminal
/// writer redraws these lines in place.
/// </summary>
public static class LiveProgressView
{
    public const int BarWidth = 24;

    public static IReadOnlyList<string> Lines(ProgressModel model, TimeSpan elapsed, int maxWidth = 120)
    {
        var lines = new List<string>();
        var header = string.Create(CultureInfo.InvariantCulture,
            $"job {model.JobId}  {Names.Of(model.State)}  cost {EventLines.Money(model.CostUsd)}  {elapsed.TotalSeconds:0.0}s");
        if (model.Plan is { } plan)
        {
            header += string.Create(CultureInfo.InvariantCulture,
                $"  {plan.Chunks.Count} chunks x {plan.ClipSeconds:0.#} s on {plan.Model}");
        }
        lines.Add(header);
        var nameWidth = Math.Max(8, model.Tasks.Select(t => t.TaskId.Length).DefaultIfEmpty(0).Max());
        foreach (var task in model.Tasks)
        {
            var progress = task.State == TaskState.Succeeded ? 1 : task.Progress;
            var where = task.WorkerId.Length > 0 ? $"{task.WorkerId} #{task.Attempt}" : "";
            var line = $"  {task.TaskId.PadRight(nameWidth)} {Bar(progress)} {EventLines.Percent(progress),4} {Names.Of(task.State),-9} {where}";
            if (task.State == TaskState.Failed && task.Error.Length > 0)
            {
                line += $" {task.Error}";
            }
            lines.Add(line);
        }
        lines.Add($"  {"job".PadRight(nameWidth)} {Bar(model.Progress)} {EventLines.Percent(model.Progress),4} {Names.Of(model.State)}");
        return lines.Select(l => l.Length > maxWidth ? l[..maxWidth] : l).ToList();
    }

    public static string Bar(double progress)
    {
        var filled = (int)Math.Round(Math.Clamp(progress, 0, 1) * BarWidth);
        return "[" + new string('#', filled) + new string('.', BarWidth - filled) + "]";
    }
}
