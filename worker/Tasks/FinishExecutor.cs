using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs a finish task: fetch the raw cut (and the soundtrack), write the look's LUT and the titles' text, run
/// <see cref="Finisher"/> once for every rendition, check each one's duration, store them.
/// </summary>
public sealed class FinishExecutor
{
    private readonly IArtifactStore _store;
    private readonly FfmpegRunner _runner;
    private readonly string _fontFile;

    public FinishExecutor(IArtifactStore store, FfmpegRunner runner, IOptions<WorkerOptions> options)
    {
        _store = store;
        _runner = runner;
        _fontFile = options.Value.FontFile;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(FinishWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        var video = _store.GetLocalPathAsync(work.VideoUri, workDirectory, cancellationToken);
        var soundtrack = work.SoundtrackUri is null ? null : _store.GetLocalPathAsync(work.SoundtrackUri, workDirectory, cancellationToken);
        var videoPath = await video;
        string? soundtrackPath = soundtrack is null ? null : await soundtrack;
        if (work.Titles.Count > 0 && !File.Exists(_fontFile))
        {
            // Retryable: another worker may have the font; this one needs fonts-dejavu-core or Worker:FontFile.
            throw new FileNotFoundException($"The title font {_fontFile} is missing on this worker (install fonts-dejavu-core or set Worker:FontFile).");
        }

        string? lutPath = null;
        if (Looks.Grades(work.Look))
        {
            lutPath = Path.Combine(workDirectory, $"{work.Look}.cube");
            await Looks.WriteAsync(work.Look, lutPath, cancellationToken);
        }

        await reporter.ProgressAsync(0.05, "fetch", cancellationToken);
        var outputs = new List<FinishOutput> { new("16:9", work.Width, work.Height, Path.Combine(workDirectory, "final.mp4")) };
        foreach (var (ratio, _) in work.Deliverables)
        {
            var (width, height) = ratio == "9:16" ? (work.Height, work.Width) : (work.Height, work.Height);
            outputs.Add(new FinishOutput(ratio, width, height, Path.Combine(workDirectory, $"final-{ratio.Replace(':', 'x')}.mp4")));
        }

        var spec = new FinishSpec(
            videoPath, work.DurationSeconds, work.Cuts, work.Fps, lutPath,
            work.Titles.Select((t, i) => new FinishTitle(t.Text, t.StartSeconds, t.EndSeconds, Path.Combine(workDirectory, $"title-{i}.txt"))).ToArray(),
            _fontFile, outputs, soundtrackPath);
        var progress = new Progress<double>(p => _ = reporter.ProgressAsync(0.05 + 0.85 * p, "finish", CancellationToken.None));
        var probes = await Finisher.RunAsync(_runner, spec, workDirectory, progress, cancellationToken);
        for (var i = 0; i < probes.Count; i++)
        {
            if (Math.Abs(probes[i].DurationSeconds - work.DurationSeconds) > ChunkStitcher.ToleranceSeconds)
            {
                throw new InvalidDataException($"The {outputs[i].AspectRatio} rendition is {probes[i].DurationSeconds:0.000} s, asked {work.DurationSeconds:0.000} s.");
            }
        }

        var results = new List<DeliverableResult>();
        for (var i = 0; i < outputs.Count; i++)
        {
            var key = i == 0 ? work.OutputKey : work.Deliverables[i - 1].OutputKey;
            var uri = await _store.PutAsync(key, outputs[i].Path, "video/mp4", cancellationToken);
            await reporter.ArtifactAsync(i == 0 ? ArtifactKind.Video : ArtifactKind.Deliverable, uri, new FileInfo(outputs[i].Path).Length, cancellationToken);
            var url = await _store.GetDownloadUrlAsync(uri, cancellationToken);
            results.Add(new DeliverableResult(outputs[i].AspectRatio, uri, url, probes[i].Width, probes[i].Height));
        }

        await reporter.ProgressAsync(1.0, "upload", cancellationToken);
        return new TaskResult(results[0].Uri, MediaSeconds: probes[0].DurationSeconds, OutputUrl: results[0].Url, Deliverables: results);
    }
}
