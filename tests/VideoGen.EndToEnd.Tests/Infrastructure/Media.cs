using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VideoGen.EndToEnd.Tests.Infrastructure;

/// <summary>Checks on real media with the real ffprobe/ffmpeg.</summary>
public static partial class Media
{
    public sealed record VideoInfo(double DurationSeconds, int Width, int Height, string Codec, double Fps, int Frames);

    public static async Task<VideoInfo> ProbeAsync(string path)
    {
        var json = await RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=codec_name,width,height,avg_frame_rate,nb_read_packets:format=duration", "-of", "json", path]);
        using var doc = JsonDocument.Parse(json);
        var stream = doc.RootElement.GetProperty("streams")[0];
        var rate = stream.GetProperty("avg_frame_rate").GetString()!.Split('/');
        return new VideoInfo(
            double.Parse(doc.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture),
            stream.GetProperty("width").GetInt32(),
            stream.GetProperty("height").GetInt32(),
            stream.GetProperty("codec_name").GetString()!,
            double.Parse(rate[0], CultureInfo.InvariantCulture) / double.Parse(rate[1], CultureInfo.InvariantCulture),
            int.Parse(stream.GetProperty("nb_read_packets").GetString()!, CultureInfo.InvariantCulture));
    }

    /// <summary>Writes frame number <paramref name="frame"/> (from 0) of <paramref name="video"/> as a PNG.</summary>
    public static async Task<string> FrameAsync(string video, int frame, string outputPng)
    {
        await RunAsync("ffmpeg", ["-v", "error", "-y", "-i", video, "-vf", $"select=eq(n\\,{frame})", "-fps_mode", "passthrough", "-frames:v", "1", outputPng]);
        return File.Exists(outputPng) ? outputPng : throw new InvalidOperationException($"frame {frame} of {video} was not written");
    }

    /// <summary>SSIM (All) of two images of the same size, as FFmpeg's ssim filter computes it.</summary>
    public static async Task<double> SsimAsync(string a, string b)
    {
        var output = await RunAsync("ffmpeg", ["-v", "info", "-nostats", "-i", a, "-i", b, "-lavfi", "[0:v]format=yuv420p[x];[1:v]format=yuv420p[y];[x][y]ssim", "-f", "null", "-"], stderr: true);
        var m = SsimRegex().Match(output);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"no SSIM in: {output}");
    }

    [GeneratedRegex(@"All:([0-9.]+)")]
    private static partial Regex SsimRegex();

    /// <summary>Scene scores above <paramref name="threshold"/> (FFmpeg's scene detection): the hard cuts of a video.</summary>
    public static async Task<IReadOnlyList<double>> SceneCutsAsync(string video, double threshold = 0.3)
    {
        var output = await RunAsync("ffmpeg", ["-v", "error", "-i", video, "-vf", $"select='gt(scene,{threshold.ToString(CultureInfo.InvariantCulture)})',metadata=print:file=-", "-an", "-f", "null", "-"]);
        return SceneScoreRegex().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
    }

    [GeneratedRegex(@"lavfi\.scene_score=([0-9.]+)")]
    private static partial Regex SceneScoreRegex();

    /// <summary>Mean colour of an image (area-averaged to one pixel).</summary>
    public static async Task<(int R, int G, int B)> MeanColourAsync(string png)
    {
        var path = Path.ChangeExtension(png, ".rgb");
        await RunAsync("ffmpeg", ["-v", "error", "-y", "-i", png, "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", path]);
        var pixel = await File.ReadAllBytesAsync(path);
        return (pixel[0], pixel[1], pixel[2]);
    }

    /// <summary>Every frame's mean Y, U and V (signalstats of a 64×36 area average), in order.</summary>
    public static async Task<IReadOnlyList<(double Y, double U, double V)>> FrameColoursAsync(string video)
    {
        var output = await RunAsync("ffmpeg", ["-v", "error", "-i", video, "-vf", "scale=64:36:flags=area,signalstats,metadata=mode=print:file=-", "-an", "-f", "null", "-"]);
        var frames = new List<(double, double, double)>();
        double? y = null, u = null;
        foreach (var line in output.Split('\n'))
        {
            var m = StatRegex().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var value = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            switch (m.Groups[1].Value)
            {
                case "YAVG": y = value; break;
                case "UAVG": u = value; break;
                case "VAVG" when y is { } yy && u is { } uu: frames.Add((yy, uu, value)); (y, u) = (null, null); break;
            }
        }

        return frames;
    }

    [GeneratedRegex(@"^lavfi\.signalstats\.(YAVG|UAVG|VAVG)=([0-9.]+)")]
    private static partial Regex StatRegex();

    /// <summary>Every frame's mean luma difference to the frame before (signalstats YDIF; frame 0: 0).</summary>
    public static async Task<IReadOnlyList<double>> FrameDifferencesAsync(string video)
    {
        var output = await RunAsync("ffmpeg", ["-v", "error", "-i", video, "-vf", "signalstats,metadata=mode=print:key=lavfi.signalstats.YDIF:file=-", "-an", "-f", "null", "-"]);
        return YdifRegex().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
    }

    [GeneratedRegex(@"lavfi\.signalstats\.YDIF=([0-9.]+)")]
    private static partial Regex YdifRegex();

    /// <summary>Whether the MP4's <c>moov</c> box comes before its <c>mdat</c> (<c>+faststart</c>: players start at once).</summary>
    public static async Task<bool> MoovFirstAsync(string mp4)
    {
        var text = System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(mp4));
        var (moov, mdat) = (text.IndexOf("moov", StringComparison.Ordinal), text.IndexOf("mdat", StringComparison.Ordinal));
        return moov >= 0 && moov < mdat;
    }

    /// <summary>Runs ffmpeg or ffprobe, bounded; throws with its stderr when it fails.</summary>
    public static async Task<string> RunAsync(string file, string[] args, bool stderr = false)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var err = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await err}");
        }

        return stderr ? await err : await stdout;
    }
}
