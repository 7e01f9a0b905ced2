namespace VideoGen.Coordinator.Planning;

/// <summary>
/// The budget rule, in one place for the submit check, the planner's estimate and the running
/// job's guard: a cost exceeds a budget only beyond a rounding tolerance, so a job planned to
/// cost exactly its budget (a sum of float prices) is not refused.
/// </summary>
public static class Budget
{
    /// <summary>US dollars of floating-point rounding forgiven.</summary>
    public const double ToleranceUsd = 1e-9;

    public static bool Exceeds(double costUsd, double budgetUsd) => costUsd > budgetUsd + ToleranceUsd;
}
