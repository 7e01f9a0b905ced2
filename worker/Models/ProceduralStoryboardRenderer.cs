using System.Diagnostics;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models;

/// <summary>The embedded image model: one PNG per beat, visibly different per beat (colours and shapes from the beat).</summary>
public sealed class ProceduralStoryboardRenderer : IImageModel, IKeyframeImageModel
{
    private readonly FfmpegRunner _runner;
    private readonly string? _fontFile;

    /// <param name="runner">Runs FFmpeg.</param>
    /// <param name="fontFile">Font for the animatic caption (beat name and shot); null or missing: no caption.</param>
    public ProceduralStoryboardRenderer(FfmpegRunner runner, string? fontFile = null)
    {
        _runner = runner;
        _fontFile = fontFile;
    }

    /// <inheritdoc />
    public async Task<double> RenderAsync(StoryboardImageRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        (string, string)? caption = null;
        var textFile = request.OutputPath + ".caption.txt";
        if (_fontFile is not null && File.Exists(_fontFile) && textFile.IndexOfAny(['\'', '\n']) < 0 && _fontFile.IndexOfAny(['\'', '\n']) < 0)
        {
            // Wrapped at ~44 characters a line: the shot description is a sentence.
            await File.WriteAllTextAsync(textFile, $"{request.BeatIndex + 1}. {request.BeatName.Replace('_', ' ').ToUpperInvariant()}\n{Wrap(request.ShotDescription, 44)}", cancellationToken);
            caption = (textFile, _fontFile);
        }

        var arguments = ProceduralArguments.Storyboard(
            request.BeatIndex, request.BeatName, request.ShotDescription, request.Subject, request.Width, request.Height, request.OutputPath, caption);
        await _runner.RunAsync(arguments, "storyboard", null, null, cancellationToken);
        if (caption is not null)
        {
            File.Delete(textFile);
        }

        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>A keyframe: the source image where the procedural video model's move takes it after the request's seconds.</summary>
    public async Task<double> RenderKeyframeAsync(KeyframeImageRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await _runner.RunAsync(ProceduralArguments.Keyframe(request.SourceImagePath, request.Seconds, request.Width, request.Height, request.OutputPath),
            "keyframe", null, null, cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Breaks <paramref name="text"/> into lines of at most <paramref name="width"/> characters at spaces (at most 3 lines).</summary>
    public static string Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line);
                line = "";
            }

            line = line.Length == 0 ? word : $"{line} {word}";
        }

        lines.Add(line);
        return string.Join('\n', lines.Take(3));
    }
}
