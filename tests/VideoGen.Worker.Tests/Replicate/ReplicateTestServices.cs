using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Catalog;
using VideoGen.TestDoubles;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models.Replicate;

namespace VideoGen.Worker.Tests.Replicate;

/// <summary>The Replicate provider wired as a worker wires it, against a stand-in, with fast polls and retries.</summary>
internal static class ReplicateTestServices
{
    /// <summary>
    /// A provider serving <paramref name="models"/> from <paramref name="standIn"/>; <paramref name="overrides"/> win over
    /// the defaults, <paramref name="extra"/> adds registrations. The options are validated before it returns.
    /// </summary>
    public static ServiceProvider Build(ReplicateStandIn standIn, string[] models, Dictionary<string, string?>? overrides = null, Action<IServiceCollection>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Replicate:BaseUrl"] = standIn.BaseUrl,
            ["Replicate:ApiToken"] = standIn.Options.ApiToken,
            ["Replicate:WaitSeconds"] = "1",
            ["Replicate:PollSeconds"] = "0.05",
            ["Replicate:PollMaxSeconds"] = "0.2",
            ["Replicate:RetryBaseSeconds"] = "0.05",
            ["Replicate:RetryMaxSeconds"] = "5",
            ["Replicate:RequestTimeoutSeconds"] = "30",
        };
        foreach (var (key, value) in overrides ?? [])
        {
            settings[key] = value;
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(ModelCatalog.Embedded());
        services.AddSingleton(FfmpegRunner.Silent);
        services.AddOptions<WorkerOptions>().Configure(o => o.Models = [.. models]);
        services.AddReplicateProvider();
        extra?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _ = provider.GetRequiredService<IOptions<ReplicateOptions>>().Value; // validation runs here
        return provider;
    }
}
