namespace VideoGen.Consul;

/// <summary>The Consul service Meta keys a worker registers and the coordinator reads.</summary>
public static class WorkerServiceMeta
{
    public const string Models = "models";
    public const string Slots = "slots";
    public const string Gpus = "gpus";
    public const string GpuCount = "gpu_count";
    public const string Version = "version";
    public const string Scheme = "grpc_scheme";

    /// <summary>The worker's HTTP port serving /metrics: a Prometheus consul_sd_config relabels the scrape address with it.</summary>
    public const string MetricsPort = "metrics_port";
}
