using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Rendering;

/// <summary>Short lower-case names for the contract's enums ("rendering", "running", "beat") and back.</summary>
public static class Names
{
    public static string Of(JobState state) => Trim(state.ToString(), nameof(JobState));

    public static string Of(TaskState state) => Trim(state.ToString(), nameof(TaskState));

    public static string Of(Continuity continuity) => Trim(continuity.ToString(), nameof(Continuity));

    public static string Of(KeyRole role) => Trim(role.ToString(), nameof(KeyRole));

    public static bool IsTerminal(JobState state) =>
        state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>Parses "strict", "beat" or "none" (any case); null when unknown.</summary>
    public static Continuity? ParseContinuity(string text) => text.Trim().ToLowerInvariant() switch
    {
        "strict" => Continuity.Strict,
        "beat" => Continuity.Beat,
        "none" => Continuity.None,
        _ => null,
    };

    /// <summary>Parses "chain", "keyframes", "extend" or "text" (any case); null when unknown.</summary>
    public static GraphStrategy? ParseStrategy(string text) => text.Trim().ToLowerInvariant() switch
    {
        "chain" => GraphStrategy.Chain,
        "keyframes" => GraphStrategy.Keyframes,
        "extend" => GraphStrategy.Extend,
        "text" => GraphStrategy.Text,
        _ => null,
    };

    /// <summary>"chain", "keyframes", "extend", "text"; "-" when unspecified.</summary>
    public static string Of(GraphStrategy strategy) => strategy == GraphStrategy.Unspecified ? "-" : strategy.ToString().ToLowerInvariant();

    /// <summary>Parses "succeeded" or "JOB_STATE_SUCCEEDED" (any case); null when unknown.</summary>
    public static JobState? ParseJobState(string text)
    {
        var key = text.Trim().ToLowerInvariant();
        if (key.StartsWith("job_state_", StringComparison.Ordinal))
        {
            key = key["job_state_".Length..];
        }
        foreach (var state in Enum.GetValues<JobState>())
        {
            if (state != JobState.Unspecified && Of(state) == key)
            {
                return state;
            }
        }
        return null;
    }

    // Enum members are generated without the type prefix (JobState.Rendering); the
    // trim also covers a name that still carries it.
    private static string Trim(string name, string prefix) =>
        (name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name).ToLowerInvariant();
}
