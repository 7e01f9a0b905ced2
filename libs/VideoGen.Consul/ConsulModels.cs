using System.Globalization;
using System.Text.Json.Serialization;

namespace VideoGen.Consul;

/// <summary>Body of <c>PUT /v1/agent/service/register</c>: the documented subset VideoGen uses (field names as Consul spells them).</summary>
public sealed record ServiceRegistration
{
    [JsonPropertyName("ID")]
    public required string Id { get; init; }

    public required string Name { get; init; }

    public List<string> Tags { get; init; } = [];

    /// <summary>Host or IP the service is reached at (no scheme).</summary>
    public string Address { get; init; } = "";

    public int Port { get; init; }

    /// <summary>Keys of letters, digits, '_' and '-'; values up to 512 characters.</summary>
    public Dictionary<string, string> Meta { get; init; } = [];

    public ServiceCheck? Check { get; init; }
}

/// <summary>The health check of a registration: a TTL check its owner keeps passing, or a gRPC health check Consul runs.</summary>
public sealed record ServiceCheck
{
    [JsonPropertyName("CheckID")]
    public string? CheckId { get; init; }

    public string? Name { get; init; }

    /// <summary>Go duration (<c>10s</c>): critical unless passed within this long.</summary>
    [JsonPropertyName("TTL")]
    public string? Ttl { get; init; }

    /// <summary><c>host:port</c> (optionally <c>/service</c>) for a gRPC health check; needs <see cref="Interval"/>.</summary>
    [JsonPropertyName("GRPC")]
    public string? Grpc { get; init; }

    public string? Interval { get; init; }

    /// <summary>Initial status (<c>passing</c>, <c>warning</c>, <c>critical</c>); Consul's default is critical.</summary>
    public string? Status { get; init; }

    public string? Notes { get; init; }

    /// <summary>Go duration after which Consul deregisters the service if this check stays critical.</summary>
    public string? DeregisterCriticalServiceAfter { get; init; }
}

/// <summary>Health status of a check, as Consul names it.</summary>
public enum CheckStatus
{
    Passing,
    Warning,
    Critical,
}

/// <summary>One element of <c>GET /v1/health/service/{name}</c>.</summary>
public sealed record ServiceHealthEntry
{
    public HealthNode Node { get; init; } = new();

    public HealthService Service { get; init; } = new();

    public List<HealthCheck> Checks { get; init; } = [];

    /// <summary>The worst status of the entry's checks (node and service checks); passing when it has none.</summary>
    [JsonIgnore]
    public CheckStatus AggregatedStatus =>
        Checks.Count == 0 ? CheckStatus.Passing : Checks.Max(c => c.ParsedStatus);

    /// <summary>The address the service is reached at: the service's own, else its node's (as Consul documents).</summary>
    [JsonIgnore]
    public string EffectiveAddress => string.IsNullOrEmpty(Service.Address) ? Node.Address : Service.Address;
}

public sealed record HealthNode
{
    public string Node { get; init; } = "";

    public string Address { get; init; } = "";

    public string Datacenter { get; init; } = "";
}

public sealed record HealthService
{
    [JsonPropertyName("ID")]
    public string Id { get; init; } = "";

    public string Service { get; init; } = "";

    public List<string>? Tags { get; init; }

    public string Address { get; init; } = "";

    public int Port { get; init; }

    public Dictionary<string, string>? Meta { get; init; }
}

public sealed record HealthCheck
{
    public string Node { get; init; } = "";

    [JsonPropertyName("CheckID")]
    public string CheckId { get; init; } = "";

    public string Name { get; init; } = "";

    public string Status { get; init; } = "";

    public string Output { get; init; } = "";

    [JsonPropertyName("ServiceID")]
    public string ServiceId { get; init; } = "";

    [JsonIgnore]
    public CheckStatus ParsedStatus => Status switch
    {
        "passing" => CheckStatus.Passing,
        "warning" => CheckStatus.Warning,
        _ => CheckStatus.Critical, // critical, maintenance, or anything unknown: not healthy
    };
}

/// <summary>The answer to a (blocking) health query: the entries and the <c>X-Consul-Index</c> to block on next.</summary>
public sealed record HealthQueryResult(IReadOnlyList<ServiceHealthEntry> Entries, ulong Index);

/// <summary>Go duration strings as Consul's API takes them.</summary>
public static class GoDuration
{
    /// <summary><c>10s</c>, <c>1500ms</c>, <c>2m</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            var seconds = (long)value.TotalSeconds;
            return seconds % 60 == 0 && seconds > 0
                ? (seconds / 60).ToString(CultureInfo.InvariantCulture) + "m"
                : seconds.ToString(CultureInfo.InvariantCulture) + "s";
        }

        return Math.Max(1, (long)Math.Round(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
    }
}
