using System.ClientModel;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning.Llm;

/// <summary>
/// Refines the rule-based plan with an LLM: the official OpenAI SDK against OpenAI or any
/// OpenAI-compatible chat-completions endpoint, with structured output (a strict JSON schema of the
/// spec). The rules still decide what the user decided — a stated duration, a named template — and
/// the chunks come from <see cref="ChunkPlanner"/> as for the rules plan. Whenever the LLM path
/// fails (timeout, refusal, 429/5xx after retries, malformed or invalid output, over budget) the
/// job gets the rules plan with <c>planner_note</c> saying why; only the caller's cancellation throws.
/// </summary>
public sealed partial class OpenAiPlanner : IJobPlanner
{
    public const string PlannerName = "llm";

    private readonly ChatClient _chat;
    private readonly PlannerOptions _options;
    private readonly TemplateCatalog _templates;
    private readonly ModelCatalog _models;
    private readonly TimeProvider _time;
    private readonly ILogger<OpenAiPlanner> _log;

    public OpenAiPlanner(IOptions<PlannerOptions> options, TemplateCatalog templates, ModelCatalog models, TimeProvider time, ILogger<OpenAiPlanner> log)
    {
        _options = options.Value;
        _templates = templates;
        _models = models;
        _time = time;
        _log = log;
        var timeout = TimeSpan.FromSeconds(_options.TimeoutSeconds);
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(_options.BaseUrl),
            NetworkTimeout = timeout,
            RetryPolicy = new PlannerRetryPolicy(_options.MaxRetries, TimeSpan.FromMilliseconds(_options.RetryDelayMilliseconds)),
        };
        _chat = new ChatClient(_options.Model, new ApiKeyCredential(_options.ApiKey ?? ""), clientOptions);
    }

    public async Task<Plan> PlanAsync(JobRequest request, Plan rulesPlan, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(_options.TimeoutSeconds), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var attempts = PlannerRetryPolicy.BeginCounting();
        string? failure;
        try
        {
            var completion = await _chat.CompleteChatAsync(BuildMessages(request, rulesPlan.Spec), BuildOptions(request), linked.Token).ConfigureAwait(false);
            var (plan, why) = FromCompletion(completion.Value, request, rulesPlan);
            if (plan is not null)
            {
                Log.LlmPlanned(_log, _options.Model, plan.Spec.Beats.Count, plan.Spec.DurationSeconds);
                return plan;
            }

            failure = why;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception ex) when (deadline.IsCancellationRequested || IsTimeout(ex))
        {
            failure = $"timeout after {PromptText.Format(_options.TimeoutSeconds)} s";
        }
        catch (ClientResultException ex) when (ex.Status != 0)
        {
            failure = $"HTTP {ex.Status} after {Attempts(attempts.Value)}{Detail(ex)}";
        }
        catch (Exception ex)
        {
            // No response at all (connection refused, DNS, TLS) after the retries, or a bug in the SDK path.
            failure = $"{(ex is ClientResultException or AggregateException or HttpRequestException ? "network error" : ex.GetType().Name)} after {Attempts(attempts.Value)}: {LlmSpecMapper.Clip(Innermost(ex).Message, 200)}";
        }

        Log.LlmFallback(_log, _options.Model, failure ?? "unknown");
        return Fallback(rulesPlan, failure ?? "unknown");
    }

    /// <summary>The rules plan, marked as such, with the reason the LLM's was not used.</summary>
    internal static Plan Fallback(Plan rulesPlan, string reason)
    {
        var plan = rulesPlan.Clone();
        plan.Spec.Planner = RuleBasedPlanner.PlannerName;
        plan.Spec.PlannerNote = $"llm fallback: {reason}";
        return plan;
    }

    private (Plan? Plan, string? Failure) FromCompletion(ChatCompletion completion, JobRequest request, Plan rulesPlan)
    {
        if (!string.IsNullOrEmpty(completion.Refusal))
        {
            return (null, $"refusal: {LlmSpecMapper.Clip(completion.Refusal.Trim(), 200)}");
        }

        if (completion.FinishReason == ChatFinishReason.ContentFilter)
        {
            return (null, "refusal: the answer was cut by the content filter");
        }

        var content = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        if (string.IsNullOrWhiteSpace(content))
        {
            return (null, "malformed JSON: the answer is empty");
        }

        LlmSpec answer;
        try
        {
            answer = LlmSpecMapper.Parse(content);
        }
        catch (JsonException ex)
        {
            var truncated = completion.FinishReason == ChatFinishReason.Length ? " (the answer hit the token limit)" : "";
            return (null, $"malformed JSON{truncated}: {LlmSpecMapper.Clip(ex.Message, 160)}");
        }

        var (spec, invalid) = LlmSpecMapper.ToSpec(answer, request, rulesPlan.Spec, _templates);
        if (spec is null)
        {
            return (null, $"invalid spec: {invalid}");
        }

        if (!_models.TryGet(rulesPlan.Model, out var model))
        {
            return (null, $"model '{rulesPlan.Model}' is not in the catalog");
        }

        spec.Planner = PlannerName;
        spec.PlannerNote = $"model {_options.Model}";
        SoundtrackPlanner.Adopt(rulesPlan.Spec, spec, _models);
        var upscaler = rulesPlan.Finish is { Upscaler.Length: > 0 } ? _models.Models.GetValueOrDefault(rulesPlan.Finish.Upscaler) : null;
        // The rules plan's graph strategy and keyframe price carry over (the request chose them, or the model's default).
        var keyframePrice = rulesPlan.Keyframes > 0 ? rulesPlan.KeyframeCostUsd / rulesPlan.Keyframes : 0;
        var plan = ChunkPlanner.Build(spec, model, rulesPlan.Continuity, rulesPlan.Finish, upscaler, rulesPlan.Strategy, keyframePrice);

        // The budget was checked against the rules plan at submit; an LLM duration must not spend past it.
        var cost = ChunkPlanner.Cost(plan);
        if (request.HasMaxCostUsd && Budget.Exceeds(cost, request.MaxCostUsd))
        {
            return (null, $"the llm plan costs ${cost:0.00}, over the budget ${request.MaxCostUsd:0.00}");
        }

        return (plan, null);
    }

    private ChatCompletionOptions BuildOptions(JobRequest request)
    {
        // A template named in the request is the only one the LLM may answer with.
        var names = !string.IsNullOrEmpty(request.Template) ? [request.Template] : _templates.Templates.Keys.Order(StringComparer.Ordinal).ToArray();
        return new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat(
                LlmSpecSchema.Name,
                BinaryData.FromString(LlmSpecSchema.Build(names)),
                jsonSchemaFormatDescription: "The spec of a short AI-generated video: template, subject, style, duration and beats.",
                jsonSchemaIsStrict: true),
            Temperature = 0.2f,
            MaxOutputTokenCount = 2000,
        };
    }

    private List<ChatMessage> BuildMessages(JobRequest request, Spec rulesSpec)
    {
        var system = new StringBuilder();
        system.AppendLine("You plan short AI-generated videos. Turn the user's prompt into a spec: pick the template that fits, name the subject and a visual style, and write the beats in order.");
        system.AppendLine("Each beat is one shot: give it a length in seconds, a shot description (what the camera shows) and an image prompt for one storyboard image. Beats should look visibly different from each other.");
        system.AppendLine("Follow the chosen template's beat structure unless the prompt asks for something else. The beats' lengths must sum to duration_seconds.");
        system.AppendLine();
        system.AppendLine("Templates:");
        foreach (var t in _templates.Templates.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            system.Append("- ").Append(t.Name).Append(": ").Append(t.Description)
                .Append(" Default duration ").Append(PromptText.Format(t.DefaultDurationSeconds)).Append(" s. Style: ").Append(t.Style).Append(". Beats: ")
                .AppendJoin(", ", t.Beats.Select(b => $"{b.Name} (weight {PromptText.Format(b.Weight)}: {b.Shot})"))
                .AppendLine(".");
        }

        system.AppendLine();
        if (rulesSpec.DurationSource is "request" or "prompt")
        {
            system.Append("The user asked for exactly ").Append(PromptText.Format(rulesSpec.DurationSeconds)).AppendLine(" seconds: use that duration_seconds.");
        }
        else
        {
            system.AppendLine("If the prompt states a length, use it; otherwise use the template's default duration.");
        }

        if (!string.IsNullOrEmpty(request.Template))
        {
            system.Append("The user chose the template ").Append(request.Template).AppendLine(".");
        }

        return [new SystemChatMessage(system.ToString()), new UserChatMessage(request.Prompt)];
    }

    private static string Attempts(int n) => n == 1 ? "1 attempt" : $"{n} attempts";

    /// <summary>The server's own words from an OpenAI error body (<c>{"error":{"message":...}}</c>), when it sent one.</summary>
    private static string Detail(ClientResultException ex)
    {
        try
        {
            var body = ex.GetRawResponse()?.Content;
            if (body is null || body.ToMemory().IsEmpty)
            {
                return "";
            }

            using var json = JsonDocument.Parse(body.ToMemory());
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                && message.GetString() is { Length: > 0 } text
                ? $": {LlmSpecMapper.Clip(text, 160)}"
                : "";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return ""; // not JSON (a proxy's HTML page): the status says enough
        }
    }

    private static bool IsTimeout(Exception ex) => ex switch
    {
        TimeoutException or OperationCanceledException => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsTimeout),
        _ => ex.InnerException is { } inner && IsTimeout(inner),
    };

    private static Exception Innermost(Exception ex) => ex is AggregateException { InnerExceptions.Count: > 0 } a ? Innermost(a.InnerExceptions[^1]) : ex.InnerException is { } inner ? Innermost(inner) : ex;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "llm planner ({Model}): {Beats} beats over {Duration} s")]
        public static partial void LlmPlanned(ILogger logger, string model, int beats, double duration);

        [LoggerMessage(2, LogLevel.Warning, "llm planner ({Model}) fell back to the rules plan: {Reason}")]
        public static partial void LlmFallback(ILogger logger, string model, string reason);
    }
}
