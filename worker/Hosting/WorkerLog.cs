using Microsoft.Extensions.Logging;

namespace VideoGen.Worker.Hosting;

internal static partial class WorkerLog
{
    /// <summary>The start-up line tests and scripts parse: <c>worker {id} listening grpc={url} http={url}</c>.</summary>
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "worker {WorkerId} listening grpc={GrpcAddress} http={HttpAddress}")]
    public static partial void Listening(ILogger logger, string workerId, string grpcAddress, string httpAddress);
}
