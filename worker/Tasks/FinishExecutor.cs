using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs a finish task: fetch the chunks (and the soundtrack and the anchors), match each chunk's colour to its anchor,
/// write the look's LUT and the titles' text, run <see cref="Finisher"/> once for every rendition, check each one's
/// duration, store them.
/// </summary>
public sealed class FinishExecutor
{
    private readonly IArtifactStore _store;
    private readonly FfmpegRunner _runner;
    private readonly string _fontFile;
    private readonly string _preset;
    private readonly ILogger<FinishExecutor> _logger;

    public FinishExecutor(IArtifactStore store, FfmpegRunner runner, IOptions<WorkerOptions> options, ILogger<FinishExecutor> logger)
    {
        _store = store;
        _runner = runner;
        _fontFile = options.Value.FontFile;
        _preset = options.Value.FinishPreset;
        _logger = logger;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(FinishWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        var soundtrack = work.SoundtrackUri is null ? null : _store.GetLocalPathAsync(work.SoundtrackUri, workDirectory, cancellationToken);
        var segments = work.Chunks.Count > 0
            ? await ChunkSegmentsAsync(work, workDirectory, cancellationToken)
            : await TakeSegmentsAsync(work, workDirectory, cancellationToken);
        string? soundtrackPath = soundtrack is null ? null : await soundtrack;
        if ((work.Titles.Count > 0 || work.EndCard is not null) && !File.Exists(_fontFile))
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
        if (work.ColourMatch && work.Chunks.Count > 0)
        {
            segments = await MatchColourAsync(work, segments, workDirectory, cancellationToken);
        }

        var outputs = new List<FinishOutput> { new("16:9", work.Width, work.Height, Path.Combine(workDirectory, "final.mp4")) };
        foreach (var (ratio, _) in work.Deliverables)
        {
            var (width, height) = ratio == "9:16" ? (work.Height, work.Width) : (work.Height, work.Height);
            outputs.Add(new FinishOutput(ratio, width, height, Path.Combine(workDirectory, $"final-{ratio.Replace(':', 'x')}.mp4")));
        }

        var titles = work.Titles.Select((t, i) => new FinishTitle(t.Text, t.StartSeconds, t.EndSeconds, Path.Combine(workDirectory, $"title-{i}.txt"))).ToList();
        FinishEndCard? endCard = null;
        if (work.EndCard is { } card)
        {
            // The card comes in with the transition of the takes (a cut when the ad has none).
            var transition = segments.Select(s => (s.TransitionInSeconds, s.Transition)).LastOrDefault(t => t.TransitionInSeconds > 0);
            var overlap = transition.TransitionInSeconds > 0 ? Math.Min(transition.TransitionInSeconds, card.Seconds / 2) : 0;
            endCard = new FinishEndCard(card.Seconds + overlap, card.Background, overlap, transition.Transition ?? "");
            var start = work.DurationSeconds - card.Seconds;
            titles.Add(new FinishTitle(card.Text, Math.Round(start + overlap, 3), work.DurationSeconds, Path.Combine(workDirectory, "end-card.txt"), Centred: true));
        }

        var first = await MediaProbe.ProbeAsync(segments[0].Path, cancellationToken);
        var spec = new FinishSpec(segments, first.Width, first.Height, work.DurationSeconds, work.Fps, lutPath, titles, _fontFile, outputs, soundtrackPath, endCard, _preset);
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

    /// <summary>Every chunk as its own segment: fetched (in parallel) and probed for its frame rate.</summary>
    private async Task<IReadOnlyList<FinishSegment>> ChunkSegmentsAsync(FinishWork work, string workDirectory, CancellationToken cancellationToken)
    {
        var paths = await Task.WhenAll(work.Chunks.Select(c => _store.GetLocalPathAsync(c.Uri, workDirectory, cancellationToken)));
        var probes = await Task.WhenAll(paths.Select(p => MediaProbe.ProbeAsync(p, cancellationToken)));
        return work.Chunks.Select((c, i) => new FinishSegment(
            paths[i], probes[i].DurationSeconds, probes[i].Fps, c.Continues, c.TransitionInSeconds, c.Transition, Focus: c.Focus, OverlapFrames: c.OverlapFrames)).ToArray();
    }

    /// <summary>From a coordinator older than <c>FinishTask.chunks</c>: one segment per take, cut out of the raw cut at the cuts.</summary>
    private async Task<IReadOnlyList<FinishSegment>> TakeSegmentsAsync(FinishWork work, string workDirectory, CancellationToken cancellationToken)
    {
        var path = await _store.GetLocalPathAsync(work.VideoUri, workDirectory, cancellationToken);
        var raw = await MediaProbe.ProbeAsync(path, cancellationToken);
        var segments = new List<FinishSegment>();
        for (var i = 0; i <= work.Cuts.Count; i++)
        {
            var from = i == 0 ? 0 : work.Cuts[i - 1].AtSeconds;
            double? to = i < work.Cuts.Count ? work.Cuts[i].AtSeconds : null;
            var (overlap, transition) = i == 0 ? (0, "") : (work.Cuts[i - 1].Seconds, work.Cuts[i - 1].Transition);
            segments.Add(new FinishSegment(path, (to ?? raw.DurationSeconds) - from, raw.Fps, false, overlap, transition, FromSeconds: from, ToSeconds: to));
        }

        return segments;
    }

    /// <summary>Measures every chunk against its anchor and gives each its <see cref="HueRamp"/>; logs the distances it closes.</summary>
    private async Task<IReadOnlyList<FinishSegment>> MatchColourAsync(FinishWork work, IReadOnlyList<FinishSegment> segments, string workDirectory, CancellationToken cancellationToken)
    {
        var anchorUris = work.Chunks.Select(c => c.AnchorUri).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var anchorPaths = await Task.WhenAll(anchorUris.Select(u => _store.GetLocalPathAsync(u, workDirectory, cancellationToken)));
        var anchorOfChunk = work.Chunks.Select(c => c.AnchorUri is null ? -1 : anchorUris.IndexOf(c.AnchorUri)).ToArray();
        var colours = await ColourMatch.MeasureAsync(_runner, segments, anchorPaths, anchorOfChunk, workDirectory, cancellationToken);
        for (var i = 0; i < colours.Count; i++)
        {
            var c = colours[i];
            var seam = i > 0 && segments[i].DropFirstFrame ? colours[i - 1].Last.DistanceTo(c.First) : double.NaN;
            TaskLog.ColourMeasured(_logger, i, c.First.DistanceTo(c.Anchor), c.Last.DistanceTo(c.Anchor), seam);
            WorkerMetrics.ColourDistance.WithLabels("chunk_to_anchor").Observe(Math.Max(c.First.DistanceTo(c.Anchor), c.Last.DistanceTo(c.Anchor)));
            if (!double.IsNaN(seam))
            {
                WorkerMetrics.ColourDistance.WithLabels("seam").Observe(seam);
            }
        }

        var ramps = ColourMatch.Ramps(colours, segments.Select(s => s.DropFirstFrame).ToList());
        return segments.Select((s, i) => s with { Colour = ramps[i] }).ToArray();
    }
}
