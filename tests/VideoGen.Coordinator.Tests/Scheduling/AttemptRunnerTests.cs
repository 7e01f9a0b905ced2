using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>The attempts' I/O as the loop's mailbox sees it: one command per worker batch, a break as a command, never an exception into the loop.</summary>
public sealed class AttemptRunnerTests
{
    private static RunTaskRequest Request(string taskId) => new() { JobId = "job-1", TaskId = taskId, Attempt = 2 };

    [Fact]
    public void AnAttemptTheTransportCannotEvenStart_IsBroken_NotThrownIntoTheLoop()
    {
        var posted = new List<Command>();
        using var transport = new GrpcWorkerTransport();
        var runner = new AttemptRunner(transport, posted.Add);

        // No channel can be made to this address: the real transport throws while queueing.
        runner.Start(new StartAttempt("http://[not an address", Request("chunk-0"), "job-1", "chunk-0", 2, CancellationToken.None));

        var broken = Assert.IsType<AttemptBroken>(Assert.Single(posted));
        Assert.Equal(("job-1", "chunk-0", 2, AttemptBreak.StreamLost), (broken.JobId, broken.TaskId, broken.Attempt, broken.Kind));
        Assert.StartsWith("lost the task's stream", broken.Detail);
    }

    [Fact]
    public void AWorkersBatch_IsOneCommand_WithEveryEventInOrder()
    {
        var posted = new List<Command>();
        var runner = new AttemptRunner(new NoTransport(), posted.Add);
        var batch = new List<WorkEvent>
        {
            new() { JobId = "job-1", TaskId = "chunk-0", Attempt = 2, Event = new TaskEvent { Accepted = new TaskAccepted { WorkerId = "w" } } },
            new() { JobId = "job-1", TaskId = "chunk-1", Attempt = 1, Event = new TaskEvent { Accepted = new TaskAccepted { WorkerId = "w" } } },
            new() { JobId = "job-1", TaskId = "chunk-0", Attempt = 2, Event = new TaskEvent { Completed = new TaskCompleted { OutputUri = "mem://0" } } },
        };

        runner.OnEvents(batch);
        runner.OnBroken(Request("chunk-1"), new AttemptBrokenException(AttemptBreak.WorkerBusy, "all 1 slots are busy"));

        Assert.Equal(batch, Assert.IsType<AttemptEvents>(posted[0]).Events);
        var broken = Assert.IsType<AttemptBroken>(posted[1]);
        Assert.Equal(("chunk-1", AttemptBreak.WorkerBusy, "all 1 slots are busy"), (broken.TaskId, broken.Kind, broken.Detail));
        Assert.Equal(2, posted.Count);
    }

    private sealed class NoTransport : IWorkerTransport
    {
        public IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
