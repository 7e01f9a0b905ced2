using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>The ready set a dispatch pass reads best first, per tenant (issue 17, item 5). Pure.</summary>
public sealed class ReadyTasksTests
{
    private static JobRecord Job(string id, long order, string tenant = "acme", int priority = 0, int tasks = 3)
    {
        var job = new Job { JobId = id, Request = new JobRequest { Tenant = tenant, Priority = priority } };
        for (var i = 0; i < tasks; i++)
        {
            job.Tasks.Add(new TaskStatus { TaskId = $"chunk-{i}", Kind = TaskKind.Chunk, Index = i });
        }

        var record = new JobRecord(job, order);
        record.IndexTasks();
        return record;
    }

    private static TaskRef Ref(JobRecord job, int task) => new(job, job.Job.Tasks[task]);

    private static string[] Names(IEnumerable<TaskRef> tasks) => [.. tasks.Select(t => $"{t.Job.Job.JobId}/{t.Task.TaskId}")];

    [Fact]
    public void EachTenant_BestFirst_HigherPriorityThenOlderJobThenEarlierTask()
    {
        var old = Job("old", order: 1);
        var young = Job("young", order: 2);
        var urgent = Job("urgent", order: 3, priority: 5);
        var other = Job("other", order: 0, tenant: "globex");
        // Added in no particular order.
        var ready = new ReadyTasks([Ref(young, 0), Ref(old, 2), Ref(urgent, 1), Ref(old, 0), Ref(other, 1), Ref(young, 1), Ref(urgent, 0)]);

        Assert.Equal(["urgent/chunk-0", "urgent/chunk-1", "old/chunk-0", "old/chunk-2", "young/chunk-0", "young/chunk-1"], Names(ready.BestFirst("acme")));
        Assert.Equal(["other/chunk-1"], Names(ready.BestFirst("globex")));
        Assert.Empty(ready.BestFirst("initech"));
        Assert.Equal(7, ready.Count);
        Assert.Equal(7, ready.Count());
    }

    [Fact]
    public void AddAndRemove_ByIdentity_OnceEach_AndAnEmptyTenantGoes()
    {
        var job = Job("job-1", order: 1);
        var ready = new ReadyTasks();

        Assert.True(ready.Add(Ref(job, 0)));
        Assert.False(ready.Add(Ref(job, 0)));
        Assert.True(ready.Add(Ref(job, 1)));
        Assert.True(ready.Contains(Ref(job, 1)));

        Assert.True(ready.Remove(Ref(job, 0)));
        Assert.False(ready.Remove(Ref(job, 0)));
        Assert.Equal(["job-1/chunk-1"], Names(ready.BestFirst("acme")));

        Assert.True(ready.Remove(Ref(job, 1)));
        Assert.Empty(ready.Tenants);
        Assert.Empty(ready);
    }

    [Fact]
    public void TwoTasksWithTheSamePlace_AreBothKept()
    {
        // Two records of one job order (a job resumed next to itself must never happen, but the set must not drop one).
        var a = Job("a", order: 7);
        var b = Job("b", order: 7);
        var ready = new ReadyTasks([Ref(a, 0), Ref(b, 0)]);

        Assert.Equal(["a/chunk-0", "b/chunk-0"], Names(ready.BestFirst("acme")));
    }
}
