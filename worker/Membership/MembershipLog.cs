using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Membership;

internal static partial class MembershipLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "worker {WorkerId} joined as {Address}; heartbeat every {Interval:0.###} s")]
    public static partial void Joined(ILogger logger, string workerId, string address, double interval);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "join failed (attempt {Attempt}); retrying in {Delay:0.###} s: {Reason}")]
    public static partial void JoinFailed(ILogger logger, int attempt, double delay, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "heartbeat answered {Outcome}; joining again")]
    public static partial void Rejoining(ILogger logger, HeartbeatOutcome outcome);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "heartbeat failed: {Reason}")]
    public static partial void HeartbeatFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "worker {WorkerId} left the farm")]
    public static partial void Left(ILogger logger, string workerId);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "leave failed: {Reason}")]
    public static partial void LeaveFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 406, Level = LogLevel.Information, Message = "membership disabled (Worker:Membership=none)")]
    public static partial void Disabled(ILogger logger);
}
