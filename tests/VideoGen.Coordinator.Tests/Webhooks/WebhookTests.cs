using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Webhooks;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Webhooks;

public class WebhookTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    [Fact]
    public void Signature_MatchesTheStandardWebhooksTestVector()
    {
        // The vector the Standard Webhooks reference libraries test against.
        var key = WebhookSigner.Key(Secret)!;
        var signature = WebhookSigner.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}");

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
        Assert.True(WebhookSigner.Verify(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}", "v1,bogus " + signature));
        Assert.False(WebhookSigner.Verify(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, "{\"test\": 2432232314}", signature));
        Assert.False(WebhookSigner.Verify(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232315}", signature));
    }

    [Theory]
    [InlineData("")]
    [InlineData("whsec_")]
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_c2hvcnQ=")] // 5 bytes: under the spec's 24
    public void Key_RefusesWhatIsNotASecret(string secret) => Assert.Null(WebhookSigner.Key(secret));

    [Fact]
    public void Policy_AllowsNothingUntilConfigured_ThenOnlyTheAllowedHostsAndNetworks()
    {
        var off = Policy(new WebhookOptions { Secret = Secret });
        Assert.False(off.Allows("https://hooks.example.com/v", out var reason));
        Assert.Contains("AllowedHosts", reason);

        var on = Policy(new WebhookOptions { Secret = Secret, AllowedHosts = ["hooks.example.com", ".acme.test"], AllowedNetworks = ["203.0.113.0/24"] });
        Assert.True(on.Allows("https://hooks.example.com/v?x=1", out _));
        Assert.True(on.Allows("http://a.b.acme.test:8080/h", out _));
        Assert.True(on.Allows("http://203.0.113.9/h", out _));
        Assert.False(on.Allows("https://evil-hooks.example.com/v", out _));
        Assert.False(on.Allows("https://acme.test.evil.com/v", out _));
        Assert.False(on.Allows("http://127.0.0.1/h", out _));
        Assert.False(on.Allows("http://[::ffff:127.0.0.1]/h", out _));
        Assert.False(on.Allows("http://169.254.169.254/latest", out _));
        Assert.False(on.Allows("https://user:pw@hooks.example.com/v", out _));
        Assert.False(on.Allows("ftp://hooks.example.com/v", out _));
        Assert.False(on.Allows("/relative", out _));
    }

    [Fact]
    public void Validate_NamesTheField_AndWantsASecretForTheTenant()
    {
        var policy = Policy(new WebhookOptions { AllowedHosts = ["hooks.example.com"], TenantSecrets = new() { ["studio"] = Secret } });
        List<FieldViolation> Check(Action<JobRequest> change)
        {
            var request = new JobRequest { Prompt = "a lamp", Tenant = "studio", Webhook = new WebhookSubscription { Url = "https://hooks.example.com/v" } };
            change(request);
            var violations = new List<FieldViolation>();
            policy.Validate(request, violations);
            return violations;
        }

        Assert.Empty(Check(_ => { }));
        Assert.Empty(Check(r => r.Webhook = null));
        Assert.Equal("job.webhook.url", Assert.Single(Check(r => r.Webhook.Url = "https://other.example.com/v")).Field);
        Assert.Equal("job.webhook.url", Assert.Single(Check(r => r.Webhook.Url = "")).Field);
        Assert.Equal("job.webhook.url", Assert.Single(Check(r => r.Webhook.Url = "https://hooks.example.com/" + new string('a', 2100))).Field);
        Assert.Equal("job.webhook.events", Assert.Single(Check(r => r.Webhook.Events = (WebhookEvents)7)).Field);
        Assert.Equal("job.webhook", Assert.Single(Check(r => r.Tenant = "other")).Field);
        Assert.NotNull(policy.KeyFor("studio"));
        Assert.Null(policy.KeyFor("other"));
    }

    [Fact]
    public void EventType_TerminalOnly_OrEveryStateChangeAndEndedTask()
    {
        JobEvent State(JobState s) => new() { StateChanged = new JobStateChanged { State = s } };
        JobEvent Task(TaskState s) => new() { TaskUpdated = new TaskUpdated { Task = new Contracts.V1.TaskStatus { State = s } } };

        Assert.Null(WebhookOutbox.EventType(State(JobState.Rendering), WebhookEvents.Unspecified));
        Assert.Equal("job.succeeded", WebhookOutbox.EventType(State(JobState.Succeeded), WebhookEvents.Unspecified));
        Assert.Equal("job.cancelled", WebhookOutbox.EventType(State(JobState.Cancelled), WebhookEvents.Terminal));
        Assert.Null(WebhookOutbox.EventType(Task(TaskState.Succeeded), WebhookEvents.Terminal));
        Assert.Equal("job.rendering", WebhookOutbox.EventType(State(JobState.Rendering), WebhookEvents.All));
        Assert.Equal("task.failed", WebhookOutbox.EventType(Task(TaskState.Failed), WebhookEvents.All));
        Assert.Null(WebhookOutbox.EventType(Task(TaskState.Running), WebhookEvents.All)); // progress is not an event
        Assert.Null(WebhookOutbox.EventType(new JobEvent { Planned = new JobPlanned() }, WebhookEvents.All));
    }

    [Fact]
    public void Backoff_DoublesFromTheInitialDelay_UpToTheCap_WithTenPercentJitter()
    {
        using var dispatcher = new WebhookDispatcher(null!, Policy(new WebhookOptions { InitialBackoffSeconds = 5, MaxBackoffSeconds = 3600 }),
            new Events.JobEventHub(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<WebhookDispatcher>.Instance);

        for (var attempt = 1; attempt <= 14; attempt++)
        {
            var expected = Math.Min(3600, 5 * Math.Pow(2, attempt - 1));
            Assert.InRange(dispatcher.Backoff(attempt).TotalSeconds, expected * 0.9, expected * 1.1);
        }

        Assert.InRange(dispatcher.Backoff(1000).TotalSeconds, 3240, 3960);
    }

    private static WebhookPolicy Policy(WebhookOptions options) => new(Options.Create(options));
}
