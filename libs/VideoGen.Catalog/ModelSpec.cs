using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoGen.Catalog;

/// <summary>One model as the farm knows it (video, image, speech or music): who runs it and what it really produces.</summary>
public sealed record ModelSpec
{
    /// <summary>Catalog name clients use, e.g. "procedural-i2v", "wan-2.1-i2v-480p".</summary>
    public string Name { get; init; } = "";

    /// <summary>"procedural" (embedded, no network), "replicate" or "openai" (image and speech models).</summary>
    public string Provider { get; init; } = "procedural";

    /// <summary>"video", "image", "speech" (a voiceover's text-to-speech), "music" (a music bed) or "upscaler" (a video-to-video upscaler for the finish).</summary>
    public string Kind { get; init; } = "video";

    /// <summary>For upscalers: the factor it enlarges a frame by (2, 4); the worker scales its output to the master's size.</summary>
    public double Scale { get; init; } = 1;

    /// <summary>Seconds per clip the model really returns, whatever it is asked for.</summary>
    public double ClipSeconds { get; init; } = 5;

    public int Width { get; init; } = 854;

    public int Height { get; init; } = 480;

    public int Fps { get; init; } = 24;

    /// <summary>Price per second of generated video or audio (per second of input video for upscalers, per image for image models).</summary>
    public double PricePerSecondUsd { get; init; }

    /// <summary>Price per character of text sent to a speech model (OpenAI prices its tts models so); 0 for others.</summary>
    public double PricePerCharacterUsd { get; init; }

    /// <summary>True when the model takes a start image (image-to-video).</summary>
    public bool TakesImage { get; init; } = true;

    /// <summary>
    /// What the model can be asked to do, in the order the planner prefers them (the first is a job's default): video
    /// models <c>"i2v"</c> (a start image), <c>"flf2v"</c> (a first and a last image), <c>"extend"</c> (continue the
    /// last <see cref="OverlapFrames"/> frames of a clip), <c>"t2v"</c> (text only); image models <c>"i2i"</c> (make an
    /// image from another: keyframes). Empty: <c>"i2v"</c> or <c>"t2v"</c> by <see cref="TakesImage"/> for video models,
    /// none for others (see <see cref="EffectiveCapabilities"/>).
    /// </summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>For "extend" models: the frames of the previous clip a continuation starts with (and the finish drops).</summary>
    public int OverlapFrames { get; init; } = 8;

    /// <summary>
    /// Calls to the model at once: across the whole farm for a hosted model (provider "replicate" or "openai": the
    /// account's concurrency limit), on one worker for a local one; 0: limited by the workers' slots only.
    /// </summary>
    public int MaxConcurrency { get; init; }

    /// <summary>Provider-specific model id (e.g. "wavespeedai/wan-2.1-i2v-480p").</summary>
    public string ProviderModel { get; init; } = "";

    /// <summary>True when only workers that reported a GPU may run the model.</summary>
    public bool RequiresGpu { get; init; }

    /// <summary>Expected seconds of one model call, used by estimates.</summary>
    public double ExpectedLatencySeconds { get; init; } = 2;

    /// <summary>How the provider bills each outcome of a request (see <see cref="BillingRules"/>).</summary>
    public BillingRules Billing { get; init; } = new();

    /// <summary>
    /// A catalog model of the same kind that this model's tasks may move to while its provider is down (its circuit
    /// open), when the job allows it; empty: none, the tasks wait.
    /// </summary>
    public string Fallback { get; init; } = "";

    /// <summary>True for a model called over the network at a provider that limits concurrency per account.</summary>
    public bool IsHosted => Provider is "replicate" or "openai";
    /// <summary>
    /// For models run on the worker's own GPU (provider "comfyui"): the API-format workflow file, relative to the
    /// worker's workflow folder (<c>ComfyUI:WorkflowDirectory</c>), e.g. "wan-2.1-i2v-480p.json".
    /// </summary>
    public string Workflow { get; init; } = "";

    /// <summary>For workflow models: the id of the node whose output is the clip (e.g. a SaveVideo node, "13").</summary>
    public string OutputNode { get; init; } = "";

    /// <summary>Frames one call really renders (Wan 2.1: 81 at 16 fps, 5.06 s); 0: <see cref="ClipSeconds"/> × <see cref="Fps"/> + 1.</summary>
    public int Frames { get; init; }

    /// <summary>
    /// GPU memory one call needs, in GiB (0: none or unknown). The scheduler places a task of this model only on a GPU
    /// with at least this much free memory.
    /// </summary>
    public double VramGb { get; init; }

    /// <summary>The frames one call renders: <see cref="Frames"/>, else the clip length at the model's frame rate plus the first frame.</summary>
    public int FramesPerClip => Frames > 0 ? Frames : (int)Math.Round(ClipSeconds * Fps) + 1;

    /// <summary><see cref="Capabilities"/>, or what a video model without them does by <see cref="TakesImage"/>.</summary>
    public IReadOnlyList<string> EffectiveCapabilities => Capabilities.Count > 0 ? Capabilities
        : Kind == "video" ? [TakesImage ? ModelCapabilities.ImageToVideo : ModelCapabilities.TextToVideo]
        : [];

    /// <summary>Whether the model can do <paramref name="capability"/> (one of <see cref="ModelCapabilities"/>).</summary>
    public bool Can(string capability) => EffectiveCapabilities.Contains(capability, StringComparer.Ordinal);

    /// <summary><see cref="VramGb"/> in bytes.</summary>
    public long VramBytes => (long)(VramGb * 1024 * 1024 * 1024);
}
