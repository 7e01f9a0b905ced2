using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VideoGen.Consul;

namespace VideoGen.Worker.Membership;

/// <summary>Wires <c>Worker:Membership=consul</c>: the Consul options (section <c>Consul</c>), the client and the agent.</summary>
public static class ConsulMembershipServices
{
    public static IServiceCollection AddConsulMembership(this IServiceCollection services)
    {
        services.AddOptions<ConsulOptions>().BindConfiguration(ConsulOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsulOptions>, ConsulOptionsValidator>();
        services.TryAddSingleton<IConsulClient>(sp => new ConsulClient(sp.GetRequiredService<IOptions<ConsulOptions>>().Value));
        services.TryAddSingleton<IMembershipAgent, ConsulMembershipAgent>();
        return services;
    }

    private sealed class ConsulOptionsValidator : IValidateOptions<ConsulOptions>
    {
        public ValidateOptionsResult Validate(string? name, ConsulOptions options) =>
            options.Validate() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
