using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Media;

internal static partial class MediaLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "ffmpeg {Step}: {Arguments}")]
    public static partial void Running(ILogger logger, string step, string arguments);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "ffmpeg {Step} finished in {Seconds:0.000} s")]
    public static partial void Finished(ILogger logger, string step, double seconds);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "ffmpeg {Step} killed after {Seconds:0.000} s: cancelled")]
    public static partial void Killed(ILogger logger, string step, double seconds);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "stream-copy stitch gave {Actual:0.000} s for {Asked:0.000} s; re-encoding")]
    public static partial void StitchReencode(ILogger logger, double actual, double asked);
}
