using System.Diagnostics;
using FFMpegCore;
using FFMpegCore.Exceptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VideoGen.Worker.Observability;

namespace VideoGen.Worker.Media;

/// <summary>
/// Runs an FFmpeg argument list built elsewhere (builders are pure, so tests assert their argv), with
/// cancellation that kills the process at once, optional progress, a duration metric per step and logs.
/// </summary>
public sealed class FfmpegRunner
{
    private readonly ILogger _logger;

    public FfmpegRunner(ILogger<FfmpegRunner> logger)
    {
        _logger = logger;
    }

    /// <summary>A runner that logs nowhere (tests, tools).</summary>
    public static FfmpegRunner Silent { get; } = new(NullLogger<FfmpegRunner>.Instance);

    /// <summary>
    /// Runs <paramref name="processor"/>. <paramref name="progress"/> gets 0..1 against
    /// <paramref name="expectedOutput"/>. Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires (FFmpeg is killed) and <see cref="FFMpegException"/> on failure.
    /// </summary>
    public async Task RunAsync(
        FFMpegArgumentProcessor processor,
        string step,
        IProgress<double>? progress,
        TimeSpan? expectedOutput,
        CancellationToken cancellationToken)
    {
        // A token cancelled before the process starts would never reach FFMpegCore's cancel handler.
        cancellationToken.ThrowIfCancellationRequested();
        if (progress is not null && expectedOutput is { } total && total > TimeSpan.Zero)
        {
            processor.NotifyOnPercentageProgress(percent => progress.Report(Math.Clamp(percent / 100.0, 0, 1)), total);
        }

        MediaLog.Running(_logger, step, processor.Arguments);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            // Grace period zero: on cancellation FFMpegCore sends 'q' and kills the process without waiting
            // (its default waits 5 s for a clean exit, and a cancelled task must stop spending at once).
            await processor.CancellableThrough(cancellationToken, TimeSpan.Zero).ProcessAsynchronously(throwOnError: true);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or FFMpegException)
        {
            MediaLog.Killed(_logger, step, stopwatch.Elapsed.TotalSeconds);
            throw new OperationCanceledException($"ffmpeg {step} was cancelled.", ex, cancellationToken);
        }

        WorkerMetrics.FfmpegStep.WithLabels(step).Observe(stopwatch.Elapsed.TotalSeconds);
        MediaLog.Finished(_logger, step, stopwatch.Elapsed.TotalSeconds);
    }
}
