using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Access;

/// <summary>One tenant's limits; unset (null) or 0: no limit.</summary>
public class QuotaLimits
{
    /// <summary>Jobs a tenant may submit in any 60 s window (idempotent repeats of a request id do not count).</summary>
    public int? SubmitsPerMinute { get; set; }

    /// <summary>Jobs of a tenant not yet SUCCEEDED, FAILED or CANCELLED at once.</summary>
    public int? ConcurrentJobs { get; set; }

    /// <summary>US dollars of model cost a tenant's jobs may plan per UTC day (finished jobs count at their real cost).</summary>
    public double? SpendPerDayUsd { get; set; }
}

/// <summary>Configuration section <c>Quotas</c>: the default limits of every tenant, and <c>Quotas:Tenants:NAME</c> overrides.</summary>
public sealed class QuotaOptions : QuotaLimits
{
    public const string Section = "Quotas";

    public Dictionary<string, QuotaLimits> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The limits of <paramref name="tenant"/>: its own entry's values, else the defaults.</summary>
    public (int SubmitsPerMinute, int ConcurrentJobs, double SpendPerDayUsd) For(string tenant)
    {
        var own = Tenants.GetValueOrDefault(tenant);
        return (own?.SubmitsPerMinute ?? SubmitsPerMinute ?? 0, own?.ConcurrentJobs ?? ConcurrentJobs ?? 0, own?.SpendPerDayUsd ?? SpendPerDayUsd ?? 0);
    }

    public bool Any => IsSet(this) || Tenants.Values.Any(IsSet);

    /// <summary>Start-up check: null when valid, else the message.</summary>
    public string? Validate()
    {
        foreach (var (name, limits) in Tenants.Prepend(new("", this)))
        {
            var at = name.Length == 0 ? "Quotas" : $"Quotas:Tenants:{name}";
            if (limits.SubmitsPerMinute < 0 || limits.ConcurrentJobs < 0 || limits.SpendPerDayUsd is < 0 or double.NaN or double.PositiveInfinity)
            {
                return $"{at}: SubmitsPerMinute, ConcurrentJobs and SpendPerDayUsd must be finite and >= 0 (0: no limit).";
            }
        }

        return null;
    }

    private static bool IsSet(QuotaLimits l) => l.SubmitsPerMinute > 0 || l.ConcurrentJobs > 0 || l.SpendPerDayUsd > 0;
}

/// <summary>A tenant's quota refused a job: RESOURCE_EXHAUSTED with google.rpc.QuotaFailure and RetryInfo.</summary>
public sealed class QuotaExceededException(string tenant, string quota, string description, TimeSpan retryAfter)
    : ResourceExhaustedException($"tenant '{tenant}' is over its quota: {description}", retryAfter, $"tenant:{tenant}/{quota}", description)
{
    public string Tenant { get; } = tenant;

    /// <summary>"submits_per_minute", "concurrent_jobs" or "spend_per_day_usd".</summary>
    public string Quota { get; } = quota;

    public string Description { get; } = description;
}

/// <summary>
/// Checks a tenant's quotas before a job is accepted. The check and the submit run under one lock (only when
/// a quota is configured), so concurrent submits of one tenant cannot all slip under a limit.
/// </summary>
public sealed class TenantQuotas(IOptions<QuotaOptions> options, IJobStore store, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>What a refused concurrent-jobs submit is told to wait: jobs end at their own pace.</summary>
    public static readonly TimeSpan ConcurrentRetry = TimeSpan.FromSeconds(30);

    private readonly QuotaOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Queue<DateTimeOffset>> _submits = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs <paramref name="submit"/> when <paramref name="tenant"/> may start a job planned at <paramref name="plannedCostUsd"/>.
    /// A repeat of a known <paramref name="requestId"/> is never refused: it starts nothing and answers the earlier job.
    /// </summary>
    public async Task<(Job Job, bool Created)> AdmitAsync(string tenant, string requestId, double plannedCostUsd, Func<Task<(Job Job, bool Created)>> submit, CancellationToken cancellationToken)
    {
        if (!_options.Any || (requestId.Length > 0 && store.FindByRequestId(requestId) is not null))
        {
            return await submit();
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var (perMinute, concurrent, perDay) = _options.For(tenant);
            var recent = _submits.TryGetValue(tenant, out var q) ? q : _submits[tenant] = new Queue<DateTimeOffset>();
            while (recent.Count > 0 && now - recent.Peek() >= Window)
            {
                recent.Dequeue();
            }

            if (perMinute > 0 && recent.Count >= perMinute)
            {
                throw new QuotaExceededException(tenant, "submits_per_minute",
                    $"{recent.Count} jobs submitted in the last minute; the limit is {perMinute} (Quotas:SubmitsPerMinute)", recent.Peek() + Window - now);
            }

            if (concurrent > 0)
            {
                var active = store.LoadActive().Count(j => j.Request?.Tenant == tenant);
                if (active >= concurrent)
                {
                    throw new QuotaExceededException(tenant, "concurrent_jobs",
                        $"{active} jobs are running or queued; the limit is {concurrent} (Quotas:ConcurrentJobs)", ConcurrentRetry);
                }
            }

            if (perDay > 0)
            {
                var dayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
                var spent = SpentSince(tenant, dayStart);
                if (Budget.Exceeds(spent + plannedCostUsd, perDay))
                {
                    throw new QuotaExceededException(tenant, "spend_per_day_usd",
                        $"${spent:0.00} planned today plus this job's ${plannedCostUsd:0.00} is over the daily ${perDay:0.00} (Quotas:SpendPerDayUsd)", dayStart.AddDays(1) - now);
                }
            }

            var result = await submit();
            if (result.Created)
            {
                recent.Enqueue(now);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Model cost of the tenant's jobs created since <paramref name="since"/>: real cost once finished, else the larger of planned and spent.</summary>
    private double SpentSince(string tenant, DateTimeOffset since)
    {
        var sinceMs = since.ToUnixTimeMilliseconds();
        var total = 0.0;
        JobCursor? after = null;
        do
        {
            var page = store.List(JobState.Unspecified, tenant, after, 100);
            foreach (var job in page.Jobs)
            {
                if ((job.CreatedAt?.ToDateTimeOffset().ToUnixTimeMilliseconds() ?? 0) < sinceMs)
                {
                    return total;
                }

                var planned = job.Plan is null ? 0 : ChunkPlanner.Cost(job.Plan);
                total += Orchestrator.IsTerminal(job.State) ? job.CostUsd : Math.Max(job.CostUsd, planned);
            }

            after = page.Next;
        }
        while (after is not null);
        return total;
    }
}
