namespace VideoGen.Coordinator.Hosting;

/// <summary>Coordinator process settings (configuration section "Coordinator").</summary>
public sealed class CoordinatorOptions
{
    /// <summary>gRPC endpoint (HTTP/2 without TLS): the job API and membership.</summary>
    public string GrpcUrl { get; set; } = "http://127.0.0.1:7070";

    /// <summary>HTTP/1.1 endpoint: /metrics for Prometheus and /healthz. Port 0 picks a free port.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:7079";

    /// <summary>Folder for the SQLite job store (videogen.db).</summary>
    public string DataDirectory { get; set; } = ".farm/coordinator";

    /// <summary>Model catalog file; empty: the embedded catalog.</summary>
    public string ModelCatalogPath { get; set; } = "";

    /// <summary>Folder of template JSON files; empty: the templates shipped with the coordinator.</summary>
    public string TemplatesDirectory { get; set; } = "";

    /// <summary>Resolution of a job that asks for none: "480p", "720p" (the default) or "1080p".</summary>
    public string DefaultResolution { get; set; } = "720p";

    /// <summary>CIDR ranges a worker's advertised IP must be in for the coordinator to dial it; empty: loopback and the private ranges.</summary>
    public List<string> AllowedWorkerNetworks { get; set; } = [];

    /// <summary>Host names a worker may advertise (exact, or ".suffix"); empty: <c>localhost</c> only.</summary>
    public List<string> AllowedWorkerHosts { get; set; } = [];

    /// <summary>
    /// The worker token (<see cref="VideoGen.Security.WorkerToken"/>): workers must present it to join, heartbeat and
    /// leave, and the coordinator presents it on every call to a worker. Empty: <c>VIDEOGEN_WORKER_TOKEN</c>; when that
    /// is empty too, admission is open (a warning at start). At least 16 characters.
    /// </summary>
    public string WorkerToken { get; set; } = "";

    /// <summary>
    /// TLS (<see cref="VideoGen.Security.TlsSettings"/>, section <c>Coordinator:Tls</c>): the gRPC endpoint serves TLS
    /// from <c>CertificateFile</c>/<c>KeyFile</c> (then <see cref="GrpcUrl"/> is https://); workers' certificates are
    /// verified against <c>CaFile</c>, and the coordinator's certificate is its client certificate when workers ask for
    /// one (mutual TLS).
    /// </summary>
    public VideoGen.Security.TlsSettings Tls { get; set; } = new();

    /// <summary>
    /// How attempts travel to workers: true (the default), on one long-lived <c>Work</c> stream per worker, batched both
    /// ways; false, one <c>RunTask</c> call per attempt. A worker that does not serve Work gets RunTask calls either way.
    /// </summary>
    public bool WorkerStreams { get; set; } = true;

    /// <summary>
    /// Catalog upscaler model (kind "upscaler", e.g. "real-esrgan-video") that upscales every chunk of a job whose resolution
    /// is above its video model's native height; empty (the default): the finish scales with FFmpeg.
    /// </summary>
    public string Upscaler { get; set; } = "";

    /// <summary><see cref="DefaultResolution"/> as the contract's enum; null when it names none.</summary>
    public Contracts.V1.Resolution? ParsedDefaultResolution => DefaultResolution.Trim().ToLowerInvariant() switch
    {
        "480p" => Contracts.V1.Resolution._480P,
        "720p" => Contracts.V1.Resolution._720P,
        "1080p" => Contracts.V1.Resolution._1080P,
        _ => null,
    };
}
