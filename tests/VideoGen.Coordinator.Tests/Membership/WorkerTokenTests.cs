using VideoGen.Security;

namespace VideoGen.Coordinator.Tests.Membership;

public sealed class WorkerTokenTests
{
    private const string Token = "0123456789abcdef-farm";

    [Theory]
    [InlineData("Bearer 0123456789abcdef-farm", true)]
    [InlineData("bearer 0123456789abcdef-farm", true)] // the scheme is case-insensitive (RFC 7235)
    [InlineData("Bearer 0123456789abcdef-farm ", true)]
    [InlineData("Bearer 0123456789abcdef-far", false)] // a prefix is not the token
    [InlineData("Bearer 0123456789abcdef-farmX", false)]
    [InlineData("0123456789abcdef-farm", false)] // no scheme
    [InlineData("Basic 0123456789abcdef-farm", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Matches_OnlyTheBearerToken(string? header, bool expected) => Assert.Equal(expected, WorkerToken.Matches(header, Token));

    [Fact]
    public void Matches_NothingWhenNoTokenIsExpected() => Assert.False(WorkerToken.Matches("Bearer ", ""));

    [Fact]
    public void New_IsLongRandomAndHeaderSafe()
    {
        var tokens = Enumerable.Range(0, 100).Select(_ => WorkerToken.New()).ToList();

        Assert.Equal(100, tokens.Distinct().Count());
        Assert.All(tokens, t => Assert.Matches("^[A-Za-z0-9_-]{43}$", t));
        Assert.All(tokens, t => Assert.True(WorkerToken.Matches(WorkerToken.HeaderValue(t), t)));
    }
}
