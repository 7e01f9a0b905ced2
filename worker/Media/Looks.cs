using System.Globalization;
using System.Text;

namespace VideoGen.Worker.Media;

/// <summary>
/// The colour looks the finish step grades with, written by the project itself as 3D LUTs in the Adobe/Resolve
/// <c>.cube</c> format (17³ points, red fastest) and applied with FFmpeg's <c>lut3d</c>. Each look is a small
/// function of RGB in [0, 1]; nothing is downloaded.
/// </summary>
public static class Looks
{
    /// <summary>Points per axis: 17 is the common size for grading LUTs (trilinear between points).</summary>
    public const int Size = 17;

    private static readonly IReadOnlyDictionary<string, Func<double, double, double, (double R, double G, double B)>> Functions =
        new Dictionary<string, Func<double, double, double, (double, double, double)>>(StringComparer.Ordinal)
        {
            // Warmer whites, gently lifted contrast.
            ["warm"] = (r, g, b) => (Contrast(r * 1.06 + 0.015, 1.05), Contrast(g * 1.01, 1.05), Contrast(b * 0.90, 1.05)),
            // Cooler, cleaner: blue lifted, red held back.
            ["cool"] = (r, g, b) => (Contrast(r * 0.93, 1.04), Contrast(g * 0.99 + 0.005, 1.04), Contrast(b * 1.07 + 0.02, 1.04)),
            // The blockbuster split: shadows towards teal, highlights towards orange.
            ["teal_orange"] = (r, g, b) =>
            {
                var l = Luma(r, g, b);
                var shift = (l - 0.5) * 0.16;
                return (Contrast(r + shift, 1.08), Contrast(g + shift * 0.25, 1.08), Contrast(b - shift, 1.08));
            },
            // Black and white with a little more punch.
            ["mono"] = (r, g, b) =>
            {
                var l = Contrast(Luma(r, g, b), 1.12);
                return (l, l, l);
            },
        };

    /// <summary>Looks that need a LUT ("none" needs none).</summary>
    public static IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)Functions.Keys;

    /// <summary>Whether <paramref name="look"/> grades the picture.</summary>
    public static bool Grades(string look) => Functions.ContainsKey(look);

    /// <summary>The <c>.cube</c> text of <paramref name="look"/>; throws for "none" or an unknown look.</summary>
    public static string Cube(string look)
    {
        var f = Functions.TryGetValue(look, out var fn) ? fn : throw new ArgumentException($"Unknown look '{look}'.", nameof(look));
        var text = new StringBuilder(Size * Size * Size * 24);
        text.Append("TITLE \"VideoGen ").Append(look).Append("\"\n");
        text.Append("LUT_3D_SIZE ").Append(Size).Append('\n');
        for (var b = 0; b < Size; b++)
        {
            for (var g = 0; g < Size; g++)
            {
                for (var r = 0; r < Size; r++)
                {
                    var (R, G, B) = f(r / (Size - 1.0), g / (Size - 1.0), b / (Size - 1.0));
                    text.Append(Format(R)).Append(' ').Append(Format(G)).Append(' ').Append(Format(B)).Append('\n');
                }
            }
        }

        return text.ToString();
    }

    /// <summary>Writes <paramref name="look"/>'s LUT to <paramref name="path"/>.</summary>
    public static async Task WriteAsync(string look, string path, CancellationToken cancellationToken) =>
        await File.WriteAllTextAsync(path, Cube(look), cancellationToken);

    private static double Luma(double r, double g, double b) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

    private static double Contrast(double v, double amount) => (v - 0.5) * amount + 0.5;

    private static string Format(double v) => Math.Clamp(v, 0, 1).ToString("0.000000", CultureInfo.InvariantCulture);
}
