using VideoGen.Errors;

namespace VideoGen.Coordinator.Planning;

// FieldViolation and RequestValidationException (INVALID_ARGUMENT with google.rpc.BadRequest) live in libs/VideoGen.Errors,
// shared with the workers' server.

/// <summary>A job whose estimate exceeds its budget; RESOURCE_EXHAUSTED (<see cref="ErrorMapping"/>).</summary>
public sealed class BudgetExceededException(double estimateUsd, double budgetUsd)
    : ResourceExhaustedException($"job.max_cost_usd: the estimate ${estimateUsd:0.00} exceeds the budget ${budgetUsd:0.00}")
{
    public double EstimateUsd { get; } = estimateUsd;
    public double BudgetUsd { get; } = budgetUsd;
}

/// <summary>Limits the API enforces.</summary>
public static class PlanningLimits
{
    public const int MaxPromptLength = 4000;
    public const double MaxDurationSeconds = 600;
    public const int MaxRequestIdLength = 128;
    public const int MaxTenantLength = 64;
    public const int MaxPriority = 100;

    /// <summary>A character a person sees: not white space, not a control or format character.</summary>
    public static bool IsVisible(char c) =>
        !char.IsWhiteSpace(c) && !char.IsControl(c) && char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.OtherNotAssigned);

    /// <summary>Tenant names: <c>[a-z0-9][a-z0-9_-]{0,63}</c> (they name folders, metric labels and log fields).</summary>
    public static bool IsTenantName(string tenant) =>
        tenant.Length is > 0 and <= MaxTenantLength
        && (char.IsAsciiLetterLower(tenant[0]) || char.IsAsciiDigit(tenant[0]))
        && tenant.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-');
}
