using VideoGen.Cli.Client;
using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Commands;

/// <summary>
/// <c>submit PROMPT</c>: submits with a request id (so retrying while the coordinator
/// starts is safe), prints the job id, and with --watch/--out follows the job; with --out
/// copies the final video and prints its absolute path as the last line.
/// </summary>
public static class SubmitCommand
{
    public static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var parsed = context.Parsed;
        var request = new SubmitJobRequest
        {
            RequestId = parsed.Get("request-id") ?? Guid.NewGuid().ToString(),
            Job = JobRequestBuilder.Build(parsed),
        };
        var outFile = parsed.Get("out");
        if (outFile is { Length: 0 })
        {
            throw new UsageException("--out needs a file name", parsed.Command);
        }

        var response = await UnavailableRetry.RunAsync(
            async token => await context.Coordinator.Jobs.SubmitJobAsync(request, cancellationToken: token),
            StartupWait,
            () => context.Errors.WriteLine($"waiting for coordinator at {context.CoordinatorAddress}…"),
            context.Time,
            cancellationToken);
        var job = response.Job;
        if (context.Json)
        {
            JsonLines.Write(context.Output, response);
        }
        else
        {
            context.Output.WriteLine(job.JobId);
        }
        if (!parsed.Has("watch") && outFile is null)
        {
            return ExitCodes.Ok;
        }

        var (model, _) = await WatchCommand.FollowAsync(context, job.JobId, cancellationToken);
        if (model.State != JobState.Succeeded)
        {
            return ExitCodes.JobFailed;
        }
        if (outFile is not null)
        {
            var (uri, url) = (model.OutputUri, model.OutputUrl);
            if (parsed.Get("deliverable") is { } aspect && aspect != "16:9")
            {
                var done = (await context.Coordinator.Jobs.GetJobAsync(new GetJobRequest { JobId = job.JobId }, cancellationToken: cancellationToken)).Job;
                var deliverable = done.Deliverables.FirstOrDefault(d => d.AspectRatio == aspect)
                    ?? throw new CliException($"the job has no {aspect} deliverable (it has {string.Join(", ", done.Deliverables.Select(d => d.AspectRatio))}); ask for it with --aspect", ExitCodes.JobFailed);
                (uri, url) = (deliverable.Uri, deliverable.Url);
            }

            var path = await OutputFetcher.FetchAsync(uri, url, outFile, cancellationToken);
            if (context.Json)
            {
                context.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["outputFile"] = path }));
            }
            else
            {
                context.Output.WriteLine(path);
            }
        }
        return ExitCodes.Ok;
    }
}
