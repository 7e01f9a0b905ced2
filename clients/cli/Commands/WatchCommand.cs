using VideoGen.Cli.Client;
using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Commands;

/// <summary><c>watch JOB</c>: follows a job to its end; exit 0 when it succeeded, 1 otherwise.</summary>
public static class WatchCommand
{
    public static async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var (model, _) = await FollowAsync(context, context.Parsed.Positional(0), cancellationToken);
        return model.State == JobState.Succeeded ? ExitCodes.Ok : ExitCodes.JobFailed;
    }

    /// <summary>Watches with the output that fits: live bars, plain lines or JSON lines.</summary>
    public static async Task<(ProgressModel Model, IWatchOutput Output)> FollowAsync(
        CommandContext context, string jobId, CancellationToken cancellationToken)
    {
        IWatchOutput output = context.Json ? new JsonWatchOutput(context.Output, context.Errors)
            : context.Live ? new LiveWatchOutput(context.Output, context.Time)
            : new PlainWatchOutput(context.Output, context.Errors);
        var model = new ProgressModel(jobId);
        try
        {
            await new JobWatcher(context.Coordinator.Jobs, context.Time).WatchAsync(model, output, cancellationToken);
        }
        finally
        {
            if (context.Live)
            {
                context.Output.Write("\u001b[?25h");
            }
        }
        return (model, output);
    }
}
