namespace VideoGen.Coordinator.Scheduling;

/// <summary>Where a model's circuit stands.</summary>
public enum CircuitState
{
    /// <summary>Calls go through.</summary>
    Closed,

    /// <summary>The provider looked down: no calls until the pause ends.</summary>
    Open,

    /// <summary>The pause ended: one probe call goes through; its outcome closes or reopens the circuit.</summary>
    HalfOpen,
}

/// <summary>
/// Provider capacity and health as scheduling resources, per catalog model: a 429's <c>Retry-After</c> pauses the
/// model's dispatch for that window (<see cref="Throttle"/>), and consecutive outage failures (5xx, timeouts) open its
/// circuit for <see cref="CircuitPause"/>, after which one probe goes through (half-open) and closes it on success or
/// reopens it on failure. <see cref="Allowance"/> is how many of the model's tasks may start now: the dispatch
/// decision reads it, the orchestrator's loop alone changes it. No I/O, no clock of its own: every method takes now.
/// </summary>
public sealed class ProviderGate(int openAfterFailures = 3, TimeSpan? circuitPause = null)
{
    private readonly Dictionary<string, ModelHealth> _models = new(StringComparer.Ordinal);

    /// <summary>Outage failures in a row that open a model's circuit.</summary>
    public int OpenAfterFailures { get; } = Math.Max(1, openAfterFailures);

    /// <summary>How long an open circuit waits before its half-open probe.</summary>
    public TimeSpan CircuitPause { get; } = circuitPause ?? TimeSpan.FromSeconds(30);

    /// <summary>The model's circuit as of <paramref name="now"/> (an open one whose pause ended is half-open).</summary>
    public CircuitState Circuit(string model, DateTimeOffset now) => !_models.TryGetValue(model, out var h) ? CircuitState.Closed
        : h.OpenUntil is { } until ? (until > now ? CircuitState.Open : CircuitState.HalfOpen)
        : CircuitState.Closed;

    /// <summary>Until when the model is throttled; null when it is not (at <paramref name="now"/>).</summary>
    public DateTimeOffset? ThrottledUntil(string model, DateTimeOffset now) =>
        _models.TryGetValue(model, out var h) && h.ThrottledUntil > now ? h.ThrottledUntil : null;

    /// <summary>
    /// How many of <paramref name="model"/>'s tasks may start at <paramref name="now"/>: none while it is throttled or
    /// its circuit is open, one probe when half-open (none while the probe runs), else no limit (<see cref="int.MaxValue"/>).
    /// </summary>
    public int Allowance(string model, DateTimeOffset now)
    {
        if (!_models.TryGetValue(model, out var h))
        {
            return int.MaxValue;
        }

        if (h.ThrottledUntil > now)
        {
            return 0;
        }

        return Circuit(model, now) switch
        {
            CircuitState.Open => 0,
            CircuitState.HalfOpen => h.ProbeInFlight ? 0 : 1,
            _ => int.MaxValue,
        };
    }

    /// <summary>True when some model's circuit is open at <paramref name="now"/> (ready tasks may then move to fallbacks).</summary>
    public bool AnyCircuitOpen(DateTimeOffset now) => _models.Values.Any(h => h.OpenUntil > now);

    /// <summary>The next time something paused may start again (for a wake-up timer); null when nothing is paused.</summary>
    public DateTimeOffset? NextChange(DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var h in _models.Values)
        {
            foreach (var t in new[] { h.ThrottledUntil, h.OpenUntil ?? DateTimeOffset.MinValue })
            {
                if (t > now && (next is null || t < next))
                {
                    next = t;
                }
            }
        }

        return next;
    }

    /// <summary>A 429: pause the model until <paramref name="until"/> (a later pause already in force is kept).</summary>
    public void Throttle(string model, DateTimeOffset until)
    {
        var h = Health(model);
        if (until > h.ThrottledUntil)
        {
            h.ThrottledUntil = until;
        }
    }

    /// <summary>An attempt of the model starts (a half-open circuit's probe, when it is one).</summary>
    public void Started(string model, DateTimeOffset now)
    {
        if (Circuit(model, now) == CircuitState.HalfOpen)
        {
            Health(model).ProbeInFlight = true;
        }
    }

    /// <summary>The provider answered (the call succeeded, or failed for a reason of its own input): the circuit closes.</summary>
    public void Succeeded(string model)
    {
        if (_models.TryGetValue(model, out var h))
        {
            (h.ConsecutiveFailures, h.OpenUntil, h.ProbeInFlight) = (0, null, false);
        }
    }

    /// <summary>A probe or call ended without telling anything about the provider (cancelled, lost): a half-open circuit may probe again.</summary>
    public void Abandoned(string model)
    {
        if (_models.TryGetValue(model, out var h))
        {
            h.ProbeInFlight = false;
        }
    }

    /// <summary>
    /// An outage failure (5xx, timeout): counts toward opening the circuit; a failed half-open probe reopens it at
    /// once. True when this failure opened (or reopened) it.
    /// </summary>
    public bool Unavailable(string model, DateTimeOffset now)
    {
        var h = Health(model);
        var probing = Circuit(model, now) == CircuitState.HalfOpen;
        h.ProbeInFlight = false;
        h.ConsecutiveFailures++;
        if (probing || (h.OpenUntil is null && h.ConsecutiveFailures >= OpenAfterFailures))
        {
            h.OpenUntil = now + CircuitPause;
            return true;
        }

        return false;
    }

    private ModelHealth Health(string model)
    {
        if (!_models.TryGetValue(model, out var h))
        {
            _models[model] = h = new ModelHealth();
        }

        return h;
    }

    private sealed class ModelHealth
    {
        public DateTimeOffset ThrottledUntil { get; set; } = DateTimeOffset.MinValue;

        public int ConsecutiveFailures { get; set; }

        public DateTimeOffset? OpenUntil { get; set; }

        public bool ProbeInFlight { get; set; }
    }
}
