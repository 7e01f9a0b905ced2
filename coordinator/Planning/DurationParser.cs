using System.Globalization;
using System.Text.RegularExpressions;

namespace VideoGen.Coordinator.Planning;

/// <summary>
/// Finds a duration stated in a prompt: "30 seconds", "30s", "a 45-second spot", "half a minute",
/// "1 minute", "90 sec", "1.5 minutes", "thirty seconds", "a minute and a half".
/// The original system's hardest-won lesson: a duration the user states wins over template defaults.
/// </summary>
public static partial class DurationParser
{
    private static readonly Dictionary<string, double> NumberWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["a"] = 1, ["an"] = 1, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6,
        ["seven"] = 7, ["eight"] = 8, ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12,
        ["thirteen"] = 13, ["fourteen"] = 14, ["fifteen"] = 15, ["sixteen"] = 16, ["seventeen"] = 17,
        ["eighteen"] = 18, ["nineteen"] = 19, ["twenty"] = 20, ["thirty"] = 30, ["forty"] = 40,
        ["fifty"] = 50, ["sixty"] = 60, ["seventy"] = 70, ["eighty"] = 80, ["ninety"] = 90,
    };

    /// <summary>The first duration stated in <paramref name="prompt"/>, in seconds, with the matched text; null when none.</summary>
    public static (double Seconds, string Text)? Find(string prompt)
    {
        var special = SpecialRegex().Match(prompt);
        var numeric = NumericRegex().Match(prompt);
        var words = WordNumberRegex().Match(prompt);
        var candidates = new[] { special, numeric, words }.Where(m => m.Success).OrderBy(m => m.Index).ToList();
        foreach (var m in candidates)
        {
            double? seconds = m == special ? SpecialSeconds(m) : m == numeric ? NumericSeconds(m) : WordSeconds(m);
            if (seconds is { } s)
            {
                return (s, m.Value.Trim());
            }
        }

        return null;
    }

    private static double? SpecialSeconds(Match m)
    {
        var text = m.Value.ToLowerInvariant();
        if (text.Contains("half a minute") || text.Contains("half-minute") || text.Contains("half minute"))
        {
            return 30;
        }

        if (text.Contains("and a half"))
        {
            return 90;
        }

        return text.Contains("quarter") ? 15 : 60;
    }

    private static double? NumericSeconds(Match m)
    {
        if (!double.TryParse(m.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return null;
        }

        return Scale(n, m.Groups["unit"].Value);
    }

    private static double? WordSeconds(Match m)
    {
        var tens = m.Groups["tens"].Value;
        var ones = m.Groups["ones"].Value;
        double n = 0;
        if (tens.Length > 0)
        {
            n += NumberWords[tens];
        }

        if (ones.Length > 0)
        {
            n += NumberWords[ones];
        }

        return n > 0 ? Scale(n, m.Groups["unit"].Value) : null;
    }

    private static double Scale(double n, string unit) =>
        unit.StartsWith('m') || unit.StartsWith('M') ? n * 60 : n;

    [GeneratedRegex(@"\b(half\s+a\s+minute|half[-\s]minute|a\s+minute\s+and\s+a\s+half|(?:a|one)\s+minute(?!s)|quarter\s+of\s+a\s+minute)\b", RegexOptions.IgnoreCase)]
    private static partial Regex SpecialRegex();

    [GeneratedRegex(@"(?<![\w.])(?<n>\d+(?:\.\d+)?)\s*-?\s*(?<unit>seconds?|secs?|s|minutes?|mins?)\b", RegexOptions.IgnoreCase)]
    private static partial Regex NumericRegex();

    [GeneratedRegex(@"\b(?:(?<tens>twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\s](?<ones>one|two|three|four|five|six|seven|eight|nine))?|(?<ones>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen))\s*-?\s*(?<unit>seconds?|secs?|minutes?|mins?)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WordNumberRegex();
}
