using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Services;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Access;

public sealed class TenantQuotasTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
    private readonly SqliteJobStore _store;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-27T10:00:00Z"));
    private int _jobs;

    public TenantQuotasTests() => _store = new SqliteJobStore(Path.Combine(_directory, "videogen.db"));

    [Fact]
    public async Task SubmitsPerMinute_RefusesTheNext_WithTheWaitUntilTheOldestLeavesTheWindow()
    {
        var quotas = Quotas(new QuotaOptions { SubmitsPerMinute = 2 });
        await SubmitAsync(quotas, "acme");
        _time.Advance(TimeSpan.FromSeconds(20));
        await SubmitAsync(quotas, "acme");

        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => SubmitAsync(quotas, "acme")).WaitAsync(Bound);

        Assert.Equal("submits_per_minute", refused.Quota);
        Assert.Equal(TimeSpan.FromSeconds(40), refused.RetryAfter);
        await SubmitAsync(quotas, "globex"); // per tenant
        _time.Advance(TimeSpan.FromSeconds(40));
        await SubmitAsync(quotas, "acme");
    }

    [Fact]
    public async Task ConcurrentJobs_CountsOnlyUnfinishedJobsOfTheTenant()
    {
        var quotas = Quotas(new QuotaOptions { Tenants = { ["acme"] = new QuotaLimits { ConcurrentJobs = 1 } } });
        var first = await SubmitAsync(quotas, "acme");

        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => SubmitAsync(quotas, "acme")).WaitAsync(Bound);
        Assert.Equal("concurrent_jobs", refused.Quota);
        await SubmitAsync(quotas, "globex"); // no limit for other tenants

        first.State = JobState.Succeeded;
        _store.Commit([first], []);
        await SubmitAsync(quotas, "acme");
    }

    [Fact]
    public async Task SpendPerDay_CountsPlannedAndRealCostOfToday_AndResetsAtUtcMidnight()
    {
        var quotas = Quotas(new QuotaOptions { SpendPerDayUsd = 1.0 });
        await SubmitAsync(quotas, "acme", cost: 0.6);

        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => SubmitAsync(quotas, "acme", cost: 0.5)).WaitAsync(Bound);
        Assert.Equal("spend_per_day_usd", refused.Quota);
        Assert.Equal(TimeSpan.FromHours(14), refused.RetryAfter);
        await SubmitAsync(quotas, "acme", cost: 0.4); // exactly the limit is allowed

        _time.Advance(TimeSpan.FromHours(14));
        await SubmitAsync(quotas, "acme", cost: 0.9);
    }

    [Fact]
    public async Task IdempotentRepeats_DoNotCount()
    {
        var quotas = Quotas(new QuotaOptions { SubmitsPerMinute = 1 });
        await SubmitAsync(quotas, "acme");
        var job = _store.List(JobState.Unspecified, "acme", null, 1).Jobs[0];

        // A repeat of a known request id is answered with its job, created = false: not counted.
        await quotas.AdmitAsync("acme", job.RequestId, 0, () => Task.FromResult((job, false)), CancellationToken.None).WaitAsync(Bound);
        await Assert.ThrowsAsync<QuotaExceededException>(() => SubmitAsync(quotas, "acme")).WaitAsync(Bound);
    }

    [Fact]
    public void Refusal_IsResourceExhausted_WithQuotaFailureAndRetryInfo()
    {
        var mapped = ErrorMapping.ToRpcException(new QuotaExceededException("acme", "submits_per_minute", "3 jobs submitted in the last minute", TimeSpan.FromSeconds(12)), callCancelled: false, "coordinator")!;

        Assert.Equal(StatusCode.ResourceExhausted, mapped.StatusCode);
        var status = mapped.GetRpcStatus()!;
        Assert.Equal("tenant:acme/submits_per_minute", status.GetDetail<QuotaFailure>()!.Violations.Single().Subject);
        Assert.Equal(Duration.FromTimeSpan(TimeSpan.FromSeconds(12)), status.GetDetail<RetryInfo>()!.RetryDelay);
    }

    [Fact]
    public void Options_RejectNegativeLimits()
    {
        Assert.Contains("Quotas:Tenants:acme", new QuotaOptions { Tenants = { ["acme"] = new QuotaLimits { ConcurrentJobs = -1 } } }.Validate());
        Assert.Null(new QuotaOptions { SubmitsPerMinute = 5 }.Validate());
    }

    public void Dispose()
    {
        _store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private TenantQuotas Quotas(QuotaOptions options) => new(Options.Create(options), _store, _time);

    /// <summary>Admits and "submits" a job: stored as the orchestrator would, QUEUED with a plan costing <paramref name="cost"/>.</summary>
    private async Task<Job> SubmitAsync(TenantQuotas quotas, string tenant, double cost = 0.1)
    {
        var requestId = $"request-{_jobs + 1}";
        var (job, _) = await quotas.AdmitAsync(tenant, requestId, cost, () =>
        {
            var job = new Job
            {
                JobId = $"job-{++_jobs}",
                RequestId = requestId,
                Request = new JobRequest { Prompt = "a showcase", Tenant = tenant },
                State = JobState.Queued,
                CreatedAt = Timestamp.FromDateTimeOffset(_time.GetUtcNow()),
                Plan = new Plan { Spec = new Spec(), Chunks = { new ChunkPlan { CostUsd = cost } } },
            };
            _store.Commit([job], []);
            return Task.FromResult((job, true));
        }, CancellationToken.None).WaitAsync(Bound);
        return job;
    }
}
