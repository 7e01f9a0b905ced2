using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using VideoGen.Catalog;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>
/// A music model on Replicate (MusicGen-class, e.g. <c>meta/musicgen</c>): one prediction per bed, with the prompt
/// (style, tempo whose bars fall on the beat boundaries, the subject), the duration in whole seconds (at most
/// <see cref="MaxSeconds"/>; a longer bed loops it) and WAV output. The output URL is downloaded at once and brought
/// to the bed's form (48 kHz stereo, faded in and out, exactly the duration). Billed: the seconds asked for.
/// </summary>
public sealed class ReplicateMusicModel : IMusicModel
{
    /// <summary>The longest clip MusicGen generates in one prediction.</summary>
    public const int MaxSeconds = 30;

    private static readonly Dictionary<string, string> StylePrompts = new(StringComparer.Ordinal)
    {
        ["upbeat"] = "upbeat, bright pop instrumental with punchy drums",
        ["calm"] = "calm, soft ambient pad instrumental, gentle",
        ["cinematic"] = "cinematic, swelling orchestral instrumental",
        ["corporate"] = "corporate, light motivational instrumental with piano and soft drums",
    };

    private readonly ModelSpec _spec;
    private readonly ReplicatePredictionRunner _runner;

    public ReplicateMusicModel(ModelSpec spec, ReplicatePredictionRunner runner)
    {
        _spec = spec;
        _runner = runner;
    }

    /// <summary>The prediction input for <paramref name="request"/> (before the configured extra inputs).</summary>
    public static JsonObject Input(MusicRequest request)
    {
        var bar = SoundtrackArguments.BarSeconds([.. request.BeatStartsSeconds, request.DurationSeconds], request.Style);
        var bpm = Math.Round(240 / bar);
        var subject = request.Subject.Length > 0 ? $" for an ad about {request.Subject}" : "";
        return new JsonObject
        {
            ["prompt"] = $"{StylePrompts.GetValueOrDefault(request.Style, request.Style)}, {bpm.ToString(CultureInfo.InvariantCulture)} bpm, 4/4, no vocals, background music{subject}",
            ["duration"] = BilledSeconds(request.DurationSeconds),
            ["output_format"] = "wav",
        };
    }

    /// <summary>Whole seconds asked of the model: the duration rounded up, at most <see cref="MaxSeconds"/>.</summary>
    public static int BilledSeconds(double durationSeconds) => Math.Clamp((int)Math.Ceiling(durationSeconds - 1e-6), 1, MaxSeconds);

    /// <inheritdoc />
    public async Task<MusicResult> ComposeAsync(MusicRequest request, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var directory = Path.GetDirectoryName(Path.GetFullPath(request.OutputPath))!;
        var raw = Path.Combine(directory, "provider-music");
        await _runner.RunAsync(_spec, Input(request), raw, fraction => progress?.Report(0.9 * fraction), cancellationToken);
        await new SoundtrackMaker(directory).NormaliseMusicAsync(raw, request.DurationSeconds, request.OutputPath, cancellationToken);
        progress?.Report(1);
        return new MusicResult(Stopwatch.GetElapsedTime(started).TotalSeconds, BilledSeconds(request.DurationSeconds));
    }
}
