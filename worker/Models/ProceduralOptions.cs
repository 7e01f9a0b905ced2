namespace VideoGen.Worker.Models;

/// <summary>How the procedural models behave (configuration section <c>Procedural</c>); used by tests and demos.</summary>
public sealed class ProceduralOptions
{
    public const string Section = "Procedural";

    /// <summary>Extra simulated latency of every video model call, in seconds (cancellable).</summary>
    public double LatencySeconds { get; set; }

    /// <summary>
    /// <c>none</c>, <c>transient</c> or <c>permanent</c>: the procedural video model fails every call that way;
    /// <c>bad_seam</c>: the first attempt of each task in <see cref="BadSeamTasks"/> (or of every chunk that continues an
    /// image, when it is empty) makes a clip that does not join its start image (mirrored, its hue turned, brighter), as a
    /// model's flash at a seam does; later attempts are good (seam gate tests).
    /// </summary>
    public string FailureMode { get; set; } = "none";

    /// <summary>For <c>bad_seam</c>: comma-separated task ids (e.g. <c>chunk-2</c>) whose first attempt makes a bad seam; empty: every chunk's.</summary>
    public string BadSeamTasks { get; set; } = "";

    /// <summary>Whether the attempt <paramref name="attempt"/> of the task <paramref name="taskKey"/> ("{job}/{task}") makes a bad seam.</summary>
    public bool MakesBadSeam(string? taskKey, int attempt)
    {
        if (FailureMode != "bad_seam" || attempt != 1)
        {
            return false;
        }

        var task = taskKey?[(taskKey.LastIndexOf('/') + 1)..] ?? "";
        var tasks = BadSeamTasks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return tasks.Length == 0 || tasks.Contains(task, StringComparer.Ordinal);
    }
}
