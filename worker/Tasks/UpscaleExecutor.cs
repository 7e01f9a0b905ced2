using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Models.Replicate;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs an upscale: fetch the chunk, run the upscaler model, probe its output, bring it to the master's size and the
/// chunk's frame rate with FFmpeg when the model returned another (a 4x model makes 3416x1920 from 854x480), store it.
/// Cost is the probed seconds × the upscaler's price.
/// </summary>
public sealed class UpscaleExecutor
{
    private readonly ModelRegistry _models;
    private readonly IArtifactStore _store;
    private readonly FfmpegRunner _ffmpeg;

    public UpscaleExecutor(ModelRegistry models, IArtifactStore store, FfmpegRunner ffmpeg)
    {
        _models = models;
        _store = store;
        _ffmpeg = ffmpeg;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(UpscaleWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        if (!_models.TryGetUpscaler(work.Model, out _, out var model))
        {
            throw new PermanentTaskException($"This worker does not serve upscaler '{work.Model}'.");
        }

        var input = await _store.GetLocalPathAsync(work.VideoUri, workDirectory, cancellationToken);
        await reporter.ProgressAsync(0.05, "model", cancellationToken);
        var raw = Path.Combine(workDirectory, "upscaler-output.mp4");
        var modelSeconds = await model.UpscaleAsync(
            new UpscaleRequest(input, raw),
            new Progress<double>(fraction => reporter.TryProgress(0.05 + 0.75 * Math.Clamp(fraction, 0, 1), "model")),
            cancellationToken);
        WorkerMetrics.ModelLatency.WithLabels(work.Model).Observe(modelSeconds);
        await reporter.ProgressAsync(0.8, "model_done", cancellationToken);

        var produced = await MediaProbe.ProbeAsync(raw, cancellationToken);
        var output = raw;
        if (produced.Width != work.Width || produced.Height != work.Height || Math.Abs(produced.Fps - work.Fps) > 0.01)
        {
            output = Path.Combine(workDirectory, "upscaled.mp4");
            await _ffmpeg.RunAsync(ProviderMediaArguments.NormaliseClip(raw, work.Width, work.Height, work.Fps, output), "normalise_upscaled", null, null, cancellationToken);
        }

        var clip = await MediaProbe.ProbeAsync(output, cancellationToken);
        await reporter.ProgressAsync(0.9, "normalise", cancellationToken);
        var uri = await _store.PutAsync(work.OutputKey, output, "video/mp4", cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.Clip, uri, new FileInfo(output).Length, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);

        var cost = clip.DurationSeconds * work.PricePerSecondUsd;
        WorkerMetrics.GeneratedSeconds.WithLabels(work.Model).Inc(clip.DurationSeconds);
        WorkerMetrics.CostUsd.WithLabels(work.Model).Inc(cost);
        return new TaskResult(uri, MediaSeconds: clip.DurationSeconds, CostUsd: cost, ModelSeconds: modelSeconds);
    }
}
