using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>Runs a stitch task: fetch the chunks, join and trim them, store the final video.</summary>
public sealed class StitchExecutor
{
    private readonly IArtifactStore _store;
    private readonly ChunkStitcher _stitcher;

    public StitchExecutor(IArtifactStore store, ChunkStitcher stitcher)
    {
        _store = store;
        _stitcher = stitcher;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(StitchWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        // Fetched in parallel: with a remote store each chunk is a download.
        var chunkPaths = await Task.WhenAll(work.ChunkUris.Select(uri => _store.GetLocalPathAsync(uri, workDirectory, cancellationToken)));

        await reporter.ProgressAsync(0.2, "fetch", cancellationToken);
        var outputPath = Path.Combine(workDirectory, "final.mp4");
        var video = await _stitcher.StitchAsync(chunkPaths, work.DurationSeconds, outputPath, cancellationToken);
        await reporter.ProgressAsync(0.8, "stitch", cancellationToken);

        var outputUri = await _store.PutAsync(work.OutputKey, outputPath, "video/mp4", cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.Video, outputUri, new FileInfo(outputPath).Length, cancellationToken);
        var outputUrl = await _store.GetDownloadUrlAsync(outputUri, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);
        return new TaskResult(outputUri, MediaSeconds: video.DurationSeconds, OutputUrl: outputUrl);
    }
}
