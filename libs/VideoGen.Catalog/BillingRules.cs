using System.Text.Json.Serialization;

namespace VideoGen.Catalog;

/// <summary>What a provider request is billed by, for one of its outcomes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BillingBasis>))]
public enum BillingBasis
{
    /// <summary>Not billed (Replicate: aborted predictions; provider errors where it says so).</summary>
    None,

    /// <summary>By what was produced: the model's <see cref="ModelSpec.PricePerSecondUsd"/> × seconds (per image, per character), as the worker reports it.</summary>
    Output,

    /// <summary>By the time the model ran: <see cref="BillingRules.RuntimePricePerSecondUsd"/> × the provider's <c>predict_time</c>.</summary>
    Runtime,
}

/// <summary>How a request ended, as far as billing cares.</summary>
public enum BilledOutcome
{
    Succeeded,
    Failed,
    Canceled,
    Aborted,
}

/// <summary>
/// A model's billing rules (models.json <c>"billing"</c>): what each outcome of a provider request costs. The
/// defaults are Replicate's for an official model priced by output: a succeeded prediction is billed by its output,
/// a canceled one for the time it ran (at the hardware's price), a failed or aborted one not at all.
/// </summary>
public sealed record BillingRules
{
    public BillingBasis Succeeded { get; init; } = BillingBasis.Output;

    public BillingBasis Canceled { get; init; } = BillingBasis.Runtime;

    public BillingBasis Failed { get; init; } = BillingBasis.None;

    public BillingBasis Aborted { get; init; } = BillingBasis.None;

    /// <summary>Price of one second of the model running (its hardware's), for <see cref="BillingBasis.Runtime"/>.</summary>
    public double RuntimePricePerSecondUsd { get; init; }

    /// <summary>
    /// What a request that ended with <paramref name="outcome"/> is billed: by output (<paramref name="outputCostUsd"/>,
    /// the worker's figure from the seconds produced, 0 when nothing was), by run time (<paramref name="predictSeconds"/>
    /// × <see cref="RuntimePricePerSecondUsd"/>), or nothing. Pure.
    /// </summary>
    public double Bill(BilledOutcome outcome, double predictSeconds, double outputCostUsd)
    {
        var basis = outcome switch
        {
            BilledOutcome.Succeeded => Succeeded,
            BilledOutcome.Failed => Failed,
            BilledOutcome.Canceled => Canceled,
            _ => Aborted,
        };
        return basis switch
        {
            BillingBasis.Output => Math.Max(0, outputCostUsd),
            BillingBasis.Runtime => Math.Max(0, predictSeconds) * RuntimePricePerSecondUsd,
            _ => 0,
        };
    }
}
