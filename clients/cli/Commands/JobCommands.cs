using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Commands;

/// <summary>The one-shot commands: get, list, cancel, estimate, workers, templates.</summary>
public static class JobCommands
{
    public static async Task<int> GetAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Jobs.GetJobAsync(
            new GetJobRequest { JobId = context.Parsed.Positional(0) }, cancellationToken: cancellationToken);
        Print(context, response, () => Tables.Job(response.Job));
        return ExitCodes.Ok;
    }

    public static async Task<int> ListAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var parsed = context.Parsed;
        var limit = parsed.GetInt("limit", defaultValue: 20, min: 1);
        var state = JobState.Unspecified;
        if (parsed.Get("state") is { } stateText)
        {
            state = Names.ParseJobState(stateText)
                ?? throw new UsageException($"--state: unknown job state '{stateText}'", parsed.Command);
        }
        var collected = new ListJobsResponse();
        var pageToken = "";
        do
        {
            var page = await context.Coordinator.Jobs.ListJobsAsync(new ListJobsRequest
            {
                PageSize = Math.Min(100, limit - collected.Jobs.Count),
                PageToken = pageToken,
                State = state,
                Tenant = parsed.Get("tenant") ?? "",
            }, cancellationToken: cancellationToken);
            collected.Jobs.AddRange(page.Jobs.Take(limit - collected.Jobs.Count));
            pageToken = page.NextPageToken;
            collected.NextPageToken = pageToken;
        }
        while (pageToken.Length > 0 && collected.Jobs.Count < limit);
        Print(context, collected, () => collected.Jobs.Count == 0 ? "no jobs\n" : Tables.Jobs(collected.Jobs));
        return ExitCodes.Ok;
    }

    public static async Task<int> CancelAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Jobs.CancelJobAsync(
            new CancelJobRequest { JobId = context.Parsed.Positional(0) }, cancellationToken: cancellationToken);
        Print(context, response, () => $"{response.Job.JobId} {Names.Of(response.Job.State)}\n");
        return ExitCodes.Ok;
    }

    public static async Task<int> EstimateAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var request = new EstimateJobRequest { Job = JobRequestBuilder.Build(context.Parsed) };
        var response = await context.Coordinator.Jobs.EstimateJobAsync(request, cancellationToken: cancellationToken);
        Print(context, response, () => Tables.Estimate(response));
        return ExitCodes.Ok;
    }

    public static async Task<int> ReviseAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var parsed = context.Parsed;
        var request = new ReviseJobRequest { JobId = parsed.Positional(0), RequestId = parsed.Get("request-id") ?? Guid.NewGuid().ToString(), Look = parsed.Get("look") ?? "" };
        if (parsed.Get("shot") is not null || parsed.Get("text") is not null)
        {
            var change = new BeatChange { BeatIndex = parsed.GetInt("beat") ?? throw new UsageException("--shot and --text need --beat N", parsed.Command) };
            if (parsed.Get("shot") is { } shot)
            {
                change.ShotDescription = shot;
            }
            if (parsed.Get("text") is { } text)
            {
                change.OnScreenText = text;
            }
            request.BeatChanges.Add(change);
        }
        foreach (var pair in (parsed.Get("seed") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var chunk) || !long.TryParse(parts[1], out var seed))
            {
                throw new UsageException($"--seed takes CHUNK=SEED pairs, e.g. 3=42; got '{pair}'", parsed.Command);
            }
            request.ChunkSeeds.Add(new ChunkSeed { ChunkIndex = chunk, Seed = seed });
        }
        if (parsed.GetDouble("max-cost") is { } maxCost)
        {
            request.MaxCostUsd = maxCost;
        }
        if (parsed.Has("estimate"))
        {
            var estimate = await context.Coordinator.Jobs.EstimateJobAsync(new EstimateJobRequest { Revision = request }, cancellationToken: cancellationToken);
            Print(context, estimate, () => Tables.Estimate(estimate));
            return ExitCodes.Ok;
        }
        var response = await context.Coordinator.Jobs.ReviseJobAsync(request, cancellationToken: cancellationToken);
        Print(context, response, () => $"{response.Job.JobId}\n");
        return ExitCodes.Ok;
    }

    public static async Task<int> DrainAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Jobs.DrainWorkerAsync(
            new DrainWorkerRequest { WorkerId = context.Parsed.Positional(0) }, cancellationToken: cancellationToken);
        Print(context, response, () => Tables.Workers([response.Worker]));
        return ExitCodes.Ok;
    }

    public static async Task<int> WorkersAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Jobs.ListWorkersAsync(new ListWorkersRequest(), cancellationToken: cancellationToken);
        Print(context, response, () => response.Workers.Count == 0 ? "no workers\n" : Tables.Workers(response.Workers));
        return ExitCodes.Ok;
    }

    public static async Task<int> TemplatesAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var response = await context.Coordinator.Jobs.ListTemplatesAsync(new ListTemplatesRequest(), cancellationToken: cancellationToken);
        Print(context, response, () => Tables.Templates(response.Templates));
        return ExitCodes.Ok;
    }

    private static void Print(CommandContext context, Google.Protobuf.IMessage message, Func<string> text)
    {
        if (context.Json)
        {
            JsonLines.Write(context.Output, message);
        }
        else
        {
            context.Output.Write(text());
        }
    }
}
