using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// Where a page of <see cref="IJobStore.List"/> ended: the last job's creation time (Unix
/// milliseconds) and its insertion sequence in the store (the tie-breaker). The next page holds the
/// jobs strictly older in that order, so jobs submitted meanwhile (all newer) never shift a page.
/// Clients see it as an opaque token (<see cref="Encode"/>).
/// </summary>
public readonly record struct JobCursor(long CreatedAtMs, long Sequence)
{
    private const string Version = "v1";

    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(FormattableString.Invariant($"{Version}.{CreatedAtMs}.{Sequence}")));

    /// <summary>Reads a token from <see cref="Encode"/>; false for anything else.</summary>
    public static bool TryDecode(string token, out JobCursor cursor)
    {
        cursor = default;
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            return false;
        }
        var parts = text.Split('.');
        if (parts.Length != 3 || parts[0] != Version
            || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var created)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return false;
        }
        cursor = new JobCursor(created, sequence);
        return true;
    }
}

/// <summary>A page of jobs, newest first, and where the next page starts (null: this was the last).</summary>
public sealed record JobPage(IReadOnlyList<VideoGen.Contracts.V1.Job> Jobs, JobCursor? Next);
