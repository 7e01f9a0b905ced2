namespace VideoGen.Cli.Farm;

/// <summary>What the supervisor does about a process that died.</summary>
/// <param name="Restart">false: the process died too often in the last minute; the farm gives up.</param>
/// <param name="Delay">how long to wait before starting it again.</param>
/// <param name="RecentRestarts">restarts of this process in the last minute, this one included.</param>
public readonly record struct RestartDecision(bool Restart, TimeSpan Delay, int RecentRestarts);

/// <summary>
/// When a local farm restarts a process that died: after a backoff that doubles with each restart
/// of that process in the last minute (so one crash restarts at once and a crash loop slows
/// down), and not more than <see cref="MaxPerMinute"/> times a minute (a process that cannot
/// stay up is a configuration problem the user must see). Pure: the caller passes the time.
/// </summary>
public sealed class RestartPolicy(TimeSpan baseDelay, TimeSpan maxDelay, int maxPerMinute)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, Queue<DateTimeOffset>> _restarts = new(StringComparer.Ordinal);

    /// <summary>1 s, doubling to at most 16 s, at most 5 restarts of one process a minute.</summary>
    public static RestartPolicy Default(int maxPerMinute = 5) =>
        new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(16), maxPerMinute);

    public int MaxPerMinute => maxPerMinute;

    /// <summary>Decides about <paramref name="process"/>, which died at <paramref name="now"/>, and records the restart.</summary>
    public RestartDecision OnExit(string process, DateTimeOffset now)
    {
        if (!_restarts.TryGetValue(process, out var recent))
        {
            _restarts[process] = recent = new Queue<DateTimeOffset>();
        }
        while (recent.Count > 0 && now - recent.Peek() >= Window)
        {
            recent.Dequeue();
        }
        if (recent.Count >= maxPerMinute)
        {
            return new RestartDecision(false, TimeSpan.Zero, recent.Count);
        }
        var delay = TimeSpan.FromTicks(Math.Min(maxDelay.Ticks, baseDelay.Ticks * (1L << Math.Min(recent.Count, 30))));
        recent.Enqueue(now);
        return new RestartDecision(true, delay, recent.Count);
    }
}
