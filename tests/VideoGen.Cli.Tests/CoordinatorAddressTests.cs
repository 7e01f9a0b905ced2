using VideoGen.Cli.Client;

namespace VideoGen.Cli.Tests;

/// <summary>--coordinator takes one address or a list of them, tried in order (pick-first).</summary>
public sealed class CoordinatorAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:7070", "http://127.0.0.1:7070")]
    [InlineData("https://farm.example:443", "https://farm.example:443")]
    [InlineData(" 10.0.0.1:7070 , 10.0.0.2:7070 ", "http://10.0.0.1:7070,http://10.0.0.2:7070")]
    [InlineData("a:1,,b:2", "http://a:1,http://b:2")]
    public void Normalize_AddsTheSchemeToEach_AndKeepsTheOrder(string given, string expected)
    {
        Assert.Equal(expected, CoordinatorConnection.Normalize(given));
    }

    [Fact]
    public void Addresses_AreTheListInOrder()
    {
        Assert.Equal(["http://a:1/", "http://b:2/"], CoordinatorConnection.Addresses("http://a:1,http://b:2").Select(u => u.ToString()));
    }

    [Fact]
    public void Addresses_MixingSchemes_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => CoordinatorConnection.Addresses("http://a:1,https://b:2"));

        Assert.Contains("mix http:// and https://", error.Message);
    }

    [Fact]
    public void CredentialFile_OfAList_IsTheFirstCoordinators()
    {
        Assert.Equal(Credentials.CredentialFile("/cfg", "127.0.0.1:7070"), Credentials.CredentialFile("/cfg", "127.0.0.1:7070,127.0.0.1:7170"));
    }
}
