namespace VideoGen.Worker.Tasks;

/// <summary>
/// A failure another attempt cannot fix (bad input, content refused by the provider): the task fails with
/// <c>retryable = false</c> and the provider's reason. Every other exception is reported as retryable.
/// </summary>
public sealed class PermanentTaskException : Exception
{
    public PermanentTaskException(string message)
        : base(message)
    {
    }

    public PermanentTaskException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A failure another attempt may not see (a timeout, a 5xx from a provider): reported as retryable.</summary>
public sealed class TransientTaskException : Exception
{
    public TransientTaskException(string message)
        : base(message)
    {
    }

    public TransientTaskException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The provider refused the call with 429 (its rate or concurrency limit): nothing was created, nothing is billed.
/// Retryable, but not the task's fault: the coordinator pauses the model for <see cref="RetryAfter"/> and consumes no attempt.
/// </summary>
public sealed class ProviderThrottledException(string message, TimeSpan retryAfter) : Exception(message)
{
    /// <summary>The provider's Retry-After (a default when it sent none).</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The provider answered 5xx or timed out past the client's own retries: it looks down. Retryable; the coordinator
/// counts it toward the model's circuit.
/// </summary>
public sealed class ProviderUnavailableException : Exception
{
    public ProviderUnavailableException(string message)
        : base(message)
    {
    }

    public ProviderUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A failure of a GPU model call whose cause the scheduler acts on (out of memory, a model the worker's server cannot
/// run, the server unreachable): retryable, and the cause travels in <c>TaskFailed.cause</c>.
/// </summary>
public sealed class GpuTaskException : Exception
{
    public GpuTaskException(string message, Contracts.V1.FailureCause cause, Exception? innerException = null)
        : base(message, innerException)
    {
        Cause = cause;
    }

    /// <summary>What kind of failure it was.</summary>
    public Contracts.V1.FailureCause Cause { get; }
}
