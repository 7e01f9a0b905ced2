using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Cli.Rendering;

/// <summary>
/// What a client knows about a job from its event stream. Fed <see cref="JobEvent"/>s in
/// order; an event at or below the last seen sequence is ignored, so a resumed stream can
/// never apply an event twice. Pure: no I/O, no clock.
/// </summary>
public sealed class ProgressModel(string jobId)
{
    private readonly Dictionary<string, TaskStatus> _tasks = new(StringComparer.Ordinal);

    public string JobId { get; } = jobId;
    public long LastSequence { get; private set; }
    public JobState State { get; private set; } = JobState.Unspecified;
    public double CostUsd { get; private set; }
    public Plan? Plan { get; private set; }
    public string OutputUri { get; private set; } = "";
    public string OutputUrl { get; private set; } = "";
    public double OutputDurationSeconds { get; private set; }
    public string Error { get; private set; } = "";
    public bool IsTerminal => Names.IsTerminal(State);

    /// <summary>Tasks in display order: storyboards, chunks, then the stitch; by index within a kind.</summary>
    public IReadOnlyList<TaskStatus> Tasks => _tasks.Values
        .OrderBy(t => KindOrder(t.Kind))
        .ThenBy(t => t.Index)
        .ThenBy(t => t.TaskId, StringComparer.Ordinal)
        .ToList();

    /// <summary>Overall progress 0..1: the mean of every known task's progress (done tasks count 1).</summary>
    public double Progress
    {
        get
        {
            if (State == JobState.Succeeded)
            {
                return 1;
            }
            var expected = ExpectedTaskCount();
            if (expected == 0)
            {
                return 0;
            }
            var done = _tasks.Values.Sum(t => t.State == TaskState.Succeeded ? 1.0 : Math.Clamp(t.Progress, 0, 1));
            return Math.Clamp(done / expected, 0, 1);
        }
    }

    /// <summary>Applies one event; false when it was already seen (sequence not above the last).</summary>
    public bool Apply(JobEvent jobEvent)
    {
        if (jobEvent.Sequence <= LastSequence)
        {
            return false;
        }
        LastSequence = jobEvent.Sequence;
        switch (jobEvent.EventCase)
        {
            case JobEvent.EventOneofCase.StateChanged:
                var changed = jobEvent.StateChanged;
                State = changed.State;
                CostUsd = changed.CostUsd;
                if (changed.OutputUri.Length > 0)
                {
                    OutputUri = changed.OutputUri;
                }
                if (changed.OutputUrl.Length > 0)
                {
                    OutputUrl = changed.OutputUrl;
                }
                if (changed.OutputDurationSeconds > 0)
                {
                    OutputDurationSeconds = changed.OutputDurationSeconds;
                }
                if (changed.Error.Length > 0)
                {
                    Error = changed.Error;
                }
                break;
            case JobEvent.EventOneofCase.TaskUpdated:
                var task = jobEvent.TaskUpdated.Task;
                if (task is not null)
                {
                    _tasks[task.TaskId] = task;
                }
                CostUsd = jobEvent.TaskUpdated.JobCostUsd;
                break;
            case JobEvent.EventOneofCase.Planned:
                Plan = jobEvent.Planned.Plan;
                break;
        }
        return true;
    }

    /// <summary>Fills what the stream did not carry (e.g. a job that ended before we watched) from GetJob.</summary>
    public void MergeFinal(Job job)
    {
        if (!IsTerminal && Names.IsTerminal(job.State))
        {
            State = job.State;
            CostUsd = job.CostUsd;
        }
        if (OutputUri.Length == 0)
        {
            OutputUri = job.OutputUri;
        }
        if (OutputUrl.Length == 0)
        {
            OutputUrl = job.OutputUrl;
        }
        if (OutputDurationSeconds <= 0)
        {
            OutputDurationSeconds = job.OutputDurationSeconds;
        }
        if (Error.Length == 0)
        {
            Error = job.Error;
        }
    }

    private int ExpectedTaskCount()
    {
        if (Plan is null)
        {
            return _tasks.Count;
        }
        // Beats each get a storyboard, chunks one task each (and one upscale each with an upscaler), plus the stitch,
        // the finish and the soundtrack's three (voiceover, music, mix).
        var planned = (Plan.Spec?.Beats.Count ?? 0) + Plan.Chunks.Count + Plan.Keyframes + 1 + (Plan.Finish is null ? 0 : 1)
            + (Plan.Finish is { Upscaler.Length: > 0 } ? Plan.Chunks.Count : 0)
            + (Plan.Finish is not null && Plan.Spec?.Soundtrack is not null ? 3 : 0);
        return Math.Max(planned, _tasks.Count);
    }

    private static int KindOrder(TaskKind kind) => kind switch
    {
        TaskKind.Storyboard => 0,
        TaskKind.Chunk => 1,
        TaskKind.Stitch => 2,
        TaskKind.Finish => 3,
        TaskKind.Voiceover => 4,
        TaskKind.Music => 5,
        TaskKind.Soundtrack => 6,
        TaskKind.Upscale => 7,
        TaskKind.Keyframe => 8,
        _ => 9,
    };
}
