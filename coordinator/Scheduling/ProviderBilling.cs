using VideoGen.Catalog;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// What an attempt cost, as the provider bills it: the model's billing rules from the catalog (<see cref="BillingRules"/>)
/// applied to the provider's report of the request (<see cref="ProviderUsage"/>: how it ended, how long it ran). An
/// attempt without a report (a local model, or a worker from before the report) costs what the worker said. Pure.
/// </summary>
public static class ProviderBilling
{
    /// <summary>
    /// The billed cost of an attempt of <paramref name="model"/> whose request ended as <paramref name="usage"/> says;
    /// <paramref name="workerCostUsd"/> is the worker's figure from what it produced (the output-priced bill).
    /// </summary>
    public static double AttemptCost(ModelCatalog catalog, string model, ProviderUsage? usage, double workerCostUsd)
    {
        if (usage is null || usage.Outcome == ProviderOutcome.Unspecified || !catalog.Models.TryGetValue(model, out var spec))
        {
            return workerCostUsd;
        }

        return spec.Billing.Bill(Outcome(usage.Outcome), usage.PredictSeconds, workerCostUsd);
    }

    /// <summary>Why a billed attempt produced nothing, as the wasted-spend metric's reason label (bounded).</summary>
    public static string WasteReason(ProviderOutcome outcome, bool jobEnded) => outcome switch
    {
        _ when jobEnded => "job_ended",
        ProviderOutcome.Failed => "provider_failed",
        ProviderOutcome.Canceled => "canceled",
        ProviderOutcome.Aborted => "aborted",
        _ => "other",
    };

    private static BilledOutcome Outcome(ProviderOutcome outcome) => outcome switch
    {
        ProviderOutcome.Succeeded => BilledOutcome.Succeeded,
        ProviderOutcome.Failed => BilledOutcome.Failed,
        ProviderOutcome.Canceled => BilledOutcome.Canceled,
        _ => BilledOutcome.Aborted,
    };
}
