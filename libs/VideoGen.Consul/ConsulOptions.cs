namespace VideoGen.Consul;

/// <summary>
/// How to reach Consul and how VideoGen registers with it (configuration section <c>Consul</c>), shared by the
/// coordinator and the workers. The agent address and the ACL token fall back to Consul's own environment
/// variables (<c>CONSUL_HTTP_ADDR</c>, <c>CONSUL_HTTP_TOKEN</c>), as the consul CLI does.
/// </summary>
public sealed class ConsulOptions
{
    public const string Section = "Consul";

    /// <summary>The local agent's HTTP API; default <c>CONSUL_HTTP_ADDR</c> or <c>http://127.0.0.1:8500</c>. A bare host:port means http.</summary>
    public string Address { get; set; } = "";

    /// <summary>ACL token sent as <c>X-Consul-Token</c>; default <c>CONSUL_HTTP_TOKEN</c>; empty: none.</summary>
    public string Token { get; set; } = "";

    /// <summary>Datacenter of the health queries (<c>dc</c>); empty: the agent's own.</summary>
    public string Datacenter { get; set; } = "";

    /// <summary>Service name the workers register under and the coordinator follows.</summary>
    public string ServiceName { get; set; } = "videogen-worker";

    /// <summary>Service name the coordinator registers under.</summary>
    public string CoordinatorServiceName { get; set; } = "videogen-coordinator";

    /// <summary>Extra tags on every registration (both sides add <c>videogen</c>).</summary>
    public List<string> Tags { get; set; } = [];

    /// <summary>TTL of the registration's health check; the owner passes it every third of this.</summary>
    public double CheckTtlSeconds { get; set; } = 10;

    /// <summary>Consul removes a registration whose check stayed critical this long (a crashed node). Real Consul enforces at least 60 s.</summary>
    public double DeregisterCriticalAfterSeconds { get; set; } = 60;

    /// <summary>Longest a blocking health query waits for a change (<c>wait</c>; Consul caps it at 600 s).</summary>
    public double WaitSeconds { get; set; } = 60;

    /// <summary>First retry delay after Consul could not be reached; doubles per failure up to <see cref="RetryMaxSeconds"/>.</summary>
    public double RetryBaseSeconds { get; set; } = 0.25;

    /// <summary>Longest delay between retries while Consul is unreachable.</summary>
    public double RetryMaxSeconds { get; set; } = 5;

    /// <summary>Host the coordinator registers itself with; default the host of <c>Coordinator:GrpcUrl</c> (the machine name for a wildcard bind).</summary>
    public string AdvertiseHost { get; set; } = "";

    /// <summary>The agent address after the environment fallback, as an absolute URI.</summary>
    public Uri ResolveAddress(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var address = !string.IsNullOrWhiteSpace(Address) ? Address
            : environment("CONSUL_HTTP_ADDR") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : "http://127.0.0.1:8500";
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            address = "http://" + address; // CONSUL_HTTP_ADDR is commonly host:port
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"Consul:Address (or CONSUL_HTTP_ADDR) must be an http(s) URL or host:port, got '{address}'.");
        }

        return uri;
    }

    /// <summary>The ACL token after the environment fallback; empty when none.</summary>
    public string ResolveToken(Func<string, string?>? environment = null) =>
        !string.IsNullOrWhiteSpace(Token) ? Token : (environment ?? Environment.GetEnvironmentVariable)("CONSUL_HTTP_TOKEN") ?? "";

    /// <summary>Problems with these settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        try
        {
            ResolveAddress();
        }
        catch (InvalidOperationException ex)
        {
            failures.Add(ex.Message);
        }

        if (string.IsNullOrWhiteSpace(ServiceName) || string.IsNullOrWhiteSpace(CoordinatorServiceName))
        {
            failures.Add("Consul:ServiceName and Consul:CoordinatorServiceName must not be empty.");
        }

        if (CheckTtlSeconds <= 0 || DeregisterCriticalAfterSeconds <= 0 || WaitSeconds <= 0 || WaitSeconds > 600)
        {
            failures.Add($"Consul: CheckTtlSeconds and DeregisterCriticalAfterSeconds must be > 0 and WaitSeconds in (0, 600]; got {CheckTtlSeconds}, {DeregisterCriticalAfterSeconds}, {WaitSeconds}.");
        }

        if (RetryBaseSeconds <= 0 || RetryMaxSeconds < RetryBaseSeconds)
        {
            failures.Add($"Consul: RetryBaseSeconds must be > 0 and RetryMaxSeconds >= RetryBaseSeconds; got {RetryBaseSeconds}, {RetryMaxSeconds}.");
        }

        return failures;
    }

    /// <summary>Capped exponential backoff with up to 20 % jitter (<paramref name="jitter"/> in [0, 1)) before retry <paramref name="attempt"/> (from 1).</summary>
    public TimeSpan RetryDelay(int attempt, double jitter)
    {
        var exponential = RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromSeconds(Math.Min(RetryMaxSeconds, exponential) * (1 + 0.2 * jitter));
    }
}
