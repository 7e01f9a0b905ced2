using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Models;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>Runs a storyboard task: render the beat's image and store it.</summary>
public sealed class StoryboardExecutor
{
    private const string FallbackModel = ModelCatalog.ProceduralImageModel;

    private readonly ModelRegistry _models;
    private readonly ProceduralStoryboardRenderer _fallback;
    private readonly IArtifactStore _store;

    public StoryboardExecutor(ModelRegistry models, ProceduralStoryboardRenderer fallback, IArtifactStore store)
    {
        _models = models;
        _fallback = fallback;
        _store = store;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(StoryboardWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        // An empty image model means the procedural renderer, even on a worker that lists no image model.
        IImageModel model = _fallback;
        var modelName = FallbackModel;
        var price = 0.0;
        if (_models.TryGetImageModel(work.ImageModel, out var spec, out var served))
        {
            (model, modelName, price) = (served, spec.Name, spec.PricePerSecondUsd);
        }
        else if (!string.IsNullOrEmpty(work.ImageModel))
        {
            throw new PermanentTaskException($"This worker does not serve image model '{work.ImageModel}'.");
        }

        await reporter.ProgressAsync(0.1, "model", cancellationToken);
        var imagePath = Path.Combine(workDirectory, "storyboard.png");
        var modelSeconds = await model.RenderAsync(
            new StoryboardImageRequest(work.BeatIndex, work.BeatName, work.ShotDescription, work.ImagePrompt, work.Subject, work.Style, work.Width, work.Height, imagePath),
            cancellationToken);
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
