using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Services;

/// <summary>Direct membership: validates and hands workers' join/heartbeat/leave to the orchestrator.</summary>
internal sealed class MembershipGrpcService(Orchestrator orchestrator) : MembershipService.MembershipServiceBase
{
    public override Task<JoinResponse> Join(JoinRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        try
        {
            InputText.RequireId("worker_id", request.WorkerId);
        }
        catch (RequestValidationException v)
        {
            violations.AddRange(v.Violations);
        }

        if (!Uri.TryCreate(request.Address, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            violations.Add(new("address", $"must be an http(s) URL; got '{InputText.Quote(request.Address)}'"));
        }

        if (request.Models.Count == 0)
        {
            violations.Add(new("models", "must name at least one model"));
        }

        if (request.Slots <= 0)
        {
            violations.Add(new("slots", "must be > 0"));
        }

        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        return orchestrator.JoinAsync(request);
    }

    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        InputText.RequireId("worker_id", request.WorkerId);
        return new() { Known = await orchestrator.HeartbeatAsync(request) };
    }

    public override async Task<LeaveResponse> Leave(LeaveRequest request, ServerCallContext context)
    {
        InputText.RequireId("worker_id", request.WorkerId);
        await orchestrator.LeaveAsync(request.WorkerId);
        return new LeaveResponse();
    }
}
