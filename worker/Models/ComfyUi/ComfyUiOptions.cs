namespace VideoGen.Worker.Models.ComfyUi;

/// <summary>How the worker drives the ComfyUI server beside it (configuration section <c>ComfyUI</c>).</summary>
public sealed class ComfyUiOptions
{
    public const string Section = "ComfyUI";

    /// <summary>The server's HTTP address; its WebSocket is <c>ws://…/ws</c> on the same host and port.</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:8188";

    /// <summary>Folder of the API-format workflow files the catalog names; default: <c>workflows/</c> beside the worker.</summary>
    public string WorkflowDirectory { get; set; } = "";

    /// <summary>What every chunk's model should avoid (the workflows' <c>{{negative_prompt}}</c>).</summary>
    public string NegativePrompt { get; set; } =
        "blurry, low quality, static, still picture, watermark, text, subtitles, deformed, extra fingers, jpeg artifacts, worst quality";

    /// <summary>Seconds between probes of the server's <c>/system_stats</c> (GPU memory, reachability).</summary>
    public double ProbeSeconds { get; set; } = 2;

    /// <summary>Timeout of one HTTP call in seconds (uploads, queueing, history, downloads).</summary>
    public double RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>Longest a chunk's execution may take, queue wait included, before the attempt fails (retryable).</summary>
    public double ExecutionTimeoutSeconds { get; set; } = 3600;

    /// <summary>How many recent history entries the worker searches for a prompt an earlier attempt of the task queued.</summary>
    public int HistorySearchItems { get; set; } = 64;

    /// <summary>The workflow folder this worker reads: <see cref="WorkflowDirectory"/>, else <c>workflows/</c> beside the worker.</summary>
    public string ResolvedWorkflowDirectory =>
        string.IsNullOrWhiteSpace(WorkflowDirectory) ? Path.Combine(AppContext.BaseDirectory, "workflows") : WorkflowDirectory;
}
