using System.Buffers;
using Google.Protobuf;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// How the SQLite store keeps events: one row per job and commit (a <em>run</em>), its body the run's events in
/// sequence order, each as a varint length and the event's protobuf bytes (protobuf's delimited form). A pass of the
/// loop commits a few events for each of a few jobs; one row per event cost SQLite a b-tree insert each (4.5 µs, the
/// largest part of the gRPC throughput bench's commit), one row per run costs one per job.
/// The store's contract holds: within a commit and across commits the first write of a (job, sequence) wins, and
/// <see cref="Read"/> returns a job's events after a sequence in order.
/// </summary>
internal static class EventRuns
{
    /// <summary>The events of one commit by job, each job's in sequence order without repeats (the first kept).</summary>
    public static IEnumerable<(string JobId, List<JobEvent> Run)> Group(IReadOnlyCollection<JobEvent> events)
    {
        var byJob = new Dictionary<string, List<JobEvent>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var e in events)
        {
            if (!byJob.TryGetValue(e.JobId, out var run))
            {
                byJob[e.JobId] = run = [];
                order.Add(e.JobId);
            }

            run.Add(e);
        }

        foreach (var jobId in order)
        {
            var run = byJob[jobId];
            if (!InOrder(run))
            {
                // Stable, so that of two events with one sequence the first written stays first and is kept.
                run = [.. run.OrderBy(e => e.Sequence)];
                run = [.. run.Where((e, i) => i == 0 || run[i - 1].Sequence != e.Sequence)];
            }

            yield return (jobId, run);
        }
    }

    /// <summary>Writes <paramref name="run"/> (in order, no repeats) as one body.</summary>
    public static void Write(List<JobEvent> run, ArrayBufferWriter<byte> buffer)
    {
        foreach (var e in run)
        {
            var size = e.CalculateSize();
            var prefix = CodedOutputStream.ComputeLengthSize(size);
            var span = buffer.GetSpan(prefix + size);
            var at = 0;
            for (var v = (uint)size; ; v >>= 7)
            {
                if (v < 0x80)
                {
                    span[at++] = (byte)v;
                    break;
                }

                span[at++] = (byte)(v | 0x80);
            }

            e.WriteTo(span.Slice(at, size));
            buffer.Advance(at + size);
        }
    }

    /// <summary>
    /// The events after <paramref name="afterSequence"/> in the run bodies <paramref name="bodies"/>, given in the order
    /// they were written: in sequence order, the first written of each sequence.
    /// </summary>
    public static List<JobEvent> Read(IEnumerable<byte[]> bodies, long afterSequence)
    {
        var events = new List<JobEvent>();
        var seen = new HashSet<long>();
        foreach (var body in bodies)
        {
            var input = new CodedInputStream(body);
            while (!input.IsAtEnd)
            {
                var e = new JobEvent();
                input.ReadMessage(e);
                if (e.Sequence > afterSequence && seen.Add(e.Sequence))
                {
                    events.Add(e);
                }
            }
        }

        // Stable; sequences are unique here.
        return [.. events.OrderBy(e => e.Sequence)];
    }

    private static bool InOrder(List<JobEvent> run)
    {
        for (var i = 1; i < run.Count; i++)
        {
            if (run[i].Sequence <= run[i - 1].Sequence)
            {
                return false;
            }
        }

        return true;
    }
}
