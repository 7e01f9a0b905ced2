using System.Text.Json;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// The coordinator's web page in a real browser: tests/support/browser/page-test.js drives Debian's headless chromium
/// (playwright-core) against a real local farm. Its screenshots are kept in artifacts/test-outputs/browser/.
/// </summary>
public sealed class WebPageBrowserTests
{
    [Fact]
    public async Task Page_SubmitsWithEstimate_BarsReachDone_VideoPlays_CancelWorks_FieldErrorsShow()
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "support", "browser", "page-test.js");
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "tests", "support", "browser", "node_modules", "playwright-core", "package.json")),
            "playwright-core is not installed: run deploy/local/test.sh (npm ci in tests/support/browser)");
        Assert.True(File.Exists("/usr/bin/chromium"), "chromium is not installed: run deploy/local/test.sh (apt chromium)");

        await using var farm = await LocalFarm.StartAsync("browser", new FarmOptions
        {
            Workers = 2,
            // Model calls take a second: the second job is still running when the page cancels it.
            Worker = _ => new() { ["Procedural:LatencySeconds"] = "1" },
        });
        var outputs = Path.Combine(RepoPaths.Root, "artifacts", "test-outputs", "browser", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
        await using var node = ServerProcess.Start("browser", "node",
            [script, "--url", farm.CoordinatorHttpAddress.TrimEnd('/') + "/", "--out", outputs, "--timeout-seconds", "540"],
            Path.Combine(farm.Directory, "browser.log"), environment: farm.ClientEnvironment);

        var exit = await node.WaitForExitAsync(TimeSpan.FromMinutes(10));

        var last = node.Lines.LastOrDefault(l => l.StartsWith('{')) ?? "{}";
        Assert.True(exit == 0, $"browser test exited {exit} (screenshots in {outputs}):\n{node.Output}\n{farm.Logs()}");
        using var summary = JsonDocument.Parse(last);
        var root = summary.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.InRange(root.GetProperty("duration").GetDouble(), 11.9, 12.1);
        Assert.True(root.GetProperty("currentTime").GetDouble() > 1.5);
        Assert.Contains("job.prompt", root.GetProperty("promptError").GetString());
        Assert.Contains("job.duration_seconds", root.GetProperty("durationError").GetString());
        Assert.Empty(root.GetProperty("pageErrors").EnumerateArray());

        var done = await farm.GetJobAsync(root.GetProperty("jobId").GetString()!);
        Assert.Equal(Contracts.V1.JobState.Succeeded, done.State);
        Assert.Equal(done.Tasks.Count, root.GetProperty("tasks").GetInt32());
        var cancelled = await farm.GetJobAsync(root.GetProperty("cancelledId").GetString()!);
        Assert.Equal(Contracts.V1.JobState.Cancelled, cancelled.State);
        foreach (var shot in new[] { "1-bad-prompt.png", "2-estimate.png", "3-video-playing.png", "4-cancelled.png" })
        {
            Assert.True(new FileInfo(Path.Combine(outputs, shot)).Length > 1000, $"screenshot {shot} missing");
        }
    }
}
