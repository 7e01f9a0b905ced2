using System.Diagnostics;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models;

/// <summary>The embedded speech model: espeak-ng (Debian), real speech, offline, free.</summary>
public sealed class EspeakSpeechModel : ISpeechModel
{
    /// <inheritdoc />
    public async Task<int> SpeakAsync(SpeechRequest request, CancellationToken cancellationToken)
    {
        await SoundtrackMaker.Espeak(request.Voice)(request.Text, request.OutputPath, cancellationToken);
        return 0;
    }
}

/// <summary>The embedded music model: a bed synthesised by FFmpeg per style, bars on the beat boundaries, free.</summary>
public sealed class FfmpegMusicBed : IMusicModel
{
    /// <inheritdoc />
    public async Task<MusicResult> ComposeAsync(MusicRequest request, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var maker = new SoundtrackMaker(Path.GetDirectoryName(Path.GetFullPath(request.OutputPath))!);
        await maker.MusicBedAsync(request.Style, [.. request.BeatStartsSeconds, request.DurationSeconds], request.DurationSeconds, request.OutputPath, cancellationToken);
        progress?.Report(1);
        return new MusicResult(Stopwatch.GetElapsedTime(started).TotalSeconds, request.DurationSeconds);
    }
}
