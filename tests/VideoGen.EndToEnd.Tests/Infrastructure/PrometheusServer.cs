using System.Text;
using System.Text.Json;

namespace VideoGen.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package, STACK.md) as a child process on a
/// free loopback port, with a generated configuration; queries go through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ServerProcess _process;
    private readonly HttpClient _http;

    private PrometheusServer(ServerProcess process, string address)
    {
        _process = process;
        Address = address;
        _http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Address { get; }

    public ServerProcess Process => _process;

    /// <summary>
    /// Starts Prometheus scraping <paramref name="jobs"/> (job name → host:port targets) every second and
    /// evaluating <paramref name="ruleFiles"/> every second; returns once it serves queries.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(string directory, IReadOnlyDictionary<string, IReadOnlyList<string>> jobs, IEnumerable<string> ruleFiles)
    {
        Directory.CreateDirectory(directory);
        var config = new StringBuilder();
        config.AppendLine("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s");
        config.AppendLine("rule_files:");
        foreach (var file in ruleFiles)
        {
            config.AppendLine($"  - \"{file}\"");
        }

        config.AppendLine("scrape_configs:");
        foreach (var (job, targets) in jobs)
        {
            config.AppendLine($"  - job_name: {job}\n    static_configs:\n      - targets: [{string.Join(", ", targets.Select(t => $"\"{t}\""))}]");
        }

        var configPath = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());
        var port = LocalFarm.FreePort();
        var process = ServerProcess.Start("prometheus", "prometheus",
            [
                $"--config.file={configPath}",
                $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
            ],
            Path.Combine(directory, "prometheus.log"));
        var server = new PrometheusServer(process, $"http://127.0.0.1:{port}");
        try
        {
            await process.WaitForLineAsync("Server is ready to receive web requests", TimeSpan.FromSeconds(30));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>An instant query; returns the whole answer (status, data.resultType, data.result, or errorType/error).</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        using var response = await _http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        var body = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The single value of an instant query that returns one series (or a scalar); null when it returns none.</summary>
    public async Task<double?> ScalarAsync(string promql)
    {
        var answer = await QueryAsync(promql);
        if (answer.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query {promql} failed: {answer}");
        }

        var data = answer.GetProperty("data");
        var result = data.GetProperty("result");
        JsonElement value;
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            value = result;
        }
        else if (result.GetArrayLength() == 1)
        {
            value = result[0].GetProperty("value");
        }
        else if (result.GetArrayLength() == 0)
        {
            return null;
        }
        else
        {
            throw new InvalidOperationException($"query {promql} returned {result.GetArrayLength()} series: {result}");
        }

        return double.Parse(value[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>GET an API path (/api/v1/rules, /api/v1/alerts, /api/v1/targets) as JSON.</summary>
    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _http.Dispose();
    }
}
