namespace VideoGen.Coordinator.Scheduling;

/// <summary>Exponential backoff with jitter for transient task failures.</summary>
public sealed class RetryPolicy(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay, double jitterFraction = 0.2)
{
    public int MaxAttempts { get; } = maxAttempts;

    /// <summary>True when a task that failed <paramref name="failures"/> times may run again.</summary>
    public bool CanRetry(int failures) => failures < MaxAttempts;

    /// <summary>Delay before the retry that follows failure number <paramref name="failures"/> (1-based); <paramref name="unitRandom"/> in [0,1).</summary>
    public TimeSpan Delay(int failures, double unitRandom)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, failures - 1));
        var capped = Math.Min(exponential, maxDelay.TotalMilliseconds);
        var jitter = 1 + jitterFraction * (2 * unitRandom - 1);
        return TimeSpan.FromMilliseconds(capped * jitter);
    }
}
