namespace VideoGen.Worker.Models;

/// <summary>One call to a video model.</summary>
/// <param name="StartImagePath">Local start image; null for text-to-video.</param>
/// <param name="Prompt">What to show.</param>
/// <param name="ClipSeconds">Clip length asked for (a model may return its own fixed length).</param>
/// <param name="Width">Frame width in pixels.</param>
/// <param name="Height">Frame height in pixels.</param>
/// <param name="Fps">Frames per second.</param>
/// <param name="Seed">Seed for models that take one.</param>
/// <param name="OutputPath">Local path the clip (MP4) is written to.</param>
/// <param name="TaskKey">"{job}/{task}": the same for every attempt of a task, so a model server that still holds an earlier attempt's call can be asked for it.</param>
/// <param name="EndImagePath">Local end image for first-and-last-frame models; null when the chunk has none.</param>
/// <param name="ConditioningVideoPath">Local clip an extend model continues (the chunk before); null when none.</param>
/// <param name="OverlapFrames">For extend: the conditioning clip's last frames the new clip starts with.</param>
/// <param name="Attempt">The task attempt the call belongs to (1 for the first).</param>
public sealed record VideoGenerationRequest(
    string? StartImagePath,
    string Prompt,
    double ClipSeconds,
    int Width,
    int Height,
    int Fps,
    long Seed,
    string OutputPath,
    string? TaskKey = null,
    string? EndImagePath = null,
    string? ConditioningVideoPath = null,
    int OverlapFrames = 0,
    int Attempt = 1);

/// <summary>What a video model call produced.</summary>
/// <param name="OutputPath">The clip on local disk.</param>
/// <param name="ModelSeconds">Wall time of the call.</param>
public sealed record VideoGenerationResult(string OutputPath, double ModelSeconds);

/// <summary>A video model: image-to-video (with a start image) or text-to-video.</summary>
public interface IVideoModel
{
    /// <summary>Generates a clip into <see cref="VideoGenerationRequest.OutputPath"/>; reports 0..1 progress when it can.</summary>
    Task<VideoGenerationResult> GenerateAsync(VideoGenerationRequest request, IProgress<double>? progress, CancellationToken cancellationToken);
}

/// <summary>One storyboard image to render.</summary>
/// <param name="BeatIndex">Position of the beat.</param>
/// <param name="BeatName">Template name of the beat, e.g. "hero_shot".</param>
/// <param name="ShotDescription">What the camera shows.</param>
/// <param name="ImagePrompt">Prompt for the image.</param>
/// <param name="Subject">What the video is about.</param>
/// <param name="Style">Visual style.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="OutputPath">Local path the PNG is written to.</param>
public sealed record StoryboardImageRequest(
    int BeatIndex,
    string BeatName,
    string ShotDescription,
    string ImagePrompt,
    string Subject,
    string Style,
    int Width,
    int Height,
    string OutputPath);

/// <summary>An image model that renders storyboard images.</summary>
public interface IImageModel
{
    /// <summary>Renders the image into <see cref="StoryboardImageRequest.OutputPath"/>; returns the call's wall time in seconds.</summary>
    Task<double> RenderAsync(StoryboardImageRequest request, CancellationToken cancellationToken);
}

/// <summary>One keyframe to make from another image.</summary>
/// <param name="SourceImagePath">Local image it is made from (the take's previous keyframe or its storyboard).</param>
/// <param name="Prompt">What the camera shows at the keyframe.</param>
/// <param name="Seconds">Time between the source image and the keyframe in the take.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Seed">Seed for models that take one.</param>
/// <param name="OutputPath">Local path the PNG is written to.</param>
public sealed record KeyframeImageRequest(string SourceImagePath, string Prompt, double Seconds, int Width, int Height, long Seed, string OutputPath);

/// <summary>An image model that makes an image from another (catalog capability "i2i"): first-and-last-frame keyframes.</summary>
public interface IKeyframeImageModel
{
    /// <summary>Makes the keyframe into <see cref="KeyframeImageRequest.OutputPath"/>; returns the call's wall time in seconds.</summary>
    Task<double> RenderKeyframeAsync(KeyframeImageRequest request, CancellationToken cancellationToken);
}

/// <summary>One line to speak.</summary>
/// <param name="Text">The words.</param>
/// <param name="Voice">The catalog's voice name ("narrator", "bright", "warm", "calm"); the model maps it to its own.</param>
/// <param name="OutputPath">Local path the audio is written to (a WAV).</param>
public sealed record SpeechRequest(string Text, string Voice, string OutputPath);

/// <summary>A text-to-speech model: the voiceover's lines.</summary>
public interface ISpeechModel
{
    /// <summary>Speaks <see cref="SpeechRequest.Text"/> into <see cref="SpeechRequest.OutputPath"/>; returns the characters billed.</summary>
    Task<int> SpeakAsync(SpeechRequest request, CancellationToken cancellationToken);
}

/// <summary>One music bed to make.</summary>
/// <param name="Style">"upbeat", "calm", "cinematic" or "corporate".</param>
/// <param name="Subject">What the ad is about, for models that take a prompt.</param>
/// <param name="DurationSeconds">Exact length of the bed.</param>
/// <param name="BeatStartsSeconds">Where the beats start; the bars should fall on these boundaries.</param>
/// <param name="OutputPath">Local path of the bed: a 48 kHz stereo WAV of exactly the duration, faded in and out.</param>
public sealed record MusicRequest(string Style, string Subject, double DurationSeconds, IReadOnlyList<double> BeatStartsSeconds, string OutputPath);

/// <summary>What a music model call produced.</summary>
/// <param name="ModelSeconds">Wall time of the call.</param>
/// <param name="BilledSeconds">Seconds of music the model generated (and is paid for).</param>
public sealed record MusicResult(double ModelSeconds, double BilledSeconds);

/// <summary>A music model: the soundtrack's bed.</summary>
public interface IMusicModel
{
    /// <summary>Makes the bed into <see cref="MusicRequest.OutputPath"/>; reports 0..1 progress when it can.</summary>
    Task<MusicResult> ComposeAsync(MusicRequest request, IProgress<double>? progress, CancellationToken cancellationToken);
}

/// <summary>One call to an upscaler model: a clip in, a larger clip out.</summary>
/// <param name="InputPath">The chunk's clip on local disk.</param>
/// <param name="OutputPath">Local path the model's output (MP4, any size) is written to.</param>
public sealed record UpscaleRequest(string InputPath, string OutputPath);

/// <summary>A video upscaler (e.g. a hosted Real-ESRGAN): returns the clip's frames enlarged, at whatever size the model makes.</summary>
public interface IUpscalerModel
{
    /// <summary>Upscales <see cref="UpscaleRequest.InputPath"/> into <see cref="UpscaleRequest.OutputPath"/>; returns the call's wall time in seconds.</summary>
    Task<double> UpscaleAsync(UpscaleRequest request, IProgress<double>? progress, CancellationToken cancellationToken);
}
