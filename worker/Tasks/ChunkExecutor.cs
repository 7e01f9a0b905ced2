using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs a chunk: fetch the start image, run the video model, probe the clip, extract its last frame, store
/// both. Cost is the probed seconds × the model's price, whatever length was asked for.
/// </summary>
public sealed class ChunkExecutor
{
    private readonly ModelRegistry _models;
    private readonly IArtifactStore _store;
    private readonly LastFrameExtractor _lastFrames;
    private readonly FfmpegRunner _runner;

    public ChunkExecutor(ModelRegistry models, IArtifactStore store, LastFrameExtractor lastFrames, FfmpegRunner runner)
    {
        _runner = runner;
        _models = models;
        _store = store;
        _lastFrames = lastFrames;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(ChunkWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        if (!_models.TryGetVideoModel(work.Model, out _, out var model))
        {
            throw new PermanentTaskException($"This worker does not serve video model '{work.Model}'.");
        }

        var startImage = string.IsNullOrEmpty(work.StartImageUri)
            ? null
            : await _store.GetLocalPathAsync(work.StartImageUri, workDirectory, cancellationToken);
        var endImage = work.EndImageUri is null ? null : await _store.GetLocalPathAsync(work.EndImageUri, workDirectory, cancellationToken);
        var conditioning = work.ConditioningVideoUri is null ? null : await _store.GetLocalPathAsync(work.ConditioningVideoUri, workDirectory, cancellationToken);

        await reporter.ProgressAsync(0.05, "model", cancellationToken);
        var clipPath = Path.Combine(workDirectory, "clip.mp4");
        var modelProgress = new GatedProgress(fraction => reporter.TryProgress(0.05 + 0.75 * fraction, "model"));
        VideoGenerationResult generated;
        try
        {
            generated = await model.GenerateAsync(
                new VideoGenerationRequest(startImage, work.Prompt, work.ClipSeconds, work.Width, work.Height, work.Fps, work.Seed, clipPath, TaskKey: $"{work.JobId}/{work.TaskId}",
                    EndImagePath: endImage, ConditioningVideoPath: conditioning, OverlapFrames: work.OverlapFrames, Attempt: work.Attempt),
                modelProgress,
                cancellationToken);
        }
        finally
        {
            // FFmpeg's progress arrives on another thread; nothing may follow the milestones below.
            modelProgress.Close();
        }

        WorkerMetrics.ModelLatency.WithLabels(work.Model).Observe(generated.ModelSeconds);
        await reporter.ProgressAsync(0.8, "model_done", cancellationToken);

        var clip = await MediaProbe.ProbeAsync(generated.OutputPath, cancellationToken);
        var lastFramePath = Path.Combine(workDirectory, "last.png");
        await _lastFrames.ExtractAsync(generated.OutputPath, lastFramePath, cancellationToken);
        SeamMeasure? seam = null;
        if (work.ScoreSeam && startImage is not null)
        {
            // The seam gate's measure: the frame this chunk continues against its first new frame (after an extend's overlap).
            try
            {
                seam = await SeamScoring.MeasureAsync(_runner, startImage, generated.OutputPath, work.OverlapFrames, clip.Width, clip.Height, workDirectory, cancellationToken);
                WorkerMetrics.SeamSsim.WithLabels(work.Model).Observe(seam.Ssim);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FFMpegCore.Exceptions.FFMpegException && !cancellationToken.IsCancellationRequested)
            {
                // A measure that cannot be made (a clip too short after its overlap) leaves the seam unscored, not the chunk failed.
                WorkerMetrics.SeamUnscored.WithLabels(work.Model, ex.GetType().Name).Inc();
                seam = null;
            }
        }

        await reporter.ProgressAsync(0.9, "last_frame", cancellationToken);

        // Both uploads at once: with a remote store they are two round trips that need not wait for each other.
        var clipUpload = _store.PutAsync(work.OutputKey, generated.OutputPath, "video/mp4", cancellationToken);
        var lastFrameUpload = _store.PutAsync(work.LastFrameKey, lastFramePath, "image/png", cancellationToken);
        await Task.WhenAll(clipUpload, lastFrameUpload);
        var (clipUri, lastFrameUri) = (await clipUpload, await lastFrameUpload);
        await reporter.ArtifactAsync(ArtifactKind.Clip, clipUri, new FileInfo(generated.OutputPath).Length, cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.LastFrame, lastFrameUri, new FileInfo(lastFramePath).Length, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);

        var cost = clip.DurationSeconds * work.PricePerSecondUsd;
        WorkerMetrics.GeneratedSeconds.WithLabels(work.Model).Inc(clip.DurationSeconds);
        WorkerMetrics.CostUsd.WithLabels(work.Model).Inc(cost);
        return new TaskResult(clipUri, lastFrameUri, clip.DurationSeconds, cost, generated.ModelSeconds, Seam: seam);
    }

    /// <summary>Synchronous progress that goes quiet once closed (unlike <see cref="Progress{T}"/>, which posts later).</summary>
    private sealed class GatedProgress(Action<double> report) : IProgress<double>
    {
        private volatile bool _closed;

        public void Report(double value)
        {
            if (!_closed)
            {
                report(Math.Clamp(value, 0, 1));
            }
        }

        public void Close() => _closed = true;
    }
}
