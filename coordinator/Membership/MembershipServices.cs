using Microsoft.Extensions.Options;
using VideoGen.Consul;

namespace VideoGen.Coordinator.Membership;

/// <summary>How workers become members (configuration section <c>Membership</c>).</summary>
public sealed class MembershipOptions
{
    public const string Section = "Membership";

    /// <summary><c>direct</c>: workers join through the MembershipService and heartbeat; <c>consul</c>: the coordinator
    /// follows the healthy instances of <c>Consul:ServiceName</c> and registers itself (section <c>Consul</c>). The
    /// MembershipService stays served in both modes.</summary>
    public string Mode { get; set; } = "direct";
}

/// <summary>Wires membership by <c>Membership:Mode</c>.</summary>
public static class MembershipServices
{
    /// <summary>Validates <c>Membership:Mode</c>; in <c>consul</c> mode adds the Consul client, the worker follower and the coordinator's registration (after the orchestrator, so they stop before it).</summary>
    public static IServiceCollection AddMembership(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MembershipOptions>()
            .BindConfiguration(MembershipOptions.Section)
            .Validate(o => o.Mode is "direct" or "consul", "Membership:Mode must be 'direct' or 'consul'.")
            .ValidateOnStart();
        if (!string.Equals(configuration["Membership:Mode"], "consul", StringComparison.Ordinal))
        {
            return services;
        }

        services.AddOptions<ConsulOptions>().BindConfiguration(ConsulOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsulOptions>, ConsulOptionsValidator>();
        services.AddSingleton<IConsulClient>(sp => new ConsulClient(sp.GetRequiredService<IOptions<ConsulOptions>>().Value));
        services.AddSingleton<ConsulWorkerFollower>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsulWorkerFollower>());
        services.AddHostedService<ConsulCoordinatorRegistration>();
        return services;
    }

    private sealed class ConsulOptionsValidator : IValidateOptions<ConsulOptions>
    {
        public ValidateOptionsResult Validate(string? name, ConsulOptions options) =>
            options.Validate() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
