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
}
