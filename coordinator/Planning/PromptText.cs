using System.Globalization;
using System.Text.RegularExpressions;

namespace VideoGen.Coordinator.Planning;

/// <summary>Small text helpers for the rule-based planner.</summary>
internal static partial class PromptText
{
    public static HashSet<string> Words(string text) =>
        WordRegex().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"[a-z]+")]
    private static partial Regex WordRegex();

    /// <summary>The prompt's words in order, each reduced to its stem (<see cref="Stem"/>), joined by single spaces and padded with one.</summary>
    public static string StemmedText(string text) =>
        " " + string.Join(' ', WordRegex().Matches(text.ToLowerInvariant()).Select(m => Stem(m.Value))) + " ";

    private static readonly string[] Suffixes = ["ments", "ment", "ings", "ing", "ers", "er", "ed", "es", "s"];

    /// <summary>
    /// A light English stemmer, enough for matching words to template keywords by form: "announcing", "announced",
    /// "announcement" → "announc"; "launches", "launching" → "launch"; "showcase", "showcasing" → "showcas";
    /// "shopping" → "shop". It strips one common suffix (keeping at least 3 letters), a doubled final consonant,
    /// and a final "e".
    /// </summary>
    public static string Stem(string word)
    {
        var stem = word.ToLowerInvariant();
        foreach (var suffix in Suffixes)
        {
            if (stem.Length - suffix.Length >= 3 && stem.EndsWith(suffix, StringComparison.Ordinal))
            {
                stem = stem[..^suffix.Length];
                if (stem.Length >= 4 && stem[^1] == stem[^2] && !"aeiouls".Contains(stem[^1]))
                {
                    stem = stem[..^1];
                }

                break;
            }
        }

        return stem.Length > 3 && stem[^1] == 'e' ? stem[..^1] : stem;
    }

    public static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
