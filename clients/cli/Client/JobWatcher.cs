using Grpc.Core;
using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Client;

/// <summary>
/// Follows a job's event stream to its end. When the stream breaks (UNAVAILABLE,
/// INTERNAL, UNKNOWN, or it ends before the job does) it calls WatchJob again with
/// after_sequence = the last sequence seen, with bounded backoff, for up to
/// <see cref="ResumeBudget"/> without a new event; <see cref="ProgressModel.Apply"/>
/// drops anything already seen, so no event is shown twice or missed.
/// </summary>
public sealed class JobWatcher(JobService.JobServiceClient jobs, TimeProvider time)
{
    public TimeSpan ResumeBudget { get; init; } = TimeSpan.FromSeconds(60);

    public async Task WatchAsync(ProgressModel model, IWatchOutput output, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        long? brokenSince = null;
        RpcException? lastError = null;
        while (true)
        {
            try
            {
                using var call = jobs.WatchJob(
                    new WatchJobRequest { JobId = model.JobId, AfterSequence = model.LastSequence },
                    cancellationToken: cancellationToken);
                while (await call.ResponseStream.MoveNext(cancellationToken))
                {
                    var jobEvent = call.ResponseStream.Current;
                    if (model.Apply(jobEvent))
                    {
                        output.OnEvent(jobEvent, model);
                    }
                    brokenSince = null;
                    delay = TimeSpan.FromMilliseconds(250);
                }
                if (model.IsTerminal)
                {
                    break;
                }
                lastError = new RpcException(new Status(StatusCode.Unavailable, "the watch stream ended before the job did"));
            }
            catch (RpcException ex) when (IsResumable(ex.StatusCode))
            {
                lastError = ex;
            }

            brokenSince ??= time.GetTimestamp();
            if (time.GetElapsedTime(brokenSince.Value) + delay > ResumeBudget)
            {
                // Last chance: the job may have ended while the stream was down.
                if (await TryFinishFromJobAsync(model, cancellationToken))
                {
                    break;
                }
                throw lastError;
            }
            if (delay == TimeSpan.FromMilliseconds(250))
            {
                output.Notice($"watch interrupted ({lastError.StatusCode}); resuming after event {model.LastSequence}…");
            }
            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(4).Ticks));
        }

        // The terminal event may not carry everything (e.g. output_url): fill it from the job.
        try
        {
            var job = (await jobs.GetJobAsync(new GetJobRequest { JobId = model.JobId }, cancellationToken: cancellationToken)).Job;
            if (job is not null)
            {
                model.MergeFinal(job);
            }
        }
        catch (RpcException)
        {
            // The events already told the outcome; the extra detail is optional.
        }
        output.Complete(model);
    }

    private static bool IsResumable(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown;

    private async Task<bool> TryFinishFromJobAsync(ProgressModel model, CancellationToken cancellationToken)
    {
        try
        {
            var job = (await jobs.GetJobAsync(new GetJobRequest { JobId = model.JobId }, cancellationToken: cancellationToken)).Job;
            if (job is not null && Names.IsTerminal(job.State))
            {
                model.MergeFinal(job);
                return model.IsTerminal;
            }
        }
        catch (RpcException)
        {
        }
        return false;
    }
}
