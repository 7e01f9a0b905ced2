using Microsoft.Extensions.Options;

namespace VideoGen.Coordinator.Planning.Llm;

/// <summary>Registers the <see cref="IJobPlanner"/> that <c>Planner:Kind</c> names, with its options validated at start-up.</summary>
public static class PlannerRegistration
{
    public static IServiceCollection AddJobPlanner(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<PlannerOptions>, PlannerOptionsValidator>();
        services.AddOptions<PlannerOptions>().BindConfiguration(PlannerOptions.Section)
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(o.ApiKey))
                {
                    o.ApiKey = configuration["OPENAI_API_KEY"] ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY");
                }
            })
            .ValidateOnStart();

        var kind = configuration[$"{PlannerOptions.Section}:{nameof(PlannerOptions.Kind)}"];
        if (string.Equals(kind, PlannerOptions.OpenAiKind, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<IJobPlanner, OpenAiPlanner>();
        }
        else
        {
            services.AddSingleton<IJobPlanner, RulesOnlyPlanner>();
        }

        return services;
    }
}
