using System.ComponentModel.DataAnnotations;

namespace VideoGen.Worker.Hosting;

/// <summary>The worker's identity, endpoints and capacity (configuration section <c>Worker</c>).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Stable worker id; default <c>worker-{machine}-{4 random hex}</c>.</summary>
    public string Id { get; set; } = "";

    /// <summary>gRPC endpoint (HTTP/2 only, no TLS). Port 0 picks a free port.</summary>
    public string GrpcUrl { get; set; } = "http://127.0.0.1:0";

    /// <summary>HTTP/1.1 endpoint for <c>/metrics</c> and <c>/healthz</c>. Port 0 picks a free port.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:0";

    /// <summary>Address the coordinator calls; default: the bound gRPC address.</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>The coordinator's gRPC address (direct membership).</summary>
    public string Coordinator { get; set; } = "http://127.0.0.1:7070";

    /// <summary>
    /// The farm's worker token (<see cref="VideoGen.Security.WorkerToken"/>): sent to join, heartbeat and leave, and
    /// required on every RunTask, CancelTask, Drain and GetWorkerStatus call. Empty: <c>VIDEOGEN_WORKER_TOKEN</c>; when
    /// that is empty too, the worker takes calls from anyone (a warning at start).
    /// </summary>
    public string Token { get; set; } = "";

    /// <summary>
    /// TLS (<see cref="VideoGen.Security.TlsSettings"/>, section <c>Worker:Tls</c>): the gRPC endpoint serves TLS from
    /// <c>CertificateFile</c>/<c>KeyFile</c> (then <see cref="GrpcUrl"/> is https://); the coordinator's certificate is
    /// verified against <c>CaFile</c>; <c>RequireClientCertificate</c>: only a caller whose certificate chains to
    /// <c>CaFile</c> (the coordinator) gets a TLS connection at all (mutual TLS).
    /// </summary>
    public VideoGen.Security.TlsSettings Tls { get; set; } = new();

    /// <summary>How the worker announces itself: <c>direct</c> (join the coordinator), <c>consul</c> (register with the local Consul agent, section <c>Consul</c>) or <c>none</c> (standalone).</summary>
    public string Membership { get; set; } = "direct";

    /// <summary>Tasks run at once.</summary>
    [Range(1, 1024)]
    public int Slots { get; set; } = 2;

    /// <summary>Catalog models served; default: every model whose provider is "procedural".</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Scratch folder for task files; default a folder under the system temp folder.</summary>
    public string WorkDirectory { get; set; } = "";

    /// <summary>Font the finish step draws titles with (Debian's fonts-dejavu-core ships this one).</summary>
    public string FontFile { get; set; } = DefaultFontFile;

    /// <summary>x264 preset of the finished renditions (ultrafast … veryslow): slower is smaller at the same quality (CRF 20).</summary>
    public string FinishPreset { get; set; } = Media.Finisher.DefaultPreset;

    /// <summary>Debian's DejaVu Sans Bold.</summary>
    public const string DefaultFontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    /// <summary>
    /// Seconds a finished task's outcome is kept after it ended, so that a RunTask for the same job and task (the
    /// coordinator restarted while the stream was open) gets it instead of running the task again; 0: not kept.
    /// </summary>
    public double ResultRetentionSeconds { get; set; } = 900;

    /// <summary>Overrides the coordinator's heartbeat interval when set (&gt; 0).</summary>
    public double? HeartbeatSeconds { get; set; }
}

/// <summary>Where the model catalog comes from (configuration section <c>ModelCatalog</c>).</summary>
public sealed class ModelCatalogOptions
{
    public const string Section = "ModelCatalog";

    /// <summary>Catalog file; empty: the catalog embedded in VideoGen.Contracts.</summary>
    public string? Path { get; set; }
}
