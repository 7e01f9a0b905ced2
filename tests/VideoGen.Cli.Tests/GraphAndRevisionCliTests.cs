using VideoGen.Cli.Commands;
using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Tests;

/// <summary>Issue 16 in the CLI: --strategy, the estimate's strategies and a revision's reuse, and revise's usage errors.</summary>
public class GraphAndRevisionCliTests
{
    private static async Task<(int Code, string Output, string Errors)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await CliApp.RunAsync(args, output, errors, interactive: false, TimeProvider.System, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));
        return (code, output.ToString(), errors.ToString());
    }

    [Fact]
    public void Estimate_ListsEveryStrategy_AndARevisionsReuse()
    {
        var estimate = new EstimateJobResponse
        {
            Plan = new Plan { Strategy = GraphStrategy.Keyframes, Keyframes = 6 },
            Strategies =
            {
                new StrategyEstimate { Strategy = GraphStrategy.Keyframes, Capability = "flf2v", Chunks = 6, Keyframes = 6, ExpectedWallSeconds = 14.9, Chosen = true },
                new StrategyEstimate { Strategy = GraphStrategy.Chain, Capability = "i2v", Chunks = 6, ExpectedWallSeconds = 18.7 },
            },
            Revision = new RevisionEstimate { RevisionOf = "job-1", ReusedTaskIds = { "storyboard-0", "chunk-0" }, RenderedTaskIds = { "chunk-1", "stitch", "finish" }, ReusedCostUsd = 0.45 },
        };

        var lines = Tables.Estimate(estimate).ReplaceLineEndings("\n").Split('\n');

        Assert.Contains(lines, l => l.StartsWith("plan ", StringComparison.Ordinal) && l.EndsWith(", graph keyframes (6 keyframes)", StringComparison.Ordinal));
        Assert.Contains("revision   of job-1: 2 tasks reused ($0.450 not paid again), 3 run: chunk-1, stitch, finish", lines);
        Assert.Contains(lines, l => l.StartsWith("keyframes ", StringComparison.Ordinal) && l.Contains("flf2v") && l.Contains("~14.9 s") && l.EndsWith("chosen", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("chain ", StringComparison.Ordinal) && l.Contains("i2v") && l.Contains("~18.7 s"));
    }

    [Theory]
    [InlineData(new[] { "submit", "a lamp", "--strategy", "sideways" }, "--strategy must be chain, keyframes, extend or text, got 'sideways'")]
    [InlineData(new[] { "revise", "job-1", "--shot", "closer" }, "--shot and --text need --beat N")]
    [InlineData(new[] { "revise", "job-1", "--seed", "3:42" }, "--seed takes CHUNK=SEED pairs, e.g. 3=42; got '3:42'")]
    public async Task BadOptions_ExitTwo_SayingWhy(string[] args, string expected)
    {
        var (code, _, errors) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, errors);
    }
}
