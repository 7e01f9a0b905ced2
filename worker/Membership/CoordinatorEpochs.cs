using VideoGen.Errors;

namespace VideoGen.Worker.Membership;

/// <summary>
/// Fencing on the worker's side: the highest coordinator leadership epoch seen in a task or a cancel. A request that
/// carries an older epoch comes from a deposed leader and is refused (<see cref="StaleEpochException"/>, ABORTED), so two
/// leaders can never both start work here. Epoch 0 is a coordinator without standbys (no lease): not fenced.
/// </summary>
public sealed class CoordinatorEpochs
{
    private long _highest;

    /// <summary>The highest epoch seen so far (0: none).</summary>
    public long Highest => Interlocked.Read(ref _highest);

    /// <summary>Records <paramref name="epoch"/>; throws when a newer leader was seen already.</summary>
    public void Admit(long epoch, string what)
    {
        if (epoch <= 0)
        {
            return;
        }

        while (true)
        {
            var highest = Interlocked.Read(ref _highest);
            if (epoch < highest)
            {
                throw new StaleEpochException($"{what} comes from coordinator epoch {epoch}, but epoch {highest} leads now: refused");
            }

            if (epoch == highest || Interlocked.CompareExchange(ref _highest, epoch, highest) == highest)
            {
                return;
            }
        }
    }
}
