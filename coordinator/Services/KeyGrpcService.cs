using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Services;

/// <summary>API keys: create (the key shown once), list, revoke. Admin keys only (enforced by <see cref="ApiKeyInterceptor"/>).</summary>
internal sealed partial class KeyGrpcService(IApiKeyStore keys, TimeProvider time, ILogger<KeyGrpcService> log) : KeyService.KeyServiceBase
{
    public override Task<CreateKeyResponse> CreateKey(CreateKeyRequest request, ServerCallContext context)
    {
        if (!PlanningLimits.IsTenantName(request.Tenant))
        {
            throw new RequestValidationException([new("tenant", $"must match [a-z0-9][a-z0-9_-]{{0,{PlanningLimits.MaxTenantLength - 1}}}; got '{InputText.Quote(request.Tenant)}'")]);
        }

        var role = request.Role switch
        {
            KeyRole.Unspecified or KeyRole.Client => KeyRoles.Client,
            KeyRole.Admin => KeyRoles.Admin,
            _ => throw new RequestValidationException([new("role", $"unknown key role value {(int)request.Role}")]),
        };
        var key = ApiKeyMaterial.NewKey();
        var record = new ApiKeyRecord(ApiKeyMaterial.NewKeyId(), ApiKeyMaterial.Hash(key), request.Tenant, role, time.GetUtcNow(), null);
        keys.AddKey(record);
        LogCreated(log, record.KeyId, record.Tenant, record.Role, Caller.Of(context).KeyId);
        return Task.FromResult(new CreateKeyResponse { Key = key, Info = ToInfo(record) });
    }

    public override Task<ListKeysResponse> ListKeys(ListKeysRequest request, ServerCallContext context)
    {
        var response = new ListKeysResponse();
        response.Keys.AddRange(keys.ListKeys(request.IncludeRevoked).Select(ToInfo));
        return Task.FromResult(response);
    }

    public override Task<RevokeKeyResponse> RevokeKey(RevokeKeyRequest request, ServerCallContext context)
    {
        InputText.RequireId("key_id", request.KeyId);
        var record = keys.RevokeKey(request.KeyId, time.GetUtcNow())
            ?? throw new NotFoundException($"key '{InputText.Quote(request.KeyId)}' not found");
        LogRevoked(log, record.KeyId, Caller.Of(context).KeyId);
        return Task.FromResult(new RevokeKeyResponse { Info = ToInfo(record) });
    }

    private static ApiKeyInfo ToInfo(ApiKeyRecord record) => new()
    {
        KeyId = record.KeyId,
        Tenant = record.Tenant,
        Role = record.Role == KeyRoles.Admin ? KeyRole.Admin : KeyRole.Client,
        CreatedAt = Timestamp.FromDateTimeOffset(record.CreatedAt),
        RevokedAt = record.RevokedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
    };

    [LoggerMessage(1, LogLevel.Information, "api key {KeyId} created for tenant {Tenant}, role {Role}, by {By}")]
    private static partial void LogCreated(ILogger logger, string keyId, string tenant, string role, string by);

    [LoggerMessage(2, LogLevel.Information, "api key {KeyId} revoked by {By}")]
    private static partial void LogRevoked(ILogger logger, string keyId, string by);
}
