using VideoGen.Contracts.V1;
using VideoGen.Worker.Media;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs a soundtrack task: espeak-ng voiceover per beat (fitted to the beat), the FFmpeg music bed on the beats' bar
/// lines, the ducked mix normalised in two loudnorm passes, stored as AAC-LC 48 kHz stereo exactly the video's length.
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
        var music = maker.MusicBedAsync(work.MusicStyle, boundaries, work.DurationSeconds, Path.Combine(workDirectory, "music.wav"), cancellationToken);
        var voice = await maker.VoiceTrackAsync(work.Lines, work.Voice, work.DurationSeconds, Path.Combine(workDirectory, "voice.wav"), cancellationToken);
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
