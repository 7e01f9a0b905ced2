using System.Buffers;
using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using VideoGen.Contracts.V1;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Persistence;

/// <summary>
/// Jobs nobody changes once handed over: the scheduler's published copies (<c>JobSnapshots</c>), whose plan and task
/// objects are shared from one copy of a job to the next while they stay the same. A store may reuse what it
/// serialized for such an object when it sees the same object again (<see cref="JobBodies"/>).
/// </summary>
public sealed class JobCopies : List<Job>;

/// <summary>
/// A job's stored body (its protobuf bytes), written without serializing again what did not change: for jobs handed
/// over as <see cref="JobCopies"/>, the bytes of the plan and of each task are kept per job and reused while the copy
/// holds the same object (a pass usually changes one or two of a job's 142 tasks; serializing all of them again was
/// three quarters of a commit's time in the gRPC throughput bench). The body parses to the job, equal by value; its
/// fields are in another order than <c>ToByteArray</c>'s (the job's own fields, then the plan, then the tasks), which
/// protobuf parsers accept. Any other job is serialized whole. Used by the store's one writer thread only.
/// </summary>
internal sealed class JobBodies
{
    // Every field of Job but the plan and the tasks, from the descriptor: a field added to Job is written with no change here.
    private static readonly FieldDescriptor[] OwnFields =
        [.. Job.Descriptor.Fields.InFieldNumberOrder().Where(f => f.FieldNumber is not (Job.PlanFieldNumber or Job.TasksFieldNumber))];

    private static readonly uint PlanTag = WireFormat.MakeTag(Job.PlanFieldNumber, WireFormat.WireType.LengthDelimited);
    private static readonly uint TaskTag = WireFormat.MakeTag(Job.TasksFieldNumber, WireFormat.WireType.LengthDelimited);

    private readonly Dictionary<string, Parts> _parts = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);

    /// <summary>Jobs whose parts' bytes are kept (tests).</summary>
    public int Kept => _parts.Count;

    /// <summary>The job's body, valid until the next call. <paramref name="unchanging"/>: the job came in <see cref="JobCopies"/>.</summary>
    public ReadOnlySpan<byte> Write(Job job, bool unchanging)
    {
        _buffer.ResetWrittenCount();
        if (!unchanging)
        {
            Append(job);
            return _buffer.WrittenSpan;
        }

        var terminal = job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
        if (!_parts.TryGetValue(job.JobId, out var parts))
        {
            parts = new Parts();
            if (!terminal)
            {
                _parts[job.JobId] = parts;
            }
        }
        else if (terminal)
        {
            // Its last body: nothing to reuse it for after this.
            _parts.Remove(job.JobId);
        }

        Append(OwnFieldsOf(job));
        if (job.Plan is { } plan)
        {
            if (!ReferenceEquals(plan, parts.Plan))
            {
                (parts.Plan, parts.PlanBytes) = (plan, plan.ToByteArray());
            }

            AppendField(PlanTag, parts.PlanBytes!);
        }

        var tasks = job.Tasks;
        if (parts.Tasks.Length != tasks.Count)
        {
            Array.Resize(ref parts.Tasks, tasks.Count);
            Array.Resize(ref parts.TaskBytes, tasks.Count);
        }

        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            if (!ReferenceEquals(task, parts.Tasks[i]))
            {
                (parts.Tasks[i], parts.TaskBytes[i]) = (task, task.ToByteArray());
            }

            AppendField(TaskTag, parts.TaskBytes[i]);
        }

        return _buffer.WrittenSpan;
    }

    /// <summary>A job with the same fields as <paramref name="job"/> but no plan and no tasks, sharing every value (written, then dropped).</summary>
    private static Job OwnFieldsOf(Job job)
    {
        var own = new Job();
        foreach (var field in OwnFields)
        {
            var accessor = field.Accessor;
            if (field.IsRepeated)
            {
                var into = (IList)accessor.GetValue(own);
                foreach (var item in (IList)accessor.GetValue(job))
                {
                    into.Add(item);
                }
            }
            else if (!field.HasPresence || accessor.HasValue(job))
            {
                accessor.SetValue(own, accessor.GetValue(job));
            }
        }

        return own;
    }

    private void Append(IMessage message)
    {
        var size = message.CalculateSize();
        message.WriteTo(_buffer.GetSpan(size)[..size]);
        _buffer.Advance(size);
    }

    private void AppendField(uint tag, byte[] bytes)
    {
        var span = _buffer.GetSpan(10 + bytes.Length);
        var n = WriteVarint(span, tag);
        n += WriteVarint(span[n..], (uint)bytes.Length);
        bytes.CopyTo(span[n..]);
        _buffer.Advance(n + bytes.Length);
    }

    private static int WriteVarint(Span<byte> span, uint value)
    {
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        return n;
    }

    private sealed class Parts
    {
        public Plan? Plan;
        public byte[]? PlanBytes;
        public TaskStatus[] Tasks = [];
        public byte[][] TaskBytes = [];
    }
}
