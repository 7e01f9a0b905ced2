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
