namespace VideoGen.Coordinator.Webhooks;

/// <summary>Configuration section <c>Coordinator:Webhooks</c>: where job callbacks may go, the signing secrets, the retry schedule.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Coordinator:Webhooks";

    /// <summary>Host names a callback URL may name (exact, or a suffix starting with a dot, e.g. ".example.com"). Empty and no networks: webhooks are refused.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>CIDR ranges an IP-literal callback URL must be in (e.g. "203.0.113.0/24", "127.0.0.1/32").</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Signing secret of jobs whose tenant has none in <see cref="TenantSecrets"/>: "whsec_" + base64 of 24 to 64 random bytes.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Signing secret per tenant (tenant name → "whsec_…"); a tenant without one uses <see cref="Secret"/>.</summary>
    public Dictionary<string, string> TenantSecrets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Delay before the first retry; each further retry doubles it, up to <see cref="MaxBackoffSeconds"/>.</summary>
    public double InitialBackoffSeconds { get; set; } = 5;

    /// <summary>Longest delay between two attempts.</summary>
    public double MaxBackoffSeconds { get; set; } = 3600;

    /// <summary>How long a delivery is retried after its event before it is given up (default 24 h).</summary>
    public double GiveUpAfterHours { get; set; } = 24;

    /// <summary>How long one attempt may take (connect, send, answer) before it counts as failed.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>Attempts sent at the same time.</summary>
    public int Concurrency { get; set; } = 8;
}
