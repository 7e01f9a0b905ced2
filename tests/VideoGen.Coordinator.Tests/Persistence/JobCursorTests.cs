using VideoGen.Coordinator.Persistence;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>ListJobs page tokens: opaque, and only this server's own are accepted.</summary>
public sealed class JobCursorTests
{
    [Fact]
    public void JobCursor_Token_RoundTrips_AndForeignTokensAreRefused()
    {
        var cursor = new JobCursor(1_795_000_000_123, 42);

        Assert.True(JobCursor.TryDecode(cursor.Encode(), out var decoded));
        Assert.Equal(cursor, decoded);
        Assert.DoesNotContain("42", cursor.Encode()); // opaque: not a number a client could edit
        foreach (var foreign in new[] { "20", "%%%", "djEuMQ", Convert.ToBase64String("v2.1.2"u8.ToArray()) })
        {
            Assert.False(JobCursor.TryDecode(foreign, out _), foreign);
        }
    }
}
