using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Models.Replicate;

internal static partial class ReplicateLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "replicate prediction {Id} created for {Model} ({Status})")]
    public static partial void Created(ILogger logger, string id, string model, string status);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "replicate prediction {Id} {Status} after {Seconds:0.0} s")]
    public static partial void Finished(ILogger logger, string id, string status, double seconds);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "replicate {Operation} answered {Status}; retry {Retry} in {Delay:0.00} s")]
    public static partial void Retrying(ILogger logger, string operation, int status, int retry, double delay);

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "replicate {Operation} failed to connect; retry {Retry} in {Delay:0.00} s")]
    public static partial void NetworkRetry(ILogger logger, Exception exception, string operation, int retry, double delay);

    [LoggerMessage(EventId = 604, Level = LogLevel.Information, Message = "replicate prediction {Id} cancelled: {Status}")]
    public static partial void Cancelled(ILogger logger, string id, string status);

    [LoggerMessage(EventId = 605, Level = LogLevel.Warning, Message = "could not cancel replicate prediction {Id}; its Cancel-After deadline will stop it")]
    public static partial void CancelFailed(ILogger logger, Exception exception, string id);

    [LoggerMessage(EventId = 606, Level = LogLevel.Information, Message = "no start image for {Model}: text-to-video with {Fallback}")]
    public static partial void TextToVideoFallback(ILogger logger, string model, string fallback);

    [LoggerMessage(EventId = 607, Level = LogLevel.Information, Message = "replicate prediction {Id} resumed ({Status}): an earlier attempt started it")]
    public static partial void Resumed(ILogger logger, string id, string status);

    [LoggerMessage(EventId = 608, Level = LogLevel.Information, Message = "replicate prediction {Id} not resumed ({Why}): creating a new one")]
    public static partial void ResumeRefused(ILogger logger, string id, string why);
}
