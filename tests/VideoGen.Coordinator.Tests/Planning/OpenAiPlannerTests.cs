using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.TestDoubles;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Planning.Llm;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>The LLM planner through the real OpenAI SDK against a local chat-completions server.</summary>
public sealed class OpenAiPlannerTests
{
    private const string Model = "gpt-test-mini";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TemplateCatalog Templates = TemplateCatalog.LoadDefault();
    private static readonly ModelCatalog Models = ModelCatalog.Embedded();
    private static readonly RuleBasedPlanner Rules = new(Templates, Models);

    private const string RunningShoes = "Make a 45 second lifestyle ad for running shoes";

    /// <summary>A valid answer whose own duration (30 s) the prompt's 45 s must overrule.</summary>
    private static readonly string ValidSpec = new JsonObject
    {
        ["template"] = "lifestyle_ad",
        ["subject"] = "trail running shoes",
        ["style"] = "golden hour, handheld, warm grade",
        ["duration_seconds"] = 30,
        ["beats"] = new JsonArray(
            Beat("dawn_street", 5, "runner laces up on an empty street at dawn"),
            Beat("the_climb", 10, "low tracking shot up a steep trail"),
            Beat("summit", 10, "wide shot of the runner on the summit"),
            Beat("logo", 5, "close-up of the shoe, logo on the tongue")),
    }.ToJsonString();

