namespace VideoGen.TestDoubles;

/// <summary>
/// A stand-in's "something changed" signal: the stand-in calls <see cref="Notify"/> after each change of its state, and a
/// test waits on it for a condition instead of polling or sleeping.
/// </summary>
public sealed class ChangeSignal
{
    private readonly object _gate = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes every waiter (each checks its condition again).</summary>
    public void Notify()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Waits until <paramref name="condition"/> holds; after <paramref name="timeout"/> throws a <see cref="TimeoutException"/> saying <paramref name="describe"/>().</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _next.Task;
            }

            // Taken before the check: a change between the check and the wait still wakes it.
            if (condition())
            {
                return;
            }

            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException(describe());
            }
        }
    }
}
