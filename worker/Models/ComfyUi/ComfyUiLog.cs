using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Models.ComfyUi;

internal static partial class ComfyUiLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "comfyui prompt {PromptId} queued for {TaskKey} ({Model})")]
    public static partial void Queued(ILogger logger, string promptId, string taskKey, string model);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "comfyui prompt {PromptId} of {TaskKey} was queued by an earlier attempt: following it")]
    public static partial void Resumed(ILogger logger, string promptId, string taskKey);

    [LoggerMessage(EventId = 702, Level = LogLevel.Information, Message = "comfyui prompt {PromptId} interrupted and removed from the queue")]
    public static partial void Interrupted(ILogger logger, string promptId);

    [LoggerMessage(EventId = 703, Level = LogLevel.Warning, Message = "could not interrupt comfyui prompt {PromptId}: {Reason}")]
    public static partial void InterruptFailed(ILogger logger, string promptId, string reason);

    [LoggerMessage(EventId = 704, Level = LogLevel.Warning, Message = "comfyui cannot run {Model}; the worker stops advertising it: {Reason}")]
    public static partial void Withheld(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 705, Level = LogLevel.Warning, Message = "comfyui at {BaseUrl} is unreachable; the worker reports itself unhealthy: {Reason}")]
    public static partial void Unreachable(ILogger logger, string baseUrl, string reason);

    [LoggerMessage(EventId = 706, Level = LogLevel.Information, Message = "comfyui at {BaseUrl} answers: {Gpus}")]
    public static partial void Reachable(ILogger logger, string baseUrl, string gpus);
}
