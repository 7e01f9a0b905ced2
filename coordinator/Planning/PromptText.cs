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

    public static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
