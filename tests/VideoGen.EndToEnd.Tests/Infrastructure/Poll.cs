namespace VideoGen.EndToEnd.Tests.Infrastructure;

/// <summary>A bounded poll for a condition that has no signal to wait on (another process's state).</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{failure} (after {timeout.TotalSeconds} s)");
            }

            await Task.Delay(50);
        }
    }
}
