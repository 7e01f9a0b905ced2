using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Services;

/// <summary>Direct membership: validates and hands workers' join/heartbeat/leave to the orchestrator.</summary>
internal sealed partial class MembershipGrpcService(
    Orchestrator orchestrator,
    Membership.WorkerAddressPolicy addresses,
    Membership.WorkerAdmission admission,
    IFarmMetrics metrics,
    Microsoft.Extensions.Logging.ILogger<MembershipGrpcService> logger) : MembershipService.MembershipServiceBase
{
    public override Task<JoinResponse> Join(JoinRequest request, ServerCallContext context)
    {
        admission.Require(context, request.WorkerId);
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

        if (request.Models.Count is 0 or > MaxModels)
        {
            violations.Add(new("models", $"must name 1 to {MaxModels} models; got {request.Models.Count}"));
        }

        for (var i = 0; i < request.Models.Count && i < MaxModels; i++)
        {
            if (!IsName(request.Models[i]))
            {
                violations.Add(new($"models[{i}]", $"must be 1-128 of letters, digits and . _ : - ; got '{InputText.Quote(request.Models[i])}'"));
            }
        }

        if (request.Slots is <= 0 or > MaxSlots)
        {
            violations.Add(new("slots", $"must be 1 to {MaxSlots}; got {request.Slots}"));
        }

        if (request.Gpus.Count > MaxGpus || request.Gpus.Any(g => g.Length > 200 || g.Any(char.IsControl)))
        {
            violations.Add(new("gpus", $"at most {MaxGpus} entries of at most 200 printable characters"));
        }

        if (request.Version.Length > 64 || request.Version.Any(char.IsControl))
        {
            violations.Add(new("version", "at most 64 printable characters"));
        }

        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        if (!addresses.Allows(request.Address, out var reason))
        {
            metrics.WorkerRefused("address");
            if (addresses.FirstRefusal($"{request.WorkerId} {request.Address}"))
            {
                AddressRefused(logger, request.WorkerId, InputText.Quote(request.Address), reason);
            }

            throw new AccessDeniedException($"address: '{InputText.Quote(request.Address)}' {reason}");
        }

        return orchestrator.JoinAsync(request);
    }

    private const int MaxModels = 64;
    private const int MaxSlots = 256;
    private const int MaxGpus = 16;

    private static bool IsName(string value) =>
        value.Length is > 0 and <= InputText.MaxIdLength && value is not ("." or "..") && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        admission.Require(context, request.WorkerId);
        InputText.RequireId("worker_id", request.WorkerId);
        if (request.RunningTasks < 0)
        {
            throw new RequestValidationException([new("running_tasks", $"must be >= 0; got {request.RunningTasks}")]);
        }

        return new() { Known = await orchestrator.HeartbeatAsync(request) };
    }

    public override async Task<LeaveResponse> Leave(LeaveRequest request, ServerCallContext context)
    {
        admission.Require(context, request.WorkerId);
        InputText.RequireId("worker_id", request.WorkerId);
        await orchestrator.LeaveAsync(request.WorkerId);
        return new LeaveResponse();
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 40, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "worker={WorkerId} refused: its address {Address} {Reason}")]
    private static partial void AddressRefused(Microsoft.Extensions.Logging.ILogger logger, string workerId, string address, string reason);
}
