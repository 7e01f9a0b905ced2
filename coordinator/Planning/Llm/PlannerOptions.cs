using Microsoft.Extensions.Options;

namespace VideoGen.Coordinator.Planning.Llm;

/// <summary>
/// Configuration section <c>Planner</c>: which planner refines the rule-based plan, and how the LLM
/// planner reaches an OpenAI or OpenAI-compatible chat-completions endpoint.
/// </summary>
public sealed class PlannerOptions
{
    public const string Section = "Planner";
    public const string RulesKind = "rules";
    public const string OpenAiKind = "openai";

    /// <summary><c>rules</c> (default: the embedded rule-based planner only) or <c>openai</c>.</summary>
    public string Kind { get; set; } = RulesKind;

    /// <summary>Base URL of the API, up to and including the version segment.</summary>
    public string BaseUrl { get; set; } = "https://api.openai.com/v1";

    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>The API key; when empty, the <c>OPENAI_API_KEY</c> environment variable.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Time the LLM gets for one plan, every attempt and back-off included; past it the job gets the rules plan.</summary>
    public double TimeoutSeconds { get; set; } = 20;

    /// <summary>Retries after the first attempt for 408/429/5xx and network errors.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First back-off between attempts (doubling after each), unless the server says otherwise with Retry-After.</summary>
    public int RetryDelayMilliseconds { get; set; } = 500;

    public bool UsesOpenAi => string.Equals(Kind, OpenAiKind, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Start-up validation of <see cref="PlannerOptions"/>, with messages that name the key to fix.</summary>
public sealed class PlannerOptionsValidator : IValidateOptions<PlannerOptions>
{
    public ValidateOptionsResult Validate(string? name, PlannerOptions o)
    {
        var failures = new List<string>();
        if (!string.Equals(o.Kind, PlannerOptions.RulesKind, StringComparison.OrdinalIgnoreCase) && !o.UsesOpenAi)
        {
            failures.Add($"Planner:Kind is '{o.Kind}'; use '{PlannerOptions.RulesKind}' or '{PlannerOptions.OpenAiKind}'.");
        }

        if (o.UsesOpenAi)
        {
            if (!Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"Planner:BaseUrl must be an absolute http(s) URL such as https://api.openai.com/v1; got '{o.BaseUrl}'.");
            }

            if (string.IsNullOrWhiteSpace(o.Model))
            {
                failures.Add("Planner:Model must name a chat model, e.g. gpt-4o-mini.");
            }

            if (string.IsNullOrWhiteSpace(o.ApiKey))
            {
                failures.Add("Planner:Kind=openai needs an API key: set Planner:ApiKey or OPENAI_API_KEY (a local OpenAI-compatible server that ignores keys accepts any value).");
            }

            if (!(o.TimeoutSeconds > 0 && o.TimeoutSeconds <= 600))
            {
                failures.Add($"Planner:TimeoutSeconds must be > 0 and <= 600; got {o.TimeoutSeconds}.");
            }

            if (o.MaxRetries is < 0 or > 10)
            {
                failures.Add($"Planner:MaxRetries must be between 0 and 10; got {o.MaxRetries}.");
            }

            if (o.RetryDelayMilliseconds is < 0 or > 60_000)
            {
                failures.Add($"Planner:RetryDelayMilliseconds must be between 0 and 60000; got {o.RetryDelayMilliseconds}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
