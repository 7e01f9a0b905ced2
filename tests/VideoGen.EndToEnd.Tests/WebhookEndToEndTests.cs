using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using VideoGen.TestDoubles;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Signed job callbacks (Standard Webhooks) from a real coordinator to a receiver that verifies every signature, answers each
/// webhook-id 500 twice and then 200, and lives through a kill -9 of the coordinator between retries.
/// </summary>
public sealed class WebhookEndToEndTests
{
    private const double InitialBackoffSeconds = 3;

    [Fact]
    public async Task EveryEventIsDeliveredOnceSigned_RetriedWithBackoff_AcrossACoordinatorKill()
    {
        var secret = WebhookReceiver.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret, (_, attempt) => attempt <= 2 ? 500 : 200);
        await using var farm = await LocalFarm.StartAsync("webhooks", new FarmOptions
        {
            Workers = 1,
            Coordinator = new()
            {
                ["Coordinator:Webhooks:AllowedNetworks:0"] = "127.0.0.1/32",
                ["Coordinator:Webhooks:TenantSecrets:studio"] = secret,
                ["Coordinator:Webhooks:InitialBackoffSeconds"] = InitialBackoffSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Coordinator:Webhooks:TimeoutSeconds"] = "5",
            },
        });

        // Refused at submit, naming the field: a host outside the allowed networks, a URL that is none, a tenant without a secret.
        await AssertRefusedAsync(farm, r => r.Webhook = new() { Url = "http://169.254.169.254/latest" }, "job.webhook.url");
        await AssertRefusedAsync(farm, r => r.Webhook = new() { Url = "not a url" }, "job.webhook.url");
        await AssertRefusedAsync(farm, r => { r.Tenant = "nosecret"; r.Webhook = new() { Url = receiver.Url }; }, "job.webhook");

        var job = (await farm.SubmitAsync("a 5 second showcase for a lamp", r =>
        {
            r.DurationSeconds = 5;
            r.Tenant = "studio";
            r.Webhook = new WebhookSubscription { Url = receiver.Url, Events = WebhookEvents.All };
        })).Job;
        var events = await farm.WatchAsync(job.JobId);
        Assert.Equal(JobState.Succeeded, (await farm.GetJobAsync(job.JobId)).State);
        var terminalId = $"msg_{job.JobId}_{events.Single(e => e.StateChanged?.State == JobState.Succeeded).Sequence}";

        // The job's end was refused once: kill -9 the coordinator before its retry, then start it again on the same store.
        await receiver.WaitUntilAsync(calls => calls.Any(c => c.Id == terminalId), TimeSpan.FromSeconds(60), "the first attempt of job.succeeded");
        farm.Coordinator.Kill();
        await farm.Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var killedAt = DateTimeOffset.UtcNow;
        var beforeKill = receiver.Calls.Count(c => c.Id == terminalId);
        await farm.Coordinator.DisposeAsync();
        await farm.StartCoordinatorAsync();

        // Every callback the job owes: each job state change and each task that ended, one webhook-id per event.
        var owed = events.Where(e => e.StateChanged is not null
                || e.TaskUpdated?.Task?.State is TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled)
            .ToDictionary(e => $"msg_{job.JobId}_{e.Sequence}");
        await receiver.WaitUntilAsync(
            calls => owed.Keys.All(id => calls.Any(c => c.Id == id && c.Answered == 200)),
            TimeSpan.FromMinutes(6), $"a 200 for each of the {owed.Count} owed events");

        var calls = receiver.Calls;
        Assert.All(calls, c => Assert.True(c.SignatureValid, $"bad signature on {c.Id}"));
        Assert.All(calls, c => Assert.InRange(c.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds()));
        Assert.Equal(owed.Keys.Order(StringComparer.Ordinal), calls.Select(c => c.Id).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(1, beforeKill);
        foreach (var (id, e) in owed)
        {
            var attempts = calls.Where(c => c.Id == id).ToList();
            // Two refusals, then the 200; the same bytes every time. Nothing after the 200, except once when the kill fell
            // between the receiver's answer and the coordinator recording it (delivery is at least once; the id deduplicates).
            var delivered = attempts.FindIndex(c => c.Answered == 200);
            Assert.Equal([500, 500, 200], attempts.Take(delivered + 1).Select(c => c.Answered));
            var extra = attempts.Skip(delivered + 1).ToList();
            Assert.True(extra.Count == 0 || (extra.Count == 1 && attempts[delivered].ReceivedAt < killedAt && extra[0].ReceivedAt > killedAt),
                $"{id} was sent again after its 200: {string.Join(", ", attempts.Select(c => $"{c.Answered}@{c.ReceivedAt:HH:mm:ss.fff}"))}");
            attempts = attempts.Take(delivered + 1).ToList();
            Assert.Single(attempts.Select(c => c.Body).Distinct());
            using var body = JsonDocument.Parse(attempts[0].Body);
            var data = body.RootElement.GetProperty("data");
            Assert.Equal(job.JobId, data.GetProperty("jobId").GetString());
            Assert.Equal(e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), data.GetProperty("event").GetProperty("sequence").ToString());
            var type = body.RootElement.GetProperty("type").GetString();
            Assert.Equal(e.StateChanged is not null ? "job." + e.StateChanged.State.ToString().ToLowerInvariant() : "task." + e.TaskUpdated.Task.State.ToString().ToLowerInvariant(), type);

            // Exponential backoff: a retry waits at least the initial delay, the one after it about twice that (±10 % jitter).
            // Across the kill an attempt the dead coordinator had not recorded yet may go again at once, and the count
            // starts again from what it had recorded, so the doubling is checked on ids whose attempts all fell on one side.
            var oneSide = attempts.All(c => c.ReceivedAt < killedAt) || attempts.All(c => c.ReceivedAt > killedAt);
            for (var i = 1; i < attempts.Count; i++)
            {
                if (attempts[i - 1].ReceivedAt < killedAt && attempts[i].ReceivedAt > killedAt)
                {
                    continue;
                }

                var gap = (attempts[i].ReceivedAt - attempts[i - 1].ReceivedAt).TotalSeconds;
                var least = 0.85 * InitialBackoffSeconds * (oneSide ? Math.Pow(2, i - 1) : 1);
                Assert.True(gap >= least - 0.1, $"{id}: attempt {i + 1} came {gap:0.00} s after attempt {i} (at least {least:0.00} s expected)");
            }
        }

        Assert.Contains(terminalId, owed.Keys);
        Assert.Contains(calls, c => c.Id == terminalId && c.Answered == 200 && c.ReceivedAt > killedAt);
    }

    private static async Task AssertRefusedAsync(LocalFarm farm, Action<JobRequest> configure, string field)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => farm.SubmitAsync("a 5 second showcase for a lamp", configure));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
    }
}
