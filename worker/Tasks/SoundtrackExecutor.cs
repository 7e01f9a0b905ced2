using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs a voiceover task: each beat's line spoken by the task's speech model (espeak-ng, or a hosted one such as
/// OpenAI speech), fitted to its beat and placed at its start, stored as one mono 48 kHz WAV of exactly the video's
/// length. Cost: the characters sent × the price per character, plus the spoken beats' seconds × the price per second.
/// </summary>
public sealed class VoiceoverExecutor
{
    /// <summary>Lines spoken at once: a hosted model's round trips overlap; espeak-ng takes a few milliseconds a line.</summary>
    public const int ParallelLines = 4;

    private readonly ModelRegistry _models;
    private readonly IArtifactStore _store;

    public VoiceoverExecutor(ModelRegistry models, IArtifactStore store)
    {
        _models = models;
        _store = store;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(VoiceoverWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        if (!_models.TryGetSpeechModel(work.Model, out _, out var model))
        {
            throw new PermanentTaskException($"This worker does not serve speech model '{work.Model}'.");
        }

        await reporter.ProgressAsync(0.05, "model", cancellationToken);
        var maker = new SoundtrackMaker(Path.Combine(workDirectory, "lines"));
        var spoken = work.Lines.Count(l => !string.IsNullOrWhiteSpace(l.Text));
        var started = TimeProvider.System.GetTimestamp();
        var output = Path.Combine(workDirectory, "voiceover.wav");
        var track = await maker.VoiceTrackAsync(
            work.Lines,
            (text, path, token) => model.SpeakAsync(new SpeechRequest(text, work.Voice, path), token),
            work.DurationSeconds,
            output,
            cancellationToken,
            ParallelLines,
            done => reporter.TryProgress(0.05 + 0.75 * done / Math.Max(1, spoken), "model"));
        var modelSeconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
        WorkerMetrics.ModelLatency.WithLabels(work.Model).Observe(modelSeconds);
        await reporter.ProgressAsync(0.85, "voiceover", cancellationToken);

        var seconds = await SoundtrackMaker.DurationAsync(output, cancellationToken);
        var uri = await _store.PutAsync(work.OutputKey, output, "audio/wav", cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.Audio, uri, new FileInfo(output).Length, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);

        var cost = Math.Round(track.CharactersBilled * work.PricePerCharacterUsd + track.SpokenSeconds * work.PricePerSecondUsd, 6);
        WorkerMetrics.CostUsd.WithLabels(work.Model).Inc(cost);
        return new TaskResult(uri, MediaSeconds: seconds, CostUsd: cost, ModelSeconds: modelSeconds);
    }
}

/// <summary>
/// Runs a music task: the bed from the task's music model (the embedded FFmpeg synthesis, or a hosted one such as
/// MusicGen on Replicate), stored as one stereo 48 kHz WAV of exactly the video's length. Cost: the seconds the model
/// generated × its price per second.
/// </summary>
public sealed class MusicExecutor
{
    private readonly ModelRegistry _models;
    private readonly IArtifactStore _store;

    public MusicExecutor(ModelRegistry models, IArtifactStore store)
    {
        _models = models;
        _store = store;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(MusicWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        if (!_models.TryGetMusicModel(work.Model, out _, out var model))
        {
            throw new PermanentTaskException($"This worker does not serve music model '{work.Model}'.");
        }

        await reporter.ProgressAsync(0.05, "model", cancellationToken);
        var output = Path.Combine(workDirectory, "music.wav");
        var result = await model.ComposeAsync(
            new MusicRequest(work.Style, work.Subject, work.DurationSeconds, work.BeatStartsSeconds.Count > 0 ? work.BeatStartsSeconds : [0], output),
            new Progress(fraction => reporter.TryProgress(0.05 + 0.8 * fraction, "model")),
            cancellationToken);
        WorkerMetrics.ModelLatency.WithLabels(work.Model).Observe(result.ModelSeconds);
        await reporter.ProgressAsync(0.85, "music", cancellationToken);

        var seconds = await SoundtrackMaker.DurationAsync(output, cancellationToken);
        if (Math.Abs(seconds - work.DurationSeconds) > ChunkStitcher.ToleranceSeconds)
        {
            throw new InvalidDataException($"The music is {seconds:0.000} s long, not {work.DurationSeconds:0.000} s.");
        }

        var uri = await _store.PutAsync(work.OutputKey, output, "audio/wav", cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.Audio, uri, new FileInfo(output).Length, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);

        var cost = Math.Round(result.BilledSeconds * work.PricePerSecondUsd, 6);
        WorkerMetrics.CostUsd.WithLabels(work.Model).Inc(cost);
        return new TaskResult(uri, MediaSeconds: seconds, CostUsd: cost, ModelSeconds: result.ModelSeconds);
    }

    /// <summary>Synchronous progress (<see cref="Progress{T}"/> would post it later, after the milestones).</summary>
    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(Math.Clamp(value, 0, 1));
    }
}

/// <summary>
/// Runs a soundtrack task, the mix: the voiceover and the music (from their tasks; made here with the embedded models
/// for tasks made before those existed) ducked and normalised in two loudnorm passes, stored as AAC-LC 48 kHz stereo
/// exactly the video's length.
/// </summary>
public sealed class SoundtrackExecutor
{
    private readonly IArtifactStore _store;

    public SoundtrackExecutor(IArtifactStore store)
    {
        _store = store;
    }

    /// <summary>Runs <paramref name="work"/> in <paramref name="workDirectory"/>.</summary>
    public async Task<TaskResult> RunAsync(SoundtrackWork work, string workDirectory, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        var maker = new SoundtrackMaker(Path.Combine(workDirectory, "audio"));
        var boundaries = work.Lines.Select(l => l.StartSeconds).Append(work.DurationSeconds).ToArray();
        var music = work.MusicUri is { } musicUri
            ? _store.GetLocalPathAsync(musicUri, workDirectory, cancellationToken)
            : maker.MusicBedAsync(work.MusicStyle, boundaries, work.DurationSeconds, Path.Combine(workDirectory, "music.wav"), cancellationToken);
        var voice = work.VoiceoverUri is { } voiceUri
            ? await _store.GetLocalPathAsync(voiceUri, workDirectory, cancellationToken)
            : await maker.VoiceTrackAsync(work.Lines, work.Voice, work.DurationSeconds, Path.Combine(workDirectory, "voice.wav"), cancellationToken);
        await reporter.ProgressAsync(0.4, "voiceover", cancellationToken);
        var musicPath = await music;
        await reporter.ProgressAsync(0.5, "music", cancellationToken);
        var output = Path.Combine(workDirectory, "soundtrack.m4a");
        await maker.MixAsync(voice, musicPath, work.DurationSeconds, new LoudnessTarget(work.LoudnessLufs, -1), output, cancellationToken);
        var seconds = await SoundtrackMaker.DurationAsync(output, cancellationToken);
        if (Math.Abs(seconds - work.DurationSeconds) > ChunkStitcher.ToleranceSeconds)
        {
            throw new InvalidDataException($"The soundtrack is {seconds:0.000} s long, not {work.DurationSeconds:0.000} s.");
        }

        await reporter.ProgressAsync(0.9, "mix", cancellationToken);
        var uri = await _store.PutAsync(work.OutputKey, output, "audio/mp4", cancellationToken);
        await reporter.ArtifactAsync(ArtifactKind.Audio, uri, new FileInfo(output).Length, cancellationToken);
        await reporter.ProgressAsync(1.0, "upload", cancellationToken);
        return new TaskResult(uri, MediaSeconds: seconds);
    }
}
