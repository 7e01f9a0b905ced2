using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

public sealed class RetryPolicyTests
{
    private readonly RetryPolicy _policy = new(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));

    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(3, 4000)]
    [InlineData(4, 5000)]
    [InlineData(10, 5000)]
    public void Delay_WithoutJitter_DoublesUpToTheCap(int failures, double expectedMs)
    {
        Assert.Equal(expectedMs, _policy.Delay(failures, 0.5).TotalMilliseconds, 3);
    }

    [Fact]
    public void Delay_Jitter_StaysWithinTwentyPercent()
    {
        Assert.Equal(800, _policy.Delay(1, 0).TotalMilliseconds, 3);
        Assert.Equal(1199.99, _policy.Delay(1, 0.99999).TotalMilliseconds, 0);
    }

    [Fact]
    public void CanRetry_StopsAtMaxAttempts()
    {
        Assert.True(_policy.CanRetry(2));
        Assert.False(_policy.CanRetry(3));
    }
}
