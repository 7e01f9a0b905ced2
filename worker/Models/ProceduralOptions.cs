namespace VideoGen.Worker.Models;

/// <summary>How the procedural models behave (configuration section <c>Procedural</c>); used by tests and demos.</summary>
public sealed class ProceduralOptions
{
    public const string Section = "Procedural";

    /// <summary>Extra simulated latency of every video model call, in seconds (cancellable).</summary>
    public double LatencySeconds { get; set; }

    /// <summary><c>none</c>, <c>transient</c> or <c>permanent</c>: the procedural video model fails every call that way.</summary>
    public string FailureMode { get; set; } = "none";
}
