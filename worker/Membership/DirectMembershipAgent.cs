using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Models.ComfyUi;

namespace VideoGen.Worker.Membership;

/// <summary>Joins the coordinator directly through its MembershipService (membership.proto).</summary>
public sealed class DirectMembershipAgent : IMembershipAgent, IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly GrpcChannel _channel;
    private readonly MembershipService.MembershipServiceClient _client;
    private readonly Metadata? _headers;
    private readonly GpuServerState? _gpuServer;

    public DirectMembershipAgent(IOptions<WorkerOptions> options, GpuServerState? gpuServer = null)
    {
        _gpuServer = gpuServer;
        // The channel's own reconnect backoff starts at 1 s by default: a worker started beside its coordinator would
        // wait for it although the coordinator listens a moment later. MembershipLoop owns the join's backoff.
        // Worker:Coordinator may list several coordinators: the first reachable is joined, and one that goes down is
        // passed over for the next (pick-first); MembershipLoop joins again when a heartbeat finds the worker unknown.
        _channel = VideoGen.Security.CoordinatorChannel.Create(options.Value.Coordinator, new GrpcChannelOptions
        {
            // An https:// coordinator is verified against Worker:Tls:CaFile (else the system's roots).
            HttpHandler = options.Value.Tls.ConfigureClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true }),
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(100),
            MaxReconnectBackoff = JoinBackoff.Cap,
        });
        _client = new MembershipService.MembershipServiceClient(_channel);
        var token = VideoGen.Security.WorkerToken.Resolve(options.Value.Token);
        _headers = token.Length == 0 ? null : new Metadata { { VideoGen.Security.WorkerToken.Header, VideoGen.Security.WorkerToken.HeaderValue(token) } };
    }

    /// <inheritdoc />
    public async Task<MembershipTerms> JoinAsync(WorkerRegistration registration, CancellationToken cancellationToken)
    {
        var response = await _client.JoinAsync(
            new JoinRequest
            {
                WorkerId = registration.WorkerId,
                Address = registration.Address,
                Models = { registration.Models },
                Slots = registration.Slots,
                Gpus = { registration.Gpus },
                Version = registration.Version,
                Resources = _gpuServer?.ToProto(),
            },
            _headers,
            deadline: DateTime.UtcNow + CallTimeout,
            cancellationToken: cancellationToken);
        var interval = response.HeartbeatIntervalSeconds > 0 ? response.HeartbeatIntervalSeconds : 2;
        var lease = response.LeaseSeconds > 0 ? response.LeaseSeconds : interval * 3;
        return new MembershipTerms(TimeSpan.FromSeconds(interval), TimeSpan.FromSeconds(lease));
    }

    /// <inheritdoc />
    public async Task<HeartbeatOutcome> HeartbeatAsync(string workerId, bool draining, int runningTasks, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.HeartbeatAsync(
                new HeartbeatRequest { WorkerId = workerId, Draining = draining, RunningTasks = runningTasks, Resources = _gpuServer?.ToProto() },
                _headers,
                deadline: DateTime.UtcNow + CallTimeout,
                cancellationToken: cancellationToken);
            return response.Known ? HeartbeatOutcome.Known : HeartbeatOutcome.Unknown;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return HeartbeatOutcome.Unreachable;
        }
    }

    /// <inheritdoc />
    public async Task LeaveAsync(string workerId, CancellationToken cancellationToken) =>
        await _client.LeaveAsync(new LeaveRequest { WorkerId = workerId }, _headers, cancellationToken: cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();
}
