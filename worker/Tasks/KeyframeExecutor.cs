using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Models;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs a keyframe task: fetch the image it is made from, have the image model make the keyframe from it (an image model
/// with capability "i2i", <see cref="IKeyframeImageModel"/>), store it. An empty image model means the procedural one.
/// </summary>
public sealed class KeyframeExecutor
{
    private readonly ModelRegistry _models;
    private readonly ProceduralStoryboardRenderer _fallback;
    private readonly IArtifactStore _store;

    public KeyframeExecutor(ModelRegistry models, ProceduralStoryboardRenderer fallback, IArtifactStore store)
    {
        _models = models;
        _fallback = fallback;
        _store = store;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(KeyframeWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        IKeyframeImageModel model = _fallback;
        var (modelName, price) = (ModelCatalog.ProceduralImageModel, 0.0);
        if (!string.IsNullOrEmpty(work.ImageModel))
        {
            if (!_models.TryGetImageModel(work.ImageModel, out var spec, out var served))
            {
                throw new PermanentTaskException($"This worker does not serve image model '{work.ImageModel}'.");
            }

            model = served as IKeyframeImageModel
                ?? throw new PermanentTaskException($"Image model '{work.ImageModel}' cannot make an image from another (keyframes need capability i2i).");
            (modelName, price) = (spec.Name, spec.PricePerSecondUsd);
        }

        var source = await _store.GetLocalPathAsync(work.SourceImageUri, workDirectory, cancellationToken);
        await reporter.ProgressAsync(0.1, "model", cancellationToken);
        var imagePath = Path.Combine(workDirectory, "keyframe.png");
        var modelSeconds = await model.RenderKeyframeAsync(
            new KeyframeImageRequest(source, work.Prompt, work.Seconds, work.Width, work.Height, work.Seed, imagePath), cancellationToken);
        WorkerMetrics.ModelLatency.WithLabels(modelName).Observe(modelSeconds);
        await reporter.ProgressAsync(0.8, "model_done", cancellationToken);

        var uri = await _store.PutAsync(work.OutputKey, imagePath, "image/png", cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.Image, uri, new FileInfo(imagePath).Length, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);

        // Image models are priced per image.
        WorkerMetrics.CostUsd.WithLabels(modelName).Inc(price);
        return new TaskResult(uri, CostUsd: price, ModelSeconds: modelSeconds);
    }
}
