using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Makes a job's plan once it is accepted. The request was already validated and planned by the
/// <see cref="RuleBasedPlanner"/>; a planner may refine that plan (an LLM spec) and must fall back to
/// it, recording why in <c>Spec.planner_note</c>, rather than fail the job.
/// </summary>
public interface IJobPlanner
{
    Task<Plan> PlanAsync(JobRequest request, Plan rulesPlan, CancellationToken cancellationToken);
}

/// <summary>The embedded default: the rule-based plan as it is.</summary>
public sealed class RulesOnlyPlanner : IJobPlanner
{
    public Task<Plan> PlanAsync(JobRequest request, Plan rulesPlan, CancellationToken cancellationToken) => Task.FromResult(rulesPlan);
}
