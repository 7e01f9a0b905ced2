using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Hosting;

namespace VideoGen.Worker.Membership;

/// <summary>Joins the coordinator directly through its MembershipService (membership.proto).</summary>
public sealed class DirectMembershipAgent : IMembershipAgent, IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly GrpcChannel _channel;
    private readonly MembershipService.MembershipServiceClient _client;

    public DirectMembershipAgent(IOptions<WorkerOptions> options)
    {
        // The channel's own reconnect backoff starts at 1 s by default: a worker started beside its coordinator would
        // wait for it although the coordinator listens a moment later. MembershipLoop owns the join's backoff.
        _channel = GrpcChannel.ForAddress(options.Value.Coordinator, new GrpcChannelOptions
        {
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(100),
            MaxReconnectBackoff = JoinBackoff.Cap,
        });
        _client = new MembershipService.MembershipServiceClient(_channel);
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
            },
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
                new HeartbeatRequest { WorkerId = workerId, Draining = draining, RunningTasks = runningTasks },
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
        await _client.LeaveAsync(new LeaveRequest { WorkerId = workerId }, cancellationToken: cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();
}
