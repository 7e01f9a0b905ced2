using System.Globalization;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Rendering;

/// <summary>The human-readable output of the one-shot commands. Pure.</summary>
public static class Tables
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Columns padded to their widest cell; the last column is not padded.</summary>
    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = Enumerable.Range(0, headers.Count)
            .Select(i => all.Max(r => i < r.Count ? r[i].Length : 0))
            .ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            var cells = row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]));
            text.AppendLine(string.Join("  ", cells).TrimEnd());
        }
        return text.ToString();
    }

    public static string Workers(IEnumerable<WorkerInfo> workers)
    {
        var list = workers.ToList();
        var table = Table(
            ["WORKER", "STATE", "ADDRESS", "SLOTS", "RUNNING", "OK", "FAILED", "BLOCKLISTED", "MODELS"],
            list.Select(w => (IReadOnlyList<string>)
            [
                w.WorkerId,
                w.QuarantinedUntil is { } until ? $"{w.State} until {until.ToDateTime():HH:mm:ss}Z" : w.State,
                w.Address, Num(w.Slots), Num(w.RunningTasks), Num(w.TasksSucceeded),
                Num(w.TasksFailed), w.BlocklistedJobs > 0 ? $"{w.BlocklistedJobs} job(s)" : "-", string.Join(",", w.Models),
            ]));
        var gpu = list.Where(w => w.Resources is { Reported: true } or { WithheldModels.Count: > 0 }).ToList();
        return gpu.Count == 0 ? table : table + Environment.NewLine + GpuWorkers(gpu);
    }

    /// <summary>GPU workers: each GPU with its free memory, the models their server holds loaded, the ones it cannot run, its health.</summary>
    public static string GpuWorkers(IEnumerable<WorkerInfo> workers) => Table(
        ["WORKER", "GPU", "FREE", "LOADED", "WITHHELD", "SERVER"],
        workers.SelectMany(w => (w.Resources.GpuDevices.Count == 0 ? [new GpuDevice { Name = "-" }] : w.Resources.GpuDevices.ToList())
            .Select(g => (IReadOnlyList<string>)
            [
                w.WorkerId, g.Name,
                g.TotalMemoryBytes == 0 ? "-" : string.Create(Invariant, $"{g.FreeMemoryBytes / GiB:0.0}/{g.TotalMemoryBytes / GiB:0.0} GiB"),
                w.Resources.LoadedModels.Count == 0 ? "-" : string.Join(",", w.Resources.LoadedModels),
                w.Resources.WithheldModels.Count == 0 ? "-" : string.Join(",", w.Resources.WithheldModels),
                w.Resources.UnhealthyReason.Length > 0 ? $"unhealthy: {w.Resources.UnhealthyReason}" : "ok",
            ])));

    private const double GiB = 1024.0 * 1024 * 1024;

    public static string Keys(IEnumerable<ApiKeyInfo> keys) => Table(
        ["KEY", "TENANT", "ROLE", "CREATED", "REVOKED"],
        keys.Select(k => (IReadOnlyList<string>)
        [
            k.KeyId, k.Tenant, Names.Of(k.Role),
            k.CreatedAt?.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", Invariant) ?? "-",
            k.RevokedAt?.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", Invariant) ?? "-",
        ]));

    public static string Templates(IEnumerable<TemplateInfo> templates) => Table(
        ["TEMPLATE", "DEFAULT", "BEATS", "DESCRIPTION"],
        templates.Select(t => (IReadOnlyList<string>)
        [
            t.Name, SecondsOrDash(t.DefaultDurationSeconds), string.Join(",", t.Beats), t.Description,
        ]));

    public static string Jobs(IEnumerable<Job> jobs) => Table(
        ["JOB", "STATE", "CREATED", "DURATION", "COST", "TENANT", "PROMPT"],
        jobs.Select(j => (IReadOnlyList<string>)
        [
            j.JobId, Names.Of(j.State), Time(j.CreatedAt), SecondsOrDash(RequestedSeconds(j)), EventLines.Money(j.CostUsd),
            string.IsNullOrEmpty(j.Request?.Tenant) ? "default" : j.Request.Tenant, Shorten(j.Request?.Prompt ?? "", 50),
        ]));

    public static string Job(Job job)
    {
        var text = new StringBuilder();
        text.AppendLine($"job        {job.JobId}");
        text.AppendLine($"state      {Names.Of(job.State)}");
        text.AppendLine($"prompt     {job.Request?.Prompt}");
        if (job.Plan is { } plan)
        {
            text.AppendLine(PlanSummary(plan));
        }
        text.AppendLine($"cost       {EventLines.Money(job.CostUsd)}");
        text.AppendLine($"created    {Time(job.CreatedAt)}");
        if (job.FinishedAt is not null)
        {
            text.AppendLine($"finished   {Time(job.FinishedAt)}");
        }
        if (job.OutputUri.Length > 0)
        {
            text.AppendLine($"output     {job.OutputUri} ({Seconds(job.OutputDurationSeconds)})");
        }
        if (job.OutputUrl.Length > 0)
        {
            text.AppendLine($"url        {job.OutputUrl}");
        }
        if (job.Error.Length > 0)
        {
            text.AppendLine($"error      {job.Error}");
        }
        if (job.Tasks.Count > 0)
        {
            text.AppendLine();
            text.Append(Table(
                ["TASK", "STATE", "WORKER", "ATTEMPT", "PROGRESS", "COST", "OUTPUT / ERROR"],
                job.Tasks.Select(t => (IReadOnlyList<string>)
                [
                    t.TaskId, Names.Of(t.State), t.WorkerId, Num(t.Attempt), EventLines.Percent(t.Progress),
                    EventLines.Money(t.CostUsd), t.Error.Length > 0 ? t.Error : t.WaitingReason.Length > 0 ? $"waiting: {t.WaitingReason}" : t.OutputUri,
                ])));
        }
        return text.ToString();
    }

    public static string Estimate(EstimateJobResponse estimate)
    {
        var text = new StringBuilder();
        var plan = estimate.Plan ?? new Plan();
        text.AppendLine(PlanSummary(plan));
        text.AppendLine(estimate.UpscaleCostUsd > 0 && plan.Finish is { Upscaler.Length: > 0 } finish
            ? $"cost       {EventLines.Money(estimate.CostUsd)} (of which upscaler {finish.Upscaler} {EventLines.Money(estimate.UpscaleCostUsd)})"
            : $"cost       {EventLines.Money(estimate.CostUsd)}");
        text.AppendLine(string.Create(Invariant,
            $"wall time  ~{estimate.ExpectedWallSeconds:0.0} s with {estimate.Workers} workers"));
        if (estimate.Revision is { } revision)
        {
            text.AppendLine(string.Create(Invariant,
                $"revision   of {revision.RevisionOf}: {revision.ReusedTaskIds.Count} tasks reused ({EventLines.Money(revision.ReusedCostUsd)} not paid again), {revision.RenderedTaskIds.Count} run: {string.Join(", ", revision.RenderedTaskIds)}"));
        }
        if (estimate.Strategies.Count > 0)
        {
            text.AppendLine();
            text.Append(Table(["STRATEGY", "CAPABILITY", "CHUNKS", "KEYFRAMES", "COST", "WALL TIME", ""],
                estimate.Strategies.Select(s => (IReadOnlyList<string>)
                [
                    Names.Of(s.Strategy), s.Capability, Num(s.Chunks), Num(s.Keyframes), EventLines.Money(s.CostUsd),
                    string.Create(Invariant, $"~{s.ExpectedWallSeconds:0.0} s"), s.Chosen ? "chosen" : "",
                ])));
        }
        if (plan.Spec is { Beats.Count: > 0 } spec)
        {
            text.AppendLine();
            text.Append(Table(["BEAT", "NAME", "START", "LENGTH", "SHOT"],
                spec.Beats.Select(b => (IReadOnlyList<string>)
                [
                    Num(b.Index), b.Name, Seconds(b.StartSeconds), Seconds(b.LengthSeconds), b.ShotDescription,
                ])));
        }
        if (plan.Chunks.Count > 0)
        {
            text.AppendLine();
            text.Append(Table(["CHUNK", "START", "GENERATED", "USED", "BEAT", "STARTS FROM", "COST"],
                plan.Chunks.Select(c => (IReadOnlyList<string>)
                [
                    Num(c.Index), Seconds(c.StartSeconds), Seconds(c.GeneratedSeconds), Seconds(c.UsedSeconds),
                    Num(c.BeatIndex), c.IsReference ? "storyboard" : plan.Strategy == GraphStrategy.Keyframes ? "keyframe" : "previous chunk", EventLines.Money(c.CostUsd),
                ])));
        }
        return text.ToString();
    }

    private static string PlanSummary(Plan plan)
    {
        var spec = plan.Spec ?? new Spec();
        var text = new StringBuilder();
        text.AppendLine(string.Create(Invariant,
            $"spec       {Seconds(spec.DurationSeconds)} ({spec.DurationSource}) {spec.Template}: {spec.Subject}, {spec.Style}"));
        text.Append(string.Create(Invariant,
            $"plan       {plan.Chunks.Count} chunks x {Seconds(plan.ClipSeconds)} on {plan.Model}, continuity {Names.Of(plan.Continuity)}, planner {spec.Planner}"));
        if (plan.Strategy is not (GraphStrategy.Unspecified or GraphStrategy.Chain))
        {
            // The chain is the graph of every plan before strategies existed: named only when it is another.
            text.Append(string.Create(Invariant, $", graph {Names.Of(plan.Strategy)}{(plan.Keyframes > 0 ? $" ({plan.Keyframes} keyframes)" : "")}"));
        }
        if (spec.PlannerNote.Length > 0)
        {
            text.Append($" ({spec.PlannerNote})");
        }
        if (plan.Finish is { } finish)
        {
            var aspects = finish.AspectRatios.Count == 0 ? "" : $", also {string.Join(", ", finish.AspectRatios)}";
            text.AppendLine();
            text.Append(string.Create(Invariant,
                $"finish     {finish.WidthPixels}x{finish.HeightPixels} {finish.Fps} fps, {finish.Transition} {finish.TransitionSeconds:0.0#} s between takes, look {finish.Look}{aspects}"));
        }
        return text.ToString();
    }

    private static double RequestedSeconds(Job job) =>
        job.Plan?.Spec?.DurationSeconds is > 0 and var planned ? planned
        : job.Request is { HasDurationSeconds: true } request ? request.DurationSeconds
        : 0;

    private static string Seconds(double seconds) => string.Create(Invariant, $"{seconds:0.0} s");

    /// <summary>"-" where 0 means "not known yet".</summary>
    private static string SecondsOrDash(double seconds) => seconds > 0 ? Seconds(seconds) : "-";

    private static string Num(long value) => value.ToString(Invariant);

    private static string Time(Timestamp? time) =>
        time is null ? "-" : time.ToDateTime().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant);

    private static string Shorten(string text, int max)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }
}
