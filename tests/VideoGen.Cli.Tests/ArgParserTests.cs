using VideoGen.Cli.Commands;

namespace VideoGen.Cli.Tests;

public class ArgParserTests
{
    [Fact]
    public void Parse_SubmitWithOptions_ReadsPromptOptionsAndGlobals()
    {
        var parsed = ArgParser.Parse(
            ["--json", "submit", "a 30 second video", "--duration=12.5", "--priority", "-5", "--watch", "--coordinator", "127.0.0.1:9000"]);

        Assert.Equal("submit", parsed.Command!.Name);
        Assert.Equal("a 30 second video", parsed.Positional(0));
        Assert.Equal(12.5, parsed.GetDouble("duration"));
        Assert.Equal(-5, parsed.GetInt("priority"));
        Assert.True(parsed.Has("watch"));
        Assert.True(parsed.Json);
        Assert.Equal("127.0.0.1:9000", parsed.Get("coordinator"));
    }

    [Fact]
    public void Parse_FarmUp_IsOneTwoWordCommand()
    {
        var parsed = ArgParser.Parse(["farm", "up", "--workers", "3", "--dir", "x"]);

        Assert.Equal("farm up", parsed.Command!.Name);
        Assert.Equal(3, parsed.GetInt("workers", 2, 1));
        Assert.Equal("x", parsed.Get("dir"));
    }

    [Fact]
    public void Parse_DoubleDash_EndsOptions()
    {
        var parsed = ArgParser.Parse(["submit", "--", "--not-an-option"]);

        Assert.Equal("--not-an-option", parsed.Positional(0));
    }

    [Theory]
    [InlineData(new[] { "bogus" }, "unknown command 'bogus'")]
    [InlineData(new[] { "submit" }, "'submit' needs PROMPT")]
    [InlineData(new[] { "submit", "a", "b" }, "unexpected argument 'b'")]
    [InlineData(new[] { "submit", "a", "--colour", "red" }, "unknown option '--colour' for 'submit'")]
    [InlineData(new[] { "submit", "a", "--duration" }, "option '--duration' needs a value")]
    [InlineData(new[] { "workers", "--json=yes" }, "option '--json' takes no value")]
    [InlineData(new[] { "farm" }, "'farm' needs a subcommand")]
    [InlineData(new[] { "farm", "down" }, "unknown command 'farm down'")]
    [InlineData(new string[0], "missing command")]
    public void Parse_BadLine_ThrowsUsageNamingTheProblem(string[] args, string expected)
    {
        var ex = Assert.Throws<UsageException>(() => ArgParser.Parse(args));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Parse_CommandHelp_NeedsNoPositional()
    {
        var parsed = ArgParser.Parse(["watch", "--help"]);

        Assert.True(parsed.HelpRequested);
        Assert.Equal("watch", parsed.Command!.Name);
    }

    [Fact]
    public void GetDouble_NotANumber_ThrowsUsage()
    {
        var parsed = ArgParser.Parse(["estimate", "p", "--duration", "ten"]);

        var ex = Assert.Throws<UsageException>(() => parsed.GetDouble("duration"));
        Assert.Contains("--duration expects a number", ex.Message);
    }

    [Fact]
    public void JobRequestBuilder_MapsEveryOption()
    {
        var parsed = ArgParser.Parse(
            ["submit", "p", "--duration", "10", "--template", "lifestyle_ad", "--model", "m", "--continuity", "strict",
             "--priority", "7", "--tenant", "acme", "--max-cost", "2.5"]);

        var request = JobRequestBuilder.Build(parsed);

        Assert.Equal("p", request.Prompt);
        Assert.True(request.HasDurationSeconds);
        Assert.Equal(10, request.DurationSeconds);
        Assert.Equal("lifestyle_ad", request.Template);
        Assert.Equal("m", request.Model);
        Assert.Equal(Contracts.V1.Continuity.Strict, request.Continuity);
        Assert.Equal(7, request.Priority);
        Assert.Equal("acme", request.Tenant);
        Assert.Equal(2.5, request.MaxCostUsd);
    }

    [Fact]
    public void JobRequestBuilder_NoDuration_LeavesFieldUnset()
    {
        var request = JobRequestBuilder.Build(ArgParser.Parse(["submit", "p"]));

        Assert.False(request.HasDurationSeconds);
        Assert.False(request.HasMaxCostUsd);
        Assert.False(request.HasColourMatch);
        Assert.False(request.HasEndCard);
    }

    [Fact]
    public void JobRequestBuilder_FinishingFlags_TurnColourMatchAndEndCardOff()
    {
        var request = JobRequestBuilder.Build(ArgParser.Parse(["submit", "p", "--no-colour-match", "--no-end-card", "--look", "warm", "--aspect", "9:16, 1:1"]));

        Assert.True(request.HasColourMatch && !request.ColourMatch);
        Assert.True(request.HasEndCard && !request.EndCard);
        Assert.Equal("warm", request.Look);
        Assert.Equal(["9:16", "1:1"], request.AspectRatios.ToArray());
    }

    [Fact]
    public void JobRequestBuilder_UnknownContinuity_ThrowsUsage()
    {
        var parsed = ArgParser.Parse(["submit", "p", "--continuity", "loose"]);

        Assert.Throws<UsageException>(() => JobRequestBuilder.Build(parsed));
    }
}
