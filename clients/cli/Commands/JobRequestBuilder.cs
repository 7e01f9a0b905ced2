using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Commands;

/// <summary>Builds the JobRequest of <c>submit</c> and <c>estimate</c> from their options.</summary>
public static class JobRequestBuilder
{
    /// <summary>Range checks stay with the coordinator (it names the field); only the syntax is checked here.</summary>
    public static JobRequest Build(ParsedCommand parsed)
    {
        var request = new JobRequest
        {
            Prompt = parsed.Positional(0),
            Template = parsed.Get("template") ?? "",
            Model = parsed.Get("model") ?? "",
            Tenant = parsed.Get("tenant") ?? "",
            Priority = parsed.GetInt("priority") ?? 0,
        };
        if (parsed.GetDouble("duration") is { } duration)
        {
            request.DurationSeconds = duration;
        }
        if (parsed.GetDouble("max-cost") is { } maxCost)
        {
            request.MaxCostUsd = maxCost;
        }
        if (parsed.Get("resolution") is { } resolution)
        {
            request.Resolution = resolution.Trim().ToLowerInvariant() switch
            {
                "480p" => Resolution._480P,
                "720p" => Resolution._720P,
                "1080p" => Resolution._1080P,
                _ => throw new UsageException($"--resolution must be 480p, 720p or 1080p, got '{resolution}'", parsed.Command),
            };
        }
        request.Transition = parsed.Get("transition") ?? "";
        if (parsed.GetDouble("transition-seconds") is { } transitionSeconds)
        {
            request.TransitionSeconds = transitionSeconds;
        }
        request.Look = parsed.Get("look") ?? "";
        if (parsed.Get("aspect") is { } aspects)
        {
            request.AspectRatios.AddRange(aspects.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        if (parsed.Has("no-colour-match"))
        {
            request.ColourMatch = false;
        }
        if (parsed.Has("no-end-card"))
        {
            request.EndCard = false;
        }
        if (parsed.Get("continuity") is { } continuity)
        {
            request.Continuity = Names.ParseContinuity(continuity)
                ?? throw new UsageException($"--continuity must be strict, beat or none, got '{continuity}'", parsed.Command);
        }
        if (parsed.Get("strategy") is { } strategy)
        {
            request.Strategy = Names.ParseStrategy(strategy)
                ?? throw new UsageException($"--strategy must be chain, keyframes, extend or text, got '{strategy}'", parsed.Command);
        }
        return request;
    }
}
