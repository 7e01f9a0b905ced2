using FFMpegCore;

namespace VideoGen.Worker.Media;

/// <summary>What FFprobe says about a video file.</summary>
/// <param name="DurationSeconds">Container duration.</param>
/// <param name="Width">Width of the first video stream in pixels.</param>
/// <param name="Height">Height of the first video stream in pixels.</param>
/// <param name="Fps">Average frame rate of the first video stream.</param>
/// <param name="Codec">Codec name of the first video stream, e.g. "h264".</param>
public sealed record MediaInfo(double DurationSeconds, int Width, int Height, double Fps, string Codec);

/// <summary>Reads duration, size, frame rate and codec of a video with FFprobe.</summary>
public static class MediaProbe
{
    /// <summary>Probes <paramref name="path"/>; throws when the file holds no video stream.</summary>
    public static async Task<MediaInfo> ProbeAsync(string path, CancellationToken cancellationToken)
    {
        var analysis = await FFProbe.AnalyseAsync(path, cancellationToken: cancellationToken);
        var video = analysis.PrimaryVideoStream
            ?? throw new InvalidDataException($"'{Path.GetFileName(path)}' holds no video stream.");
        var duration = analysis.Format.Duration > TimeSpan.Zero ? analysis.Format.Duration : video.Duration;
        return new MediaInfo(duration.TotalSeconds, video.Width ?? 0, video.Height ?? 0, video.AverageFrameRate, video.CodecName ?? "");
    }
}
