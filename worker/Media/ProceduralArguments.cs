using System.Globalization;
using System.Text;
using FFMpegCore;

namespace VideoGen.Worker.Media;

/// <summary>
/// FFmpeg argument lists of the procedural (embedded, no network) models: image-to-video, text-to-video and
/// storyboard images. Pure builders; <see cref="FfmpegRunner"/> runs them.
/// </summary>
public static class ProceduralArguments
{
    /// <summary>Zoom reached at the end of a clip (1.15: a 15 % push in).</summary>
    public const double EndZoom = 1.15;

    /// <summary>
    /// A clip of exactly <paramref name="clipSeconds"/> from a start image: a slow centred zoom-in plus a slow hue
    /// drift and a brightness swell that returns to zero, so frame 0 is the start image (zoom 1) under the model's
    /// seeded <see cref="ColourCast"/>, and later frames visibly move and drift in hue.
    /// </summary>
    /// <remarks>
    /// zoompan rounds its crop window to whole pixels, which makes a slow zoom jitter; upscaling 2× first halves
    /// the step. The start image is read once and zoompan makes every frame from it (<c>d</c> = the clip's frames):
    /// the same frames, bit for bit, as looping the image through the filters 120 times, at a fraction of the cost
    /// (0.37 s of CPU per 5 s clip here against 1.1 s, measured; 4 clips at once 3.7 s wall against 5.4 s).
    /// </remarks>
    public static FFMpegArgumentProcessor ImageToVideo(string startImagePath, double clipSeconds, int width, int height, int fps, string outputPath, long seed = 0)
    {
        var frames = Math.Max(1, (int)Math.Round(clipSeconds * fps));
        var clip = ClipEncoding.Seconds(clipSeconds);
        var (hueShift, brightnessShift) = ColourCast(seed);
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"scale={width * 2}:{height * 2}:flags=bicubic,setsar=1," +
            $"zoompan=z='1+{EndZoom - 1:0.###}*on/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={width}x{height}:fps={fps}," +
            $"hue=h='{hueShift:0.###}+8*t':b='{brightnessShift:0.###}+0.25*sin(PI*t/{clip})',format=yuv420p");
        return FFMpegArguments
            .FromFileInput(startImagePath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o
                .WithCustomArgument($"-vf \"{filter}\" -frames:v {frames}")
                .WithClipEncoding(fps));
    }

    /// <summary>
    /// A first-and-last-frame clip: the start image's push-in and hue drift (as <see cref="ImageToVideo"/>, without a colour
    /// cast) cross-fading into the end image, frame by frame: frame 0 is the start image and the last frame is the end image,
    /// so two chunks that share a keyframe meet on it exactly. When the end image is the keyframe the procedural image model
    /// made from the start (<see cref="Keyframe"/>), both streams agree and the clip reads as one continuous move.
    /// </summary>
    public static FFMpegArgumentProcessor FirstLastFrame(string startImagePath, string endImagePath, double clipSeconds, int width, int height, int fps, string outputPath)
    {
        var frames = Math.Max(2, (int)Math.Round(clipSeconds * fps));
        var last = frames - 1;
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"[0:v]scale={width * 2}:{height * 2}:flags=bicubic,setsar=1," +
            $"zoompan=z='1+{EndZoom - 1:0.###}*on/{last}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={width}x{height}:fps={fps}," +
            $"hue=h='{HueDegreesPerSecond:0.###}*t',format=yuv420p,setpts=N/{fps}/TB[a];" +
            $"[1:v]scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p,loop=loop={frames}:size=1,setpts=N/{fps}/TB[b];" +
            $"[a][b]blend=all_expr='A+(B-A)*min(1,N/{last})',format=yuv420p[v]");
        return FFMpegArguments
            .FromFileInput(startImagePath, verifyExists: true)
            .AddFileInput(endImagePath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o
                .WithCustomArgument($"-filter_complex \"{filter}\" -map \"[v]\" -frames:v {frames}")
                .WithClipEncoding(fps));
    }

    /// <summary>
    /// An extend clip: the last <paramref name="overlapFrames"/> frames of <paramref name="previousClip"/> (which has
    /// <paramref name="previousFrames"/> frames), then the move carried on from its last frame (<paramref name="lastFramePath"/>):
    /// the push-in continues at the same rate from the next step, the hue drift from where it was. The clip has
    /// <paramref name="clipSeconds"/> × fps frames, its first <paramref name="overlapFrames"/> repeating the previous clip's end.
    /// </summary>
    public static FFMpegArgumentProcessor Extend(string previousClip, int previousFrames, string lastFramePath, int overlapFrames, double clipSeconds, int width, int height, int fps, string outputPath)
    {
        var frames = Math.Max(overlapFrames + 1, (int)Math.Round(clipSeconds * fps));
        var fresh = frames - overlapFrames;
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"[0:v]trim=start_frame={Math.Max(0, previousFrames - overlapFrames)},setpts=PTS-STARTPTS,fps={fps},scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p[a];" +
            $"[1:v]scale={width * 2}:{height * 2}:flags=bicubic,setsar=1," +
            $"zoompan=z='1+{EndZoom - 1:0.###}*(on+1)/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={fresh}:s={width}x{height}:fps={fps}," +
            $"hue=h='{HueDegreesPerSecond:0.###}*(t+{1.0 / fps:0.######})',format=yuv420p[b];" +
            $"[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]");
        return FFMpegArguments
            .FromFileInput(previousClip, verifyExists: true)
            .AddFileInput(lastFramePath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o
                .WithCustomArgument($"-filter_complex \"{filter}\" -map \"[v]\" -frames:v {frames}")
                .WithClipEncoding(fps));
    }

    /// <summary>
    /// A keyframe made from another image: where the procedural video model's move takes the picture after
    /// <paramref name="seconds"/> (the centred push-in of a whole clip, <see cref="EndZoom"/> per 5 s, and the hue drift).
    /// </summary>
    public static FFMpegArgumentProcessor Keyframe(string sourceImagePath, double seconds, int width, int height, string outputPath)
    {
        var zoom = 1 + (EndZoom - 1) * seconds / 5.0;
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"scale={width * 2}:{height * 2}:flags=bicubic,setsar=1,crop=iw/{zoom:0.####}:ih/{zoom:0.####},scale={width}:{height}:flags=bicubic,hue=h={HueDegreesPerSecond * seconds:0.###}");
        return FFMpegArguments
            .FromFileInput(sourceImagePath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o.WithCustomArgument($"-vf \"{filter}\" -frames:v 1 -update 1"));
    }

    /// <summary>The start image of a bad seam (<c>Procedural:FailureMode=bad_seam</c>): mirrored, its hue turned 150°, brighter.</summary>
    public static FFMpegArgumentProcessor BadSeamImage(string startImagePath, string outputPath) =>
        FFMpegArguments
            .FromFileInput(startImagePath, verifyExists: true)
            .OutputToFile(outputPath, overwrite: true, o => o.WithCustomArgument("-vf \"hflip,vflip,hue=h=150:b=2\" -frames:v 1 -update 1"));

    /// <summary>Degrees per second of the procedural clips' hue drift.</summary>
    public const double HueDegreesPerSecond = 8;

    /// <summary>
    /// The colour cast a real image-to-video model puts on its clip (its first frame is the start image, but not exactly:
    /// a few degrees of hue and a few luma code values off), seeded: 3–8° either way and 0.08–0.2 of <c>hue</c>'s
    /// brightness (2–5 code values) either way. Seed 0: none. Colour matching in the finish is what removes it.
    /// </summary>
    public static (double Hue, double Brightness) ColourCast(long seed)
    {
        if (seed == 0)
        {
            return (0, 0);
        }

        var hash = StableHash.Of("cast", seed.ToString(CultureInfo.InvariantCulture));
        var hue = (3 + hash % 500 / 100.0) * ((hash & 0x10000) == 0 ? 1 : -1);
        var brightness = (0.08 + (hash >> 8) % 120 / 1000.0) * ((hash & 0x20000) == 0 ? 1 : -1);
        return (hue, brightness);
    }

    /// <summary>A clip with no start image: seeded moving gradients with a hue drift (same encoder parameters).</summary>
    public static FFMpegArgumentProcessor TextToVideo(string prompt, long seed, double clipSeconds, int width, int height, int fps, string outputPath)
    {
        var hash = StableHash.Of(prompt, seed.ToString(CultureInfo.InvariantCulture));
        var hue = hash % 360;
        var clip = ClipEncoding.Seconds(clipSeconds);
        var source = string.Create(CultureInfo.InvariantCulture,
            $"gradients=s={width}x{height}:c0=0x{Colour.Hsv(hue, 0.7, 0.9)}:c1=0x{Colour.Hsv(hue + 150, 0.6, 0.4)}:c2=0x{Colour.Hsv(hue + 60, 0.5, 0.7)}:n=3:seed={hash}:speed=0.02:d={clip}:r={fps}");
        return FFMpegArguments
            .FromFileInput(source, verifyExists: false, o => o.WithCustomArgument("-f lavfi"))
            .OutputToFile(outputPath, overwrite: true, o => o
                .WithCustomArgument($"-vf \"hue=h='8*t',format=yuv420p\" -t {clip}")
                .WithClipEncoding(fps));
    }

    /// <summary>
    /// One storyboard PNG: a two-colour gradient whose hues step by the golden angle per beat, plus three boxes
    /// placed and coloured from a hash of the beat and subject. With a <paramref name="caption"/> (a text file and a font,
    /// both present) the beat's name and shot are written over it, top left, so the procedural clips read as an animatic
    /// of the plan; without one no text is drawn (a worker without fonts still renders).
    /// </summary>
    public static FFMpegArgumentProcessor Storyboard(int beatIndex, string beatName, string shot, string subject, int width, int height, string outputPath,
        (string TextFile, string FontFile)? caption = null)
    {
        var hash = StableHash.Of(beatIndex.ToString(CultureInfo.InvariantCulture), beatName, shot, subject);
        var hue = (beatIndex * 137.508 + hash % 30) % 360;
        var random = new Random((int)(hash & 0x7fffffff));
        // The gradient's direction also changes per beat (corner to corner, turned by the beat), so beats differ in
        // structure, not only in colour: SSIM, which mostly sees luma structure, tells them apart too.
        var corner = beatIndex % 4;
        var (x0, y0) = corner switch { 0 => (0, 0), 1 => (width - 1, 0), 2 => (width - 1, height - 1), _ => (0, height - 1) };
        var (x1, y1) = (width - 1 - x0, height - 1 - y0);
        var source = string.Create(CultureInfo.InvariantCulture,
            $"gradients=s={width}x{height}:c0=0x{Colour.Hsv(hue, 0.75, 0.95)}:c1=0x{Colour.Hsv(hue + 35, 0.8, 0.15)}:n=2:x0={x0}:y0={y0}:x1={x1}:y1={y1}:seed={hash}:d=1:r=1");
        var boxes = new StringBuilder();
        // Five boxes alternating bright and dark: strong edges placed per beat make beats differ in structure
        // (SSIM between two beats' images ~0.5-0.75), not only in hue.
        for (var i = 0; i < 5; i++)
        {
            var w = random.Next(width / 8, width / 3);
            var h = random.Next(height / 8, height / 3);
            var x = random.Next(0, width - w);
            var y = random.Next(0, height - h);
            var colour = Colour.Hsv(hue + 180 + i * 40, 0.55, i % 2 == 0 ? 0.95 : 0.12);
            boxes.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ",")}drawbox=x={x}:y={y}:w={w}:h={h}:color=0x{colour}@0.85:t=fill");
        }

        if (caption is { } c)
        {
            var size = Math.Max(12, height / 24);
            boxes.Append(CultureInfo.InvariantCulture,
                $",drawtext=fontfile='{c.FontFile}':textfile='{c.TextFile}':expansion=none:fontsize={size}:fontcolor=white:line_spacing={size / 3}:box=1:boxcolor=black@0.45:boxborderw={size / 2}:x={width / 8}:y={height / 8}");
        }

        return FFMpegArguments
            .FromFileInput(source, verifyExists: false, o => o.WithCustomArgument("-f lavfi"))
            .OutputToFile(outputPath, overwrite: true, o => o.WithCustomArgument($"-vf \"{boxes}\" -frames:v 1 -update 1"));
    }

    private static class Colour
    {
        /// <summary>RRGGBB hex of an HSV colour (hue in degrees, wraps).</summary>
        public static string Hsv(double hue, double saturation, double value)
        {
            hue = ((hue % 360) + 360) % 360;
            var c = value * saturation;
            var x = c * (1 - Math.Abs((hue / 60) % 2 - 1));
            var m = value - c;
            var (r, g, b) = (int)(hue / 60) switch
            {
                0 => (c, x, 0d),
                1 => (x, c, 0d),
                2 => (0d, c, x),
                3 => (0d, x, c),
                4 => (x, 0d, c),
                _ => (c, 0d, x),
            };
            return string.Create(CultureInfo.InvariantCulture,
                $"{(int)Math.Round((r + m) * 255):X2}{(int)Math.Round((g + m) * 255):X2}{(int)Math.Round((b + m) * 255):X2}");
        }
    }
}

/// <summary>FNV-1a over strings: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
internal static class StableHash
{
    public static uint Of(params string[] parts)
    {
        var hash = 2166136261u;
        foreach (var part in parts)
        {
            foreach (var ch in part)
            {
                hash = (hash ^ ch) * 16777619u;
            }

            hash = (hash ^ 0x1f) * 16777619u;
        }

        return hash;
    }
}
