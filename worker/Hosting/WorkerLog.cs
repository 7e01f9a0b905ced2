using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Hosting;

internal static partial class WorkerLog
{
    /// <summary>The start-up line tests and scripts parse: <c>worker {id} listening grpc={url} http={url}</c>.</summary>
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "worker {WorkerId} listening grpc={GrpcAddress} http={HttpAddress}")]
    public static partial void Listening(ILogger logger, string workerId, string grpcAddress, string httpAddress);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "no worker token (Worker:Token, VIDEOGEN_WORKER_TOKEN): this worker takes RunTask and CancelTask from any caller; set the farm's token on a network")]
    public static partial void OpenToAnyCaller(ILogger logger);
}
