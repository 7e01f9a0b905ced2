using Google.Protobuf.WellKnownTypes;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Persistence;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>
/// The stored body of a job (issue 17, item 5): for the scheduler's copies (<see cref="JobCopies"/>) the bytes of a plan
/// or task object seen before are reused, not serialized again; whatever the path, the body parses to the job.
/// </summary>
public sealed class JobBodiesTests
{
    private static Job FullJob()
    {
        var job = new Job
        {
            JobId = "job-1",
            RequestId = "req-1",
            Request = new JobRequest { Prompt = "a 20 second showcase", Tenant = "acme", DurationSeconds = 20, Priority = 3 },
            State = JobState.Rendering,
            Plan = new Plan { Model = "procedural-i2v", Spec = new Spec { Subject = "a watch" }, ClipSeconds = 5 },
            CostUsd = 1.25,
            OutputUri = "s3://bucket/job-1.mp4",
            OutputDurationSeconds = 20,
            Error = "none yet",
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.Parse("2026-11-29T10:00:00Z")),
            FinishedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.Parse("2026-11-29T10:05:00Z")),
            LastSequence = 42,
            OutputUrl = "https://example.test/job-1.mp4",
            Deliverables = { new Deliverable { AspectRatio = "16:9", Uri = "s3://bucket/job-1.mp4" }, new Deliverable { AspectRatio = "9:16", Uri = "s3://bucket/job-1-vertical.mp4" } },
        };
        for (var i = 0; i < 6; i++)
        {
            job.Tasks.Add(new TaskStatus { TaskId = $"chunk-{i}", Kind = TaskKind.Chunk, Index = i, State = TaskState.Waiting, DependsOn = { $"storyboard-{i / 3}" } });
        }

        return job;
    }

    private static Job Parse(ReadOnlySpan<byte> body) => Job.Parser.ParseFrom(body);

    [Fact]
    public void EveryFieldOfTheJob_IsInTheBody_OnBothPaths()
    {
        // Every one of Job's fields is set above: a field added to Job must be set there too (and is then written).
        Assert.Equal(15, Job.Descriptor.Fields.InFieldNumberOrder().Count);
        var job = FullJob();

        Assert.Equal(job, Parse(new JobBodies().Write(job, unchanging: true)));
        Assert.Equal(job, Parse(new JobBodies().Write(job, unchanging: false)));
    }

    [Fact]
    public void NextCopy_ParsesToItself_ReusingTheBytesOfThePartsItShares()
    {
        var bodies = new JobBodies();
        var first = FullJob();
        bodies.Write(first, unchanging: true);

        // The next copy, as JobSnapshots makes it: its own fields cloned, the plan and unchanged tasks shared, one task new.
        var next = first.Clone();
        next.Plan = first.Plan;
        next.Tasks.Clear();
        next.Tasks.AddRange(first.Tasks);
        next.Tasks[2] = first.Tasks[2].Clone();
        next.Tasks[2].State = TaskState.Running;
        next.LastSequence = 43;

        Assert.Equal(next, Parse(bodies.Write(next, unchanging: true)));

        // Reused, not serialized again: a shared task changed in place (which JobCopies promise never happens) does not show.
        next.Tasks[4].State = TaskState.Succeeded;
        var stored = Parse(bodies.Write(next, unchanging: true));
        Assert.Equal(TaskState.Waiting, stored.Tasks[4].State);
        Assert.Equal(TaskState.Running, stored.Tasks[2].State);
    }

    [Fact]
    public void AJobNotHandedOverAsCopies_IsSerializedWhole_EveryTime()
    {
        var bodies = new JobBodies();
        var job = FullJob();
        bodies.Write(job, unchanging: false);

        job.Tasks[4].State = TaskState.Succeeded;
        job.Plan.Model = "procedural-flf2v";

        Assert.Equal(job, Parse(bodies.Write(job, unchanging: false)));
        Assert.Equal(0, bodies.Kept);
    }

    [Fact]
    public void TasksAddedOrRemoved_BetweenCopies_AreWrittenAsTheyAre()
    {
        var bodies = new JobBodies();
        var first = FullJob();
        bodies.Write(first, unchanging: true);

        var longer = first.Clone();
        longer.Tasks.Add(new TaskStatus { TaskId = "stitch", Kind = TaskKind.Stitch });
        Assert.Equal(longer, Parse(bodies.Write(longer, unchanging: true)));

        var shorter = first.Clone();
        shorter.Tasks.RemoveAt(0);
        Assert.Equal(shorter, Parse(bodies.Write(shorter, unchanging: true)));
    }

    [Fact]
    public void AJobThatEnded_KeepsNoParts()
    {
        var bodies = new JobBodies();
        var job = FullJob();
        bodies.Write(job, unchanging: true);
        Assert.Equal(1, bodies.Kept);

        var done = job.Clone();
        done.State = JobState.Succeeded;

        Assert.Equal(done, Parse(bodies.Write(done, unchanging: true)));
        Assert.Equal(0, bodies.Kept);
    }
}
