using Microsoft.Extensions.DependencyInjection;
using VideoGen.Catalog;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Models;

namespace VideoGen.Worker.Tests;

/// <summary>Worker:Coordinator: one coordinator or an ordered list of them (the first reachable is joined).</summary>
public sealed class WorkerOptionsTests
{
    private static IEnumerable<string> Failures(string coordinator)
    {
        using var services = new ServiceCollection().AddSingleton<IModelProvider>(new ProceduralModelProvider(null!, null!)).BuildServiceProvider();
        var result = new WorkerOptionsValidator(ModelCatalog.Embedded(), services).Validate(null, new WorkerOptions { Coordinator = coordinator });
        return (result.Failures ?? []).Where(f => f.StartsWith("Worker:Coordinator", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1:7070")]
    [InlineData("http://10.0.0.1:7070,http://10.0.0.2:7070")]
    [InlineData("https://a.farm:7070, https://b.farm:7070")]
    public void OneOrSeveralCoordinators_AreValid(string coordinator) => Assert.Empty(Failures(coordinator));

    [Theory]
    [InlineData("127.0.0.1:7070", "must be an http(s) URL")]
    [InlineData("http://a:1,ftp://b:2", "must be an http(s) URL")]
    [InlineData("http://a:1,", "must be an http(s) URL")]
    [InlineData("http://a:1,https://b:2", "use one scheme")]
    public void BadCoordinator_IsRefused_SayingWhy(string coordinator, string why) => Assert.Contains(Failures(coordinator), f => f.Contains(why));
}
