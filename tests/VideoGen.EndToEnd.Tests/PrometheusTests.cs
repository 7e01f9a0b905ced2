using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue #7: the metrics, the Prometheus rules and the Grafana dashboard in deploy/ against a real
/// Prometheus server scraping a real farm.
/// </summary>
public sealed class PrometheusTests(ITestOutputHelper output)
{
    private static readonly string PrometheusDir = Path.Combine(RepoPaths.Root, "deploy", "prometheus");
    private static readonly string GrafanaDir = Path.Combine(RepoPaths.Root, "deploy", "grafana");
    private static readonly string[] RuleFiles = [Path.Combine(PrometheusDir, "rules.yml"), Path.Combine(PrometheusDir, "alerts.yml")];

    /// <summary>Grafana's built-in variables, as a dashboard over the last few minutes would set them.</summary>
    private static readonly (string Name, string Value)[] GrafanaVariables =
        [("$__rate_interval", "1m"), ("$__interval", "15s"), ("$__range", "5m")];

    [Fact]
    public async Task Promtool_AcceptsTheDeployConfigsAndRules_AndTheDashboardUsesTheProvisionedDatasource()
    {
        var config = await RunAsync("promtool", ["check", "config", Path.Combine(PrometheusDir, "prometheus.yml")]);
        Assert.True(config.Code == 0, $"promtool check config prometheus.yml:\n{config.Output}");
        Assert.Contains("SUCCESS", config.Output);

        var rules = await RunAsync("promtool", ["check", "rules", .. RuleFiles]);
        Assert.True(rules.Code == 0, $"promtool check rules:\n{rules.Output}");
        Assert.Equal(RuleFiles.Length, Regex.Matches(rules.Output, @"SUCCESS: \d+ rules found").Count);

        // The Consul variant: Debian's Prometheus build disables Consul service discovery, so its promtool
        // refuses consul_sd_configs and nothing else; everything else is checked with a file_sd stand-in.
        var consulPath = Path.Combine(PrometheusDir, "prometheus-consul.yml");
        var consul = await RunAsync("promtool", ["check", "config", consulPath]);
        if (consul.Code != 0)
        {
            var errors = Regex.Matches(consul.Output, @"line \d+: .*").Select(m => m.Value).ToList();
            Assert.True(errors.Count > 0 && errors.All(e => e.Contains("field consul_sd_configs not found", StringComparison.Ordinal)), consul.Output);
            var text = await File.ReadAllTextAsync(consulPath);
            Assert.Contains("services: [\"videogen-worker\"]", text);
            Assert.Contains("services: [\"videogen-coordinator\"]", text);
            Assert.Contains("__meta_consul_service_metadata_metrics_port", text);
            var standIn = Regex.Replace(text, @"consul_sd_configs:\n\s+- server: .*\n\s+services: .*\n", "file_sd_configs:\n      - files: [standin.json]\n");
            Assert.DoesNotContain("consul_sd_configs", standIn);
            var copy = RepoPaths.NewTempDirectory("promtool");
            foreach (var file in RuleFiles)
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            await File.WriteAllTextAsync(Path.Combine(copy, "prometheus-consul.yml"), standIn);
            consul = await RunAsync("promtool", ["check", "config", Path.Combine(copy, "prometheus-consul.yml")]);
            output.WriteLine("prometheus-consul.yml: this promtool has no Consul SD; checked with a file_sd stand-in");
        }

        Assert.True(consul.Code == 0, $"promtool check config prometheus-consul.yml:\n{consul.Output}");

        // Every panel and target of the dashboard uses the datasource uid that provisioning creates.
        var uids = Directory.GetFiles(Path.Combine(GrafanaDir, "provisioning", "datasources"), "*.yml")
            .SelectMany(File.ReadAllLines)
            .Select(l => Regex.Match(l, @"^\s*uid:\s*(\S+)"))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.NotEmpty(uids);
        var dashboards = Directory.GetFiles(Path.Combine(GrafanaDir, "dashboards"), "*.json");
        Assert.NotEmpty(dashboards);
        foreach (var dashboard in dashboards)
        {
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(dashboard));
            foreach (var panel in Panels(json.RootElement).Where(p => p.GetProperty("type").GetString() != "row"))
            {
                Assert.Contains(panel.GetProperty("datasource").GetProperty("uid").GetString()!, uids);
                Assert.All(panel.GetProperty("targets").EnumerateArray(), t => Assert.Contains(t.GetProperty("datasource").GetProperty("uid").GetString()!, uids));
            }
        }
    }

    [Fact]
    public async Task RealPrometheus_ScrapingAFarm_AnswersEveryPanelAndRule_AndTheCostMetricEqualsTheJobsCost()
    {
        var stopwatch = Stopwatch.StartNew();
        var directory = RepoPaths.NewTempDirectory("prometheus");

        // A catalog whose procedural video model costs money, so the cost metric has something to add up.
        var catalog = Path.Combine(directory, "models.json");
        await File.WriteAllTextAsync(catalog, """
            {
              "defaultModel": "procedural-i2v",
              "models": [
                { "name": "procedural-i2v", "provider": "procedural", "kind": "video", "clipSeconds": 5, "width": 854, "height": 480, "fps": 24,
                  "pricePerSecondUsd": 0.01, "takesImage": true, "expectedLatencySeconds": 2 },
                { "name": "procedural-image", "provider": "procedural", "kind": "image", "width": 854, "height": 480,
                  "pricePerSecondUsd": 0, "takesImage": false, "expectedLatencySeconds": 0.3 }
              ]
            }
            """);
        await using var farm = await LocalFarm.StartAsync("prom-farm", new FarmOptions
        {
            Workers = 2,
            Coordinator = new() { ["Coordinator:ModelCatalogPath"] = catalog },
            Worker = _ => new() { ["ModelCatalog:Path"] = catalog },
        });
        var workerTargets = new List<string>();
        foreach (var worker in farm.Workers)
        {
            var line = await worker.WaitForLineAsync(@"listening grpc=\S+ http=(\S+)", TimeSpan.FromSeconds(10));
            workerTargets.Add(new Uri(line.Groups[1].Value).Authority);
        }

        await using var prometheus = await PrometheusServer.StartAsync(
            Path.Combine(directory, "prometheus"),
            new Dictionary<string, IReadOnlyList<string>>
            {
                ["videogen-coordinator"] = [new Uri(farm.CoordinatorHttpAddress).Authority],
                ["videogen-worker"] = workerTargets,
            },
            RuleFiles);
        await WaitForAsync(async () => await prometheus.ScalarAsync("sum(up)") == 3, TimeSpan.FromSeconds(30),
            "Prometheus never scraped all three targets", prometheus);
        output.WriteLine($"farm and Prometheus up after {stopwatch.Elapsed.TotalSeconds:0.0} s");

        // Two short jobs at once, and one refused over its budget.
        var jobs = await Task.WhenAll(
            farm.RunAsync("A 10 second product showcase for a titanium smartwatch", timeout: TimeSpan.FromMinutes(2)),
            farm.RunAsync("A 5 second announcement of a new coffee shop opening", timeout: TimeSpan.FromMinutes(2)));
        Assert.All(jobs, j => Assert.True(j.State == JobState.Succeeded, $"job {j.JobId} ended {j.State}: {j.Error}\n{farm.Logs()}"));
        var refused = await Assert.ThrowsAsync<RpcException>(() => farm.SubmitAsync("A 10 second product showcase for a titanium smartwatch", r => r.MaxCostUsd = 0.001));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        output.WriteLine($"jobs done after {stopwatch.Elapsed.TotalSeconds:0.0} s");

        // Wait until Prometheus has a scrape of every target taken after both jobs ended. Targets are scraped
        // independently: the worker that made a chunk may be scraped last before its counters moved even
        // though the stitch worker's scrape already shows the job done, so wait for the chunk workers' own
        // counters too (the assertions below then compare the values).
        var apiCost = jobs.Sum(j => j.CostUsd);
        var chunkCount = jobs.SelectMany(j => j.Tasks).Count(t => t.Kind == TaskKind.Chunk);
        await WaitForAsync(async () => await prometheus.ScalarAsync("sum(videogen_jobs_finished_total{outcome=\"succeeded\"})") == 2
                && await prometheus.ScalarAsync("sum(videogen_worker_tasks_total{kind=\"stitch\",outcome=\"succeeded\"})") == 2
                && await prometheus.ScalarAsync("sum(videogen_worker_tasks_total{kind=\"chunk\",outcome=\"succeeded\"})") == chunkCount
                && await prometheus.ScalarAsync("sum(videogen_budget_refusals_total)") == 1,
            TimeSpan.FromSeconds(30), "Prometheus never saw both jobs finished and the budget refusal", prometheus);

        // The cost metric equals the jobs' cost as the API reports it (and is not zero).
        var chunkSeconds = jobs.SelectMany(j => j.Tasks).Where(t => t.Kind == TaskKind.Chunk).Sum(t => t.MediaSeconds);
        Assert.True(apiCost > 0, $"the jobs cost {apiCost}: the test catalog's price did not apply");
        var coordinatorCost = await prometheus.ScalarAsync("sum(videogen_cost_usd_total)");
        var workerCost = await prometheus.ScalarAsync("sum(videogen_worker_cost_usd_total)");
        var generated = await prometheus.ScalarAsync("sum(videogen_generated_video_seconds_total)");
        output.WriteLine($"cost: API {apiCost}, coordinator metric {coordinatorCost}, workers' metric {workerCost}; chunk seconds {chunkSeconds}, metric {generated}");
        Assert.Equal(apiCost, coordinatorCost!.Value, 6);
        Assert.Equal(apiCost, workerCost!.Value, 6);
        Assert.Equal(chunkSeconds, generated!.Value, 3);
        Assert.Equal(2.0, await prometheus.ScalarAsync("sum(videogen_jobs_submitted_total)"));
        Assert.Equal(2.0, await prometheus.ScalarAsync("sum(videogen_workers{state=~\"ready|busy\"})"));

        // Every panel query of every dashboard: valid PromQL that returns data.
        var panelQueries = new List<(string Panel, string Expr)>();
        foreach (var dashboard in Directory.GetFiles(Path.Combine(GrafanaDir, "dashboards"), "*.json"))
        {
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(dashboard));
            foreach (var panel in Panels(json.RootElement).Where(p => p.TryGetProperty("targets", out _)))
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    panelQueries.Add(($"{Path.GetFileName(dashboard)}: {panel.GetProperty("title").GetString()}", target.GetProperty("expr").GetString()!));
                }
            }
        }

        Assert.True(panelQueries.Count >= 20, $"only {panelQueries.Count} panel queries found");
        foreach (var (panel, expr) in panelQueries)
        {
            var query = GrafanaVariables.Aggregate(expr, (q, v) => q.Replace(v.Name, v.Value, StringComparison.Ordinal));
            Assert.DoesNotContain("$", query);
            await WaitForAsync(async () =>
                {
                    var answer = await prometheus.QueryAsync(query);
                    Assert.True(answer.GetProperty("status").GetString() == "success", $"panel '{panel}': {query}\n{answer}");
                    return ResultCount(answer) > 0;
                },
                TimeSpan.FromSeconds(30), $"panel '{panel}' returned no data: {query}", prometheus);
        }

        output.WriteLine($"{panelQueries.Count} panel queries answered with data after {stopwatch.Elapsed.TotalSeconds:0.0} s");

        // Every alert and recording rule in deploy/prometheus: valid PromQL, loaded by Prometheus, evaluated without error.
        var fileRules = new List<(string Name, string Expr)>();
        foreach (var file in RuleFiles)
        {
            string? name = null;
            foreach (var line in await File.ReadAllLinesAsync(file))
            {
                var rule = Regex.Match(line, @"^\s*- (?:alert|record):\s*(\S+)\s*$");
                var expr = Regex.Match(line, @"^\s*expr:\s*(.+?)\s*$");
                if (rule.Success)
                {
                    Assert.Null(name); // the previous rule had its expr
                    name = rule.Groups[1].Value;
                }
                else if (expr.Success)
                {
                    Assert.NotNull(name);
                    Assert.False(expr.Groups[1].Value is "|" or ">" or "|-" or ">-", $"{name}: keep expr on one line (this test reads it line by line)");
                    fileRules.Add((name!, expr.Groups[1].Value));
                    name = null;
                }
            }

            Assert.Null(name);
        }

        foreach (var (name, expr) in fileRules)
        {
            var answer = await prometheus.QueryAsync(expr);
            Assert.True(answer.GetProperty("status").GetString() == "success", $"rule {name}: {expr}\n{answer}");
        }

        List<(string Name, string Health, string Error)> loaded = [];
        await WaitForAsync(async () =>
            {
                var rules = await prometheus.GetAsync("/api/v1/rules");
                loaded = rules.GetProperty("data").GetProperty("groups").EnumerateArray()
                    .SelectMany(g => g.GetProperty("rules").EnumerateArray())
                    .Select(r => (r.GetProperty("name").GetString()!, r.GetProperty("health").GetString()!, r.TryGetProperty("lastError", out var e) ? e.GetString() ?? "" : ""))
                    .ToList();
                return loaded.All(r => r.Health != "unknown");
            },
            TimeSpan.FromSeconds(15), "Prometheus did not evaluate every rule", prometheus);
        Assert.Equal(fileRules.Select(r => r.Name).Order(), loaded.Select(r => r.Name).Order());
        Assert.All(loaded, r => Assert.True(r.Health == "ok", $"rule {r.Name}: {r.Health} {r.Error}"));

        // A healthy farm that ran its jobs has no alert pending or firing.
        var alerts = (await prometheus.GetAsync("/api/v1/alerts")).GetProperty("data").GetProperty("alerts");
        Assert.True(alerts.GetArrayLength() == 0, $"alerts on a healthy farm: {alerts}");
        output.WriteLine($"{fileRules.Count} rule expressions ({fileRules.Count(r => !r.Name.Contains(':'))} alerts) valid and evaluated; test took {stopwatch.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>The panels of a dashboard, including those nested in collapsed rows.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
        }
    }

    private static int ResultCount(JsonElement answer)
    {
        var data = answer.GetProperty("data");
        return data.GetProperty("resultType").GetString() == "scalar" ? 1 : data.GetProperty("result").GetArrayLength();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure, PrometheusServer prometheus)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{failure} (after {timeout.TotalSeconds} s). Prometheus:\n{prometheus.Process.Tail(20)}");
            }

            await Task.Delay(250);
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string fileName, string[] arguments)
    {
        await using var process = ServerProcess.Start(fileName, fileName, arguments, Path.Combine(RepoPaths.NewTempDirectory(fileName), "out.log"));
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, process.Output);
    }
}