    [Fact]
    public async Task PlanAsync_ValidStructuredAnswer_UsesTheLlmSpecWithThePromptsDuration()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(ValidSpec), ct));
        var (request, rules) = Request(RunningShoes);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal("llm", plan.Spec.Planner);
        Assert.Contains(Model, plan.Spec.PlannerNote);
        Assert.Equal(45, plan.Spec.DurationSeconds);
        Assert.Equal("prompt", plan.Spec.DurationSource);
        Assert.Equal("lifestyle_ad", plan.Spec.Template);
        Assert.Equal("trail running shoes", plan.Spec.Subject);
        Assert.Equal(["dawn_street", "the_climb", "summit", "logo"], plan.Spec.Beats.Select(b => b.Name).ToArray());
        // 5:10:10:5 laid over 45 s.
        Assert.Equal([0, 7.5, 22.5, 37.5], plan.Spec.Beats.Select(b => b.StartSeconds).ToArray());
        Assert.Equal([7.5, 15, 15, 7.5], plan.Spec.Beats.Select(b => b.LengthSeconds).ToArray());
        Assert.Equal(45, plan.Spec.Beats.Sum(b => b.LengthSeconds), 6);
        Assert.Equal(9, plan.Chunks.Count);
        Assert.Equal(rules.Model, plan.Model);
        Assert.Equal([0, 0, 1, 1, 1, 2, 2, 2, 3], plan.Chunks.Select(c => c.BeatIndex).ToArray());
        Assert.Equal(1, server.Attempts);
    }

    [Fact]
    public async Task PlanAsync_RulesPlanWithAnUpscaler_TheLlmPlanKeepsItAndPricesItsChunks()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(ValidSpec), ct));
        var request = new JobRequest { Prompt = RunningShoes, Transition = "cut", EndCard = false, Continuity = Continuity.None, Resolution = Resolution._1080P };
        var rules = new RuleBasedPlanner(Templates, Models, Resolution._720P, upscaler: "real-esrgan-video").Plan(request);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal("llm", plan.Spec.Planner);
        Assert.Equal("real-esrgan-video", plan.Finish.Upscaler);
        Assert.Equal(9, plan.Chunks.Count);
        Assert.All(plan.Chunks, c => Assert.Equal(c.GeneratedSeconds * Models.Models["real-esrgan-video"].PricePerSecondUsd, c.UpscaleCostUsd, 6));
    }

    [Fact]
    public async Task PlanAsync_TheLlmWritesTheVoiceover_EachLineFittedToItsBeat()
    {
        var answer = JsonNode.Parse(ValidSpec)!;
        var beats = answer["beats"]!.AsArray();
        beats[0]!["voiceover_line"] = "Every run starts before the city wakes.";
        beats[1]!["voiceover_line"] = "";
        beats[3]!["voiceover_line"] = string.Join(' ', Enumerable.Repeat("far", 60)); // 60 words for a 7.5 s beat
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(answer.ToJsonString()), ct));
        var (request, rules) = Request(RunningShoes);
        request.Audio = true;
        rules = Rules.Plan(request);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal("llm", plan.Spec.Planner);
        Assert.Equal("Every run starts before the city wakes.", plan.Spec.Beats[0].VoiceoverLine);
        // A beat the LLM left silent gets the rules' line; an overlong one is cut to 2.5 words per second of its beat.
        Assert.NotEmpty(plan.Spec.Beats[1].VoiceoverLine);
        Assert.InRange(plan.Spec.Beats[3].VoiceoverLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, 1, (int)(7.5 * SoundtrackPlanner.WordsPerSecond));
    }

    [Fact]
    public async Task PlanAsync_SendsModelAndStrictJsonSchema()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(ValidSpec), ct));
        var (request, rules) = Request(RunningShoes);

        await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        var body = Assert.Single(server.Requests).Body;
        Assert.Equal(Model, (string?)body["model"]);
        var format = body["response_format"]!;
        Assert.Equal("json_schema", (string?)format["type"]);
        Assert.Equal("video_spec", (string?)format["json_schema"]!["name"]);
        Assert.True((bool?)format["json_schema"]!["strict"]);
        var schema = format["json_schema"]!["schema"]!;
        Assert.False((bool?)schema["additionalProperties"]);
        Assert.Equal(["template", "subject", "style", "duration_seconds", "beats"], schema["required"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal(["announcement", "lifestyle_ad", "product_showcase"], schema["properties"]!["template"]!["enum"]!.AsArray().Select(n => (string)n!).ToArray());
        var beat = schema["properties"]!["beats"]!["items"]!;
        Assert.Contains("voiceover_line", beat["required"]!.AsArray().Select(n => (string)n!));
        var messages = body["messages"]!.AsArray();
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Contains("exactly 45 seconds", (string?)messages[0]!["content"]);
        Assert.Equal("user", (string?)messages[^1]!["role"]);
        Assert.Equal(RunningShoes, (string?)messages[^1]!["content"]);
    }

    [Fact]
    public async Task PlanAsync_TemplateInRequest_IsTheOnlyTemplateOffered()
    {
        var announcement = new JsonObject
        {
            ["template"] = "announcement",
            ["subject"] = "store opening",
            ["style"] = "bold",
            ["duration_seconds"] = 20,
            ["beats"] = new JsonArray(Beat("hook", 1, "confetti"), Beat("doors_open", 1, "doors swing open")),
        }.ToJsonString();
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(announcement), ct));
        var (request, rules) = Request("our new store opens on Friday", template: "announcement");

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        var schema = Assert.Single(server.Requests).Body["response_format"]!["json_schema"]!["schema"]!;
        Assert.Equal(["announcement"], schema["properties"]!["template"]!["enum"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal("llm", plan.Spec.Planner);
        Assert.Equal("announcement", plan.Spec.Template);
        // No duration stated by the user: the LLM's replaces the template default, and says so.
        Assert.Equal(20, plan.Spec.DurationSeconds);
        Assert.Equal("llm", plan.Spec.DurationSource);
        Assert.Equal([0, 10], plan.Spec.Beats.Select(b => b.StartSeconds).ToArray());
        Assert.Equal(4, plan.Chunks.Count);
    }

    [Fact]
    public async Task PlanAsync_DurationInRequest_BeatsTheLlmsDuration()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(ValidSpec), ct));
        var (request, rules) = Request(RunningShoes, duration: 12);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal("llm", plan.Spec.Planner);
        Assert.Equal(12, plan.Spec.DurationSeconds);
        Assert.Equal("request", plan.Spec.DurationSource);
        Assert.Equal(12, plan.Spec.Beats.Sum(b => b.LengthSeconds), 6);
        Assert.Equal(3, plan.Chunks.Count);
        Assert.Equal(2, plan.Chunks[^1].UsedSeconds, 3);
    }

    [Fact]
    public async Task PlanAsync_Refusal_FallsBackToRules()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(null, refusal: "I can't help with that request."), ct));
        var (request, rules) = Request(RunningShoes);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, "llm fallback: refusal: I can't help with that request.");
        Assert.Equal(1, server.Attempts);
    }

    [Fact]
    public async Task PlanAsync_429OnEveryAttempt_RetriesHonouringRetryAfterThenFallsBack()
    {
        // The back-off alone (5 s, 10 s) would outlast the 10 s budget; retry-after-ms makes the retries quick.
        await using var server = await OpenAiStandIn.StartAsync(async (ctx, _, ct) =>
        {
            ctx.Response.Headers["retry-after-ms"] = "20";
            ctx.Response.Headers["retry-after"] = "0";
            await OpenAiStandIn.WriteJsonAsync(ctx, 429, OpenAiStandIn.Error("Rate limit reached", "requests"), ct);
        });
        var (request, rules) = Request(RunningShoes);

        var plan = await Planner(server, timeoutSeconds: 10, maxRetries: 2, retryDelayMs: 5000).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, "llm fallback: HTTP 429 after 3 attempts: Rate limit reached");
        Assert.Equal(3, server.Attempts);
    }

    [Fact]
    public async Task PlanAsync_500OnEveryAttempt_RetriesThenFallsBack()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 500, OpenAiStandIn.Error("The server had an error", "server_error"), ct));
        var (request, rules) = Request(RunningShoes);

        var plan = await Planner(server, maxRetries: 2).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, "llm fallback: HTTP 500 after 3 attempts: The server had an error");
        Assert.Equal(3, server.Attempts);
    }

    [Fact]
    public async Task PlanAsync_500ThenSuccess_UsesTheRetriedAnswer()
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, attempt, ct) => attempt == 1
            ? OpenAiStandIn.WriteJsonAsync(ctx, 503, OpenAiStandIn.Error("overloaded", "server_error"), ct)
            : OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(ValidSpec), ct));
        var (request, rules) = Request(RunningShoes);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal("llm", plan.Spec.Planner);
        Assert.Equal(2, server.Attempts);
    }

    [Fact]
    public async Task PlanAsync_ServerSlowerThanTheTimeout_FallsBackWithinTheTimeout()
    {
        // The server never answers (it waits on the network going away, like a stuck upstream).
        await using var server = await OpenAiStandIn.StartAsync((_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        var (request, rules) = Request(RunningShoes);
        var clock = Stopwatch.StartNew();

        var plan = await Planner(server, timeoutSeconds: 1, maxRetries: 2).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, "llm fallback: timeout after 1 s");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task PlanAsync_CallerCancels_Throws()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await OpenAiStandIn.StartAsync((_, _, ct) =>
        {
            arrived.TrySetResult();
            return Task.Delay(Timeout.Infinite, ct);
        });
        var (request, rules) = Request(RunningShoes);
        using var cts = new CancellationTokenSource();

        var planning = Planner(server, timeoutSeconds: 60).PlanAsync(request, rules, cts.Token);
        await arrived.Task.WaitAsync(Bound);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => planning.WaitAsync(Bound));
    }

    [Theory]
    [InlineData("{\"template\": \"lifestyle_ad\", \"beats\": [", "llm fallback: malformed JSON")]
    [InlineData("Sure! Here is your spec.", "llm fallback: malformed JSON")]
    [InlineData("{\"template\":\"lifestyle_ad\",\"subject\":\"x\",\"style\":\"y\",\"duration_seconds\":30,\"beats\":[]}", "llm fallback: invalid spec: beats missing")]
    [InlineData("{\"template\":\"lifestyle_ad\",\"subject\":\"x\",\"style\":\"y\",\"duration_seconds\":30}", "llm fallback: invalid spec: beats missing")]
    [InlineData("{\"template\":\"cooking_show\",\"subject\":\"x\",\"style\":\"y\",\"duration_seconds\":30,\"beats\":[{\"name\":\"a\",\"length_seconds\":5,\"shot_description\":\"s\",\"image_prompt\":\"i\"}]}", "llm fallback: invalid spec: unknown template 'cooking_show'")]
    [InlineData("{\"template\":\"lifestyle_ad\",\"subject\":\"x\",\"style\":\"y\",\"duration_seconds\":30,\"beats\":[{\"name\":\"a\",\"length_seconds\":-5,\"shot_description\":\"s\",\"image_prompt\":\"i\"}]}", "llm fallback: invalid spec: beat 0 length_seconds must be > 0")]
    [InlineData("{\"template\":\"lifestyle_ad\",\"subject\":\"x\",\"style\":\"y\",\"duration_seconds\":30,\"beats\":[{\"name\":\"a\",\"length_seconds\":5,\"shot_description\":\"\",\"image_prompt\":\"i\"}]}", "llm fallback: invalid spec: beat 0 needs a shot_description")]
    public async Task PlanAsync_MalformedOrInvalidAnswer_FallsBackWithTheReason(string content, string note)
    {
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(content), ct));
        var (request, rules) = Request(RunningShoes);

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, note);
        Assert.Equal(1, server.Attempts);
    }

    [Fact]
    public async Task PlanAsync_AbsurdDurationWhenNoneWasStated_FallsBack()
    {
        var absurd = ValidSpec.Replace("\"duration_seconds\":30", "\"duration_seconds\":86400", StringComparison.Ordinal);
        await using var server = await OpenAiStandIn.StartAsync((ctx, _, ct) =>
            OpenAiStandIn.WriteJsonAsync(ctx, 200, OpenAiStandIn.Completion(absurd), ct));
        var (request, rules) = Request("a lifestyle ad for running shoes");

        var plan = await Planner(server).PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, "llm fallback: invalid spec: duration_seconds must be > 0 and <= 600; got 86400");
    }

    [Fact]
    public async Task PlanAsync_NothingListening_FallsBackAfterTheRetries()
    {
        var (request, rules) = Request(RunningShoes);
        var options = PlannerOptionsFor($"http://127.0.0.1:{ClosedPort()}/v1", timeoutSeconds: 10, maxRetries: 1, retryDelayMs: 10);
        var planner = new OpenAiPlanner(Options.Create(options), Templates, Models, TimeProvider.System, NullLogger<OpenAiPlanner>.Instance);

        var plan = await planner.PlanAsync(request, rules, CancellationToken.None).WaitAsync(Bound);

        AssertRulesPlan(rules, plan, "llm fallback: network error after 2 attempts");
    }

    [Fact]
    public void AddJobPlanner_KindSelectsThePlanner()
    {
        Assert.IsType<RulesOnlyPlanner>(Services([]).GetRequiredService<IJobPlanner>());
        Assert.IsType<OpenAiPlanner>(Services(new() { ["Planner:Kind"] = "openai", ["Planner:ApiKey"] = "sk-test" }).GetRequiredService<IJobPlanner>());
    }

    [Fact]
    public void AddJobPlanner_ApiKeyFallsBackToOpenAiApiKey()
    {
        var options = Services(new() { ["Planner:Kind"] = "openai", ["OPENAI_API_KEY"] = "sk-env" }).GetRequiredService<IOptions<PlannerOptions>>().Value;

        Assert.Equal("sk-env", options.ApiKey);
    }

    [Theory]
    [InlineData("Kind", "opnai", "Planner:Kind")]
    [InlineData("BaseUrl", "not a url", "Planner:BaseUrl")]
    [InlineData("TimeoutSeconds", "0", "Planner:TimeoutSeconds")]
    [InlineData("MaxRetries", "-1", "Planner:MaxRetries")]
    [InlineData("ApiKey", "", "Planner:ApiKey")]
    public void AddJobPlanner_BadOptions_FailWithTheKey(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?> { ["Planner:Kind"] = "openai", ["Planner:ApiKey"] = "sk-test", [$"Planner:{key}"] = value };
        var services = Services(settings, withoutEnvironmentKey: true);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<PlannerOptions>>().Value);

        Assert.Contains(named, error.Message);
    }

    private static void AssertRulesPlan(Plan rules, Plan plan, string notePrefix)
    {
        Assert.Equal("rules", plan.Spec.Planner);
        Assert.StartsWith(notePrefix, plan.Spec.PlannerNote);
        Assert.Equal(rules.Spec.DurationSeconds, plan.Spec.DurationSeconds);
        Assert.Equal(rules.Spec.Beats, plan.Spec.Beats);
        Assert.Equal(rules.Chunks, plan.Chunks);
        Assert.Equal("", rules.Spec.PlannerNote); // the rules plan handed in is not changed
    }

    private static (JobRequest Request, Plan Rules) Request(string prompt, double? duration = null, string template = "")
    {
        // Hard cuts, no end card, every chunk from a reference: these tests pin the LLM spec's chunk arithmetic; what
        // transitions, end cards and repeated frames add is FinishPlanningTests' subject.
        var request = new JobRequest { Prompt = prompt, Template = template, Transition = "cut", EndCard = false, Continuity = Continuity.None };
        if (duration is { } d)
        {
            request.DurationSeconds = d;
        }

        return (request, Rules.Plan(request));
    }

    private static OpenAiPlanner Planner(OpenAiStandIn server, double timeoutSeconds = 10, int maxRetries = 2, int retryDelayMs = 10) =>
        new(Options.Create(PlannerOptionsFor(server.BaseUrl, timeoutSeconds, maxRetries, retryDelayMs)), Templates, Models, TimeProvider.System, NullLogger<OpenAiPlanner>.Instance);

    private static PlannerOptions PlannerOptionsFor(string baseUrl, double timeoutSeconds, int maxRetries, int retryDelayMs) => new()
    {
        Kind = "openai",
        BaseUrl = baseUrl,
        Model = Model,
        ApiKey = "sk-test",
        TimeoutSeconds = timeoutSeconds,
        MaxRetries = maxRetries,
        RetryDelayMilliseconds = retryDelayMs,
    };

    private static JsonObject Beat(string name, double length, string shot) => new()
    {
        ["name"] = name,
        ["length_seconds"] = length,
        ["shot_description"] = shot,
        ["image_prompt"] = $"storyboard frame: {shot}",
    };

    private static ServiceProvider Services(Dictionary<string, string?> settings, bool withoutEnvironmentKey = false)
    {
        if (withoutEnvironmentKey && settings.TryGetValue("Planner:ApiKey", out var key) && key == "")
        {
            // An empty OPENAI_API_KEY in configuration hides whatever the machine's environment holds.
            settings["OPENAI_API_KEY"] = "";
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Templates);
        services.AddSingleton(Models);
        services.AddJobPlanner(configuration);
        return services.BuildServiceProvider();
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
