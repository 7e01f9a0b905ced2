using System.Globalization;
using FFMpegCore;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>
/// FFmpeg argument lists that bring a provider's output to the farm's own format. Pure builders;
/// <see cref="FfmpegRunner"/> runs them.
/// </summary>
public static class ProviderMediaArguments
{
    /// <summary>
    /// Re-encodes a provider clip with <see cref="ClipEncoding"/> at the catalog's size and frame rate. A provider
    /// encodes as it likes (wan-2.1 480p returns 832x480 with B-frames); the stitcher joins chunks by stream copy,
    /// which needs every chunk to share codec parameters, so every clip goes through here. The picture is scaled
    /// to fit and padded (never stretched or cropped); the length is kept, so cost follows what was generated.
    /// </summary>
    public static FFMpegArgumentProcessor NormaliseClip(string inputPath, int width, int height, int fps, string outputPath)
    {
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=bicubic,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps},format=yuv420p");
        return FFMpegArguments
            .FromFileInput(inputPath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o
                .WithCustomArgument($"-map 0:v:0 -vf \"{filter}\"")
                .WithClipEncoding(fps));
    }

    /// <summary>A provider image as a PNG of exactly <paramref name="width"/> × <paramref name="height"/> (scaled to cover, centre-cropped).</summary>
    public static FFMpegArgumentProcessor NormaliseImage(string inputPath, int width, int height, string outputPath)
    {
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,crop={width}:{height},setsar=1");
        return FFMpegArguments
            .FromFileInput(inputPath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o.WithCustomArgument($"-vf \"{filter}\" -frames:v 1 -update 1"));
    }
}
