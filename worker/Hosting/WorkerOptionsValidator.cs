using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.Worker.Models;
using VideoGen.Worker.Storage;

namespace VideoGen.Worker.Hosting;

/// <summary>Start-up checks of the worker's configuration, each failure naming its key.</summary>
/// <remarks>
/// The model providers are resolved when validating, not in the constructor: a provider's own options validator may
/// read <see cref="WorkerOptions"/> (which models are served), and a constructor dependency would be a DI cycle.
/// </remarks>
public sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    private readonly ModelCatalog _catalog;
    private readonly IServiceProvider _services;

    public WorkerOptionsValidator(ModelCatalog catalog, IServiceProvider services)
    {
        _catalog = catalog;
        _services = services;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Id))
        {
            failures.Add("Worker:Id must not be empty.");
        }

        if (options.Slots < 1)
        {
            failures.Add($"Worker:Slots must be at least 1, got {options.Slots}.");
        }

        // One coordinator, or several separated by commas (the first reachable is joined; see CoordinatorChannel).
        var coordinators = options.Coordinator.Split(',', StringSplitOptions.TrimEntries);
        if (coordinators.Any(c => !Uri.TryCreate(c, UriKind.Absolute, out var coordinator) || coordinator.Scheme is not ("http" or "https")))
        {
            failures.Add($"Worker:Coordinator must be an http(s) URL or a comma-separated list of them, got '{options.Coordinator}'.");
        }
        else if (coordinators.Select(c => new Uri(c).Scheme).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            failures.Add($"Worker:Coordinator lists http:// and https:// coordinators; use one scheme, got '{options.Coordinator}'.");
        }

        if (options.Membership is not ("direct" or "consul" or "none"))
        {
            failures.Add($"Worker:Membership must be 'direct', 'consul' or 'none', got '{options.Membership}'.");
        }

        if (!Media.Finisher.Presets.Contains(options.FinishPreset))
        {
            failures.Add($"Worker:FinishPreset must be an x264 preset ({string.Join(", ", Media.Finisher.Presets)}), got '{options.FinishPreset}'.");
        }

        if (options.HeartbeatSeconds is <= 0)
        {
            failures.Add($"Worker:HeartbeatSeconds must be greater than 0 when set, got {options.HeartbeatSeconds}.");
        }

        if (options.ResultRetentionSeconds is < 0 or > 86_400 || double.IsNaN(options.ResultRetentionSeconds))
        {
            failures.Add($"Worker:ResultRetentionSeconds must be between 0 and 86400, got {options.ResultRetentionSeconds}.");
        }

        foreach (var (key, url, secure) in new[] { ("Worker:GrpcUrl", options.GrpcUrl, options.Tls.Serves), ("Worker:HttpUrl", options.HttpUrl, false) })
        {
            try
            {
                KestrelListenPlan.ParseListenUrl(url, key, secure);
            }
            catch (InvalidOperationException ex)
            {
                failures.Add(ex.Message);
            }
        }

        try
        {
            options.Tls.Validate("Worker:Tls");
        }
        catch (InvalidOperationException ex)
        {
            failures.Add(ex.Message);
        }

        if (options.Models.Count == 0)
        {
            failures.Add("Worker:Models is empty and the catalog has no procedural model to default to.");
        }

        var byName = _services.GetServices<IModelProvider>().ToDictionary(p => p.Name, StringComparer.Ordinal);
        var providers = byName.Keys;
        foreach (var model in options.Models)
        {
            if (!_catalog.Models.TryGetValue(model, out var spec))
            {
                failures.Add($"Worker:Models names '{model}', which is not in the model catalog ({string.Join(", ", _catalog.Models.Keys)}).");
            }
            else if (!byName.TryGetValue(spec.Provider, out var provider))
            {
                failures.Add($"Worker:Models names '{model}' of provider '{spec.Provider}', which this worker build does not have (available: {string.Join(", ", providers)}).");
            }
            else if (spec.Kind == Models.ModelRegistry.UpscalerKind && !provider.ServesUpscalers)
            {
                failures.Add($"Worker:Models names upscaler '{model}' of provider '{spec.Provider}', which runs no upscalers.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Start-up checks of storage and procedural-model settings.</summary>
public sealed class SupportOptionsValidator : IValidateOptions<StorageOptions>, IValidateOptions<ProceduralOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, StorageOptions options) =>
        StorageOptionsValidation.Validate(options) is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ProceduralOptions options)
    {
        var failures = new List<string>();
        if (options.FailureMode is not ("none" or "transient" or "permanent" or "bad_seam"))
        {
            failures.Add($"Procedural:FailureMode must be none, transient, permanent or bad_seam, got '{options.FailureMode}'.");
        }

        if (options.LatencySeconds < 0)
        {
            failures.Add($"Procedural:LatencySeconds must not be negative, got {options.LatencySeconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
