using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Tasks;

internal static partial class ExecutionLog
{
    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "worker {WorkerId}: attempt {Attempt} of {JobId}/{TaskId} attached to the execution started by attempt {StartedByAttempt} ({State})")]
    public static partial void Attached(ILogger logger, string workerId, string jobId, string taskId, int attempt, int startedByAttempt, string state);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "worker {WorkerId}: cancelling {JobId}/{TaskId} (started by attempt {StartedByAttempt}, running={Running}): {Reason}")]
    public static partial void Cancelling(ILogger logger, string workerId, string jobId, string taskId, int startedByAttempt, bool running, string reason);

    [LoggerMessage(EventId = 212, Level = LogLevel.Information, Message = "worker {WorkerId}: cancel of unknown task {JobId}/{TaskId}: {Reason}")]
    public static partial void CancelUnknown(ILogger logger, string workerId, string jobId, string taskId, string reason);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning, Message = "worker {WorkerId}: {JobId}/{TaskId} did not stop within 3 s of its cancel")]
    public static partial void CancelSlow(ILogger logger, string workerId, string jobId, string taskId);

    [LoggerMessage(EventId = 214, Level = LogLevel.Debug, Message = "worker {WorkerId}: kept result of {JobId}/{TaskId} expired")]
    public static partial void Expired(ILogger logger, string workerId, string jobId, string taskId);

    [LoggerMessage(EventId = 215, Level = LogLevel.Error, Message = "worker {WorkerId}: execution of {JobId}/{TaskId} crashed")]
    public static partial void Crashed(ILogger logger, Exception exception, string workerId, string jobId, string taskId);
}
