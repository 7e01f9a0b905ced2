using System.ClientModel.Primitives;
using System.Globalization;

namespace VideoGen.Coordinator.Planning.Llm;

/// <summary>
/// The SDK's retry policy (it retries 408, 429, 5xx and network errors) with our back-off: the
/// server's <c>retry-after-ms</c> / <c>retry-after</c> when it sends one, else exponential from
/// <see cref="PlannerOptions.RetryDelayMilliseconds"/>. It counts attempts per call so a fallback
/// note can say "after 3 attempts"; the overall planner deadline bounds every wait.
/// </summary>
internal sealed class PlannerRetryPolicy(int maxRetries, TimeSpan initialDelay) : ClientRetryPolicy(maxRetries)
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    // One pipeline serves concurrent plans; the counter box is set by the caller and flows with its async context.
    private static readonly AsyncLocal<AttemptCounter?> CurrentAttempts = new();

    /// <summary>Starts counting the attempts of the calls made from the current async flow.</summary>
    public static AttemptCounter BeginCounting() => CurrentAttempts.Value = new AttemptCounter();

    protected override ValueTask OnSendingRequestAsync(PipelineMessage message)
    {
        CurrentAttempts.Value?.Increment();
        return base.OnSendingRequestAsync(message);
    }

    protected override void OnSendingRequest(PipelineMessage message)
    {
        CurrentAttempts.Value?.Increment();
        base.OnSendingRequest(message);
    }

    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        var server = ServerDelay(message.Response);
        if (server is { } s)
        {
            return s < MaxDelay ? s : MaxDelay;
        }

        var exponent = Math.Clamp(tryCount - 1, 0, 16);
        var backoff = TimeSpan.FromMilliseconds(initialDelay.TotalMilliseconds * (1 << exponent));
        return backoff < MaxDelay ? backoff : MaxDelay;
    }

    /// <summary>The wait a 429/503 asks for: OpenAI sends <c>retry-after-ms</c>; HTTP has <c>retry-after</c> in seconds or as a date.</summary>
    internal static TimeSpan? ServerDelay(PipelineResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValue("retry-after-ms", out var ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.TryGetValue("retry-after", out var after) && !string.IsNullOrWhiteSpace(after))
        {
            if (double.TryParse(after, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(after, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }
}

/// <summary>A mutable attempt count shared between a caller and the pipeline it calls.</summary>
internal sealed class AttemptCounter
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
