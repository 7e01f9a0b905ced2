using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Tasks;

internal static partial class TaskLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "{Kind} task started (attempt {Attempt})")]
    public static partial void Started(ILogger logger, string kind, int attempt);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "{Kind} task succeeded in {Seconds:0.000} s: {OutputUri}")]
    public static partial void Succeeded(ILogger logger, string kind, double seconds, string outputUri);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "{Kind} task cancelled after {Seconds:0.000} s")]
    public static partial void Cancelled(ILogger logger, string kind, double seconds);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "{Kind} task failed permanently: {Reason}")]
    public static partial void FailedPermanently(ILogger logger, string kind, string reason);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "{Kind} task failed (retryable)")]
    public static partial void Failed(ILogger logger, Exception exception, string kind);

    [LoggerMessage(EventId = 205, Level = LogLevel.Debug, Message = "could not remove task folder {Directory}")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, string directory);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "colour of chunk {Chunk}: first frame {First:0.0}, last frame {Last:0.0} from its anchor; seam with the chunk before {Seam:0.0} (Y'CbCr code values, before matching)")]
    public static partial void ColourMeasured(ILogger logger, int chunk, double first, double last, double seam);
}
