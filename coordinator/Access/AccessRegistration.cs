using Microsoft.Extensions.Options;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Services;

namespace VideoGen.Coordinator.Access;

public static class AccessRegistration
{
    /// <summary>
    /// API keys (<c>Coordinator:Auth</c>), the key interceptor on the client-facing services only (the job API and
    /// the key API; membership, health and reflection stay open), and tenant quotas (<c>Quotas</c>). Validated at start.
    /// </summary>
    public static IServiceCollection AddAccessControl(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>>(new MessageValidator<AuthOptions>(o => o.Validate()));
        services.AddSingleton<IValidateOptions<QuotaOptions>>(new MessageValidator<QuotaOptions>(o => o.Validate()));
        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.Section).ValidateOnStart();
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<IJobStore>() as IApiKeyStore
            ?? throw new InvalidOperationException("the job store does not keep API keys"));
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiKeyInterceptor>();
        services.AddSingleton<TenantQuotas>();
        services.AddGrpc()
            .AddServiceOptions<JobGrpcService>(o => o.Interceptors.Add<ApiKeyInterceptor>())
            .AddServiceOptions<KeyGrpcService>(o => o.Interceptors.Add<ApiKeyInterceptor>());
        return services;
    }

    /// <summary>Fails start-up with the options' own message (which names the key to fix).</summary>
    private sealed class MessageValidator<T>(Func<T, string?> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            validate(options) is { } message ? ValidateOptionsResult.Fail(message) : ValidateOptionsResult.Success;
    }
}
