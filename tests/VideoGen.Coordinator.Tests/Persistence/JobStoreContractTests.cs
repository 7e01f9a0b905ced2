using Google.Protobuf.WellKnownTypes;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Persistence;
using Xunit.Abstractions;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>
/// What every <see cref="IJobStore"/> must do, run against each store (the subclasses below): round
/// trips, upserts, events after a sequence, request ids, active jobs, listing, atomic commits.
/// </summary>
public abstract class JobStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-27T00:00:00Z");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly List<IJobStore> _opened = [];

    /// <summary>Opens a store; every call within one test opens the same place (a file, a schema), fresh for each test.</summary>
    protected abstract Task<IJobStore> OpenAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            store.Dispose();
        }

        return Task.CompletedTask;
    }

    protected async Task<IJobStore> StoreAsync()
    {
        var store = await OpenAsync().WaitAsync(Bound);
        _opened.Add(store);
        return store;
    }

    protected static Job NewJob(string id, JobState state = JobState.Queued, string requestId = "", string tenant = "acme", double minute = 0) => new()
    {
        JobId = id,
        RequestId = requestId,
        Request = new JobRequest { Prompt = $"a 10 second showcase for {id}", Tenant = tenant, DurationSeconds = 10 },
        State = state,
        CreatedAt = Timestamp.FromDateTimeOffset(T0.AddMinutes(minute)),
        CostUsd = 0.25,
        Tasks =
        {
            new TaskStatus { TaskId = "storyboard-0", Kind = TaskKind.Storyboard, State = TaskState.Succeeded, Attempt = 1, Progress = 1 },
            new TaskStatus { TaskId = "chunk-0", Kind = TaskKind.Chunk, State = TaskState.Running, WorkerId = "w1", Attempt = 2, Progress = 0.5 },
        },
    };

    protected static JobEvent NewEvent(string jobId, long sequence, JobState state = JobState.Rendering) => new()
    {
        JobId = jobId,
        Sequence = sequence,
        Time = Timestamp.FromDateTimeOffset(T0.AddSeconds(sequence)),
        StateChanged = new JobStateChanged { State = state, CostUsd = sequence / 10.0 },
    };

    private static string[] Ids(IEnumerable<Job> jobs) => jobs.Select(j => j.JobId).ToArray();

    [Fact]
    public async Task Commit_ThenGet_RoundTripsEveryField_AndSurvivesReopening()
    {
        var job = NewJob("job-1", JobState.Rendering, requestId: "req-1");
        job.OutputUri = "file:///x/final.mp4";
        job.LastSequence = 7;
        using (var store = await StoreAsync())
        {
            store.Commit([job], []);
            Assert.Equal(job, store.Get("job-1"));
            Assert.Null(store.Get("job-2"));
        }

        var reopened = await StoreAsync();
        Assert.Equal(job, reopened.Get("job-1"));
        reopened.Commit([], []); // nothing to write is a no-op
        Assert.Single(reopened.List(JobState.Unspecified, "", null, 10).Jobs);
    }

    [Fact]
    public async Task ProviderRequestJournal_IsCommittedWithTheTask_AndLoadsWithTheActiveJobs()
    {
        // Issue #15: the prediction id a worker reported is what a restarted coordinator hands the task's next attempt.
        var job = NewJob("job-1", JobState.Rendering);
        job.Tasks[1].ProviderRequestId = "pred-abc123";
        job.Tasks[1].WastedCostUsd = 0.0183;
        using (var store = await StoreAsync())
        {
            store.Commit([job], [new JobEvent { JobId = "job-1", Sequence = 1, TaskUpdated = new TaskUpdated { Task = job.Tasks[1].Clone(), JobCostUsd = 0.25 } }]);
        }

        var reopened = await StoreAsync();
        var loaded = Assert.Single(reopened.LoadActive());
        Assert.Equal(("pred-abc123", 0.0183), (loaded.Tasks[1].ProviderRequestId, loaded.Tasks[1].WastedCostUsd));
        Assert.Equal("pred-abc123", Assert.Single(reopened.Events("job-1", 0)).TaskUpdated.Task.ProviderRequestId);
    }

    [Fact]
    public async Task Commit_ExistingJob_UpsertsStateAndBody_InOneRow()
    {
        var store = await StoreAsync();
        store.Commit([NewJob("job-1", requestId: "req-1")], []);

        var updated = NewJob("job-1", JobState.Stitching, requestId: "req-1");
        updated.CostUsd = 1.5;
        updated.Tasks[1].State = TaskState.Succeeded;
        store.Commit([updated], []);

        Assert.Equal(updated, store.Get("job-1"));
        Assert.Equal(["job-1"], Ids(store.List(JobState.Unspecified, "", null, 10).Jobs));
        Assert.Empty(store.List(JobState.Queued, "", null, 10).Jobs);
        Assert.Equal(["job-1"], Ids(store.List(JobState.Stitching, "", null, 10).Jobs));
        Assert.Equal("job-1", store.FindByRequestId("req-1")?.JobId);
    }

    [Fact]
    public async Task Commit_OfTheSchedulersCopies_StoresEachCopyAsItIs()
    {
        var store = await StoreAsync();
        var first = NewJob("job-1", JobState.Rendering);
        store.Commit(new JobCopies { first }, []);

        // The next copy shares the unchanged task with the first, as the scheduler's copies do; the other is new.
        var next = first.Clone();
        next.Tasks.Clear();
        next.Tasks.Add(first.Tasks[0]);
        next.Tasks.Add(new TaskStatus { TaskId = "chunk-0", Kind = TaskKind.Chunk, State = TaskState.Succeeded, WorkerId = "w1", Attempt = 2, Progress = 1 });
        next.CostUsd = 0.5;
        store.Commit(new JobCopies { next }, []);

        Assert.Equal(next, store.Get("job-1"));
        Assert.Equal(next, Assert.Single(store.LoadActive()));
    }

    [Fact]
    public async Task Events_AfterASequence_ComeInOrder_ForThatJobOnly_AndDuplicatesAreIgnored()
    {
        var store = await StoreAsync();
        store.Commit([NewJob("a"), NewJob("b")], [NewEvent("a", 3), NewEvent("a", 1), NewEvent("b", 1), NewEvent("a", 2)]);
        store.Commit([], [NewEvent("a", 5), NewEvent("a", 4), NewEvent("a", 2, JobState.Failed)]); // seq 2 again: ignored

        var all = store.Events("a", 0);
        Assert.Equal([1L, 2, 3, 4, 5], all.Select(e => e.Sequence));
        Assert.Equal(NewEvent("a", 2), all[1]); // the first write of a sequence wins
        Assert.Equal([3L, 4, 5], store.Events("a", 2).Select(e => e.Sequence));
        Assert.Empty(store.Events("a", 5));
        Assert.Equal(NewEvent("b", 1), Assert.Single(store.Events("b", 0)));
        Assert.Empty(store.Events("missing", 0));
    }

    [Fact]
    public async Task WebhookOutbox_IsWrittenWithTheEvents_DueInOrder_AttemptsRecorded_AndSurvivesReopening()
    {
        var terminalOnly = NewJob("hooked", JobState.Succeeded, tenant: "studio");
        terminalOnly.Request.Webhook = new WebhookSubscription { Url = "https://hooks.example.com/v", Events = WebhookEvents.Terminal };
        var everything = NewJob("chatty", JobState.Rendering);
        everything.Request.Webhook = new WebhookSubscription { Url = "https://hooks.example.com/all", Events = WebhookEvents.All };
        var taskDone = new JobEvent
        {
            JobId = "chatty", Sequence = 3, Time = Timestamp.FromDateTimeOffset(T0.AddSeconds(3)),
            TaskUpdated = new TaskUpdated { Task = new TaskStatus { TaskId = "chunk-0", State = TaskState.Succeeded } },
        };
        var taskProgress = new JobEvent
        {
            JobId = "chatty", Sequence = 4, Time = Timestamp.FromDateTimeOffset(T0.AddSeconds(4)),
            TaskUpdated = new TaskUpdated { Task = new TaskStatus { TaskId = "chunk-1", State = TaskState.Running, Progress = 0.5 } },
        };
        using (var store = await StoreAsync())
        {
            store.Commit(
                [terminalOnly, everything, NewJob("quiet")],
                [NewEvent("hooked", 1, JobState.Rendering), NewEvent("hooked", 2, JobState.Succeeded), NewEvent("chatty", 1), taskDone, taskProgress, NewEvent("quiet", 1, JobState.Succeeded)]);
            // The same events again (a replayed commit): no second callback.
            store.Commit([terminalOnly], [NewEvent("hooked", 2, JobState.Succeeded)]);
            // A later event of a job not in the batch: its subscription is read from the store.
            store.Commit([], [NewEvent("chatty", 5, JobState.Succeeded)]);

            var due = store.DueWebhooks(T0.AddHours(1).ToUnixTimeMilliseconds(), 100);
            Assert.Equal(["msg_chatty_1", "msg_hooked_2", "msg_chatty_3", "msg_chatty_5"], due.Select(d => d.Id));
            Assert.Equal(["job.rendering", "job.succeeded", "task.succeeded", "job.succeeded"], due.Select(d => d.Type));
            Assert.Equal("studio", due[1].Tenant);
            Assert.Equal("https://hooks.example.com/v", due[1].Url);
            Assert.Contains("\"type\":\"job.succeeded\"", due[1].Body);
            Assert.Empty(store.DueWebhooks(T0.ToUnixTimeMilliseconds(), 100)); // nothing is due before its event

            store.RecordWebhookAttempt("msg_hooked_2", 1, T0.AddHours(2).ToUnixTimeMilliseconds(), "500");
            store.RecordWebhookAttempt("msg_chatty_1", 1, null, "delivered");
        }

        var reopened = await StoreAsync();
        Assert.Equal(["msg_chatty_3", "msg_chatty_5"], reopened.DueWebhooks(T0.AddHours(1).ToUnixTimeMilliseconds(), 100).Select(d => d.Id));
        var retry = Assert.Single(reopened.DueWebhooks(T0.AddHours(3).ToUnixTimeMilliseconds(), 100), d => d.Id == "msg_hooked_2");
        Assert.Equal(1, retry.Attempts);
        Assert.Equal(2, reopened.DueWebhooks(T0.AddHours(3).ToUnixTimeMilliseconds(), 2).Count);
    }

    [Fact]
    public async Task FindByRequestId_FindsTheJob_AndJobsWithoutOneNeverCollide()
    {
        var store = await StoreAsync();
        store.Commit([NewJob("job-1", requestId: "req-1"), NewJob("job-2"), NewJob("job-3")], []); // two empty request ids

        Assert.Equal("job-1", store.FindByRequestId("req-1")?.JobId);
        Assert.Null(store.FindByRequestId("req-2"));
        Assert.Null(store.FindByRequestId(""));
        Assert.Equal(3, store.List(JobState.Unspecified, "", null, 10).Jobs.Count);
    }

    [Fact]
    public async Task LoadActive_ExcludesTerminalJobs_OldestFirst()
    {
        var store = await StoreAsync();
        store.Commit(
        [
            NewJob("succeeded", JobState.Succeeded, minute: 0),
            NewJob("rendering", JobState.Rendering, minute: 3),
            NewJob("failed", JobState.Failed, minute: 1),
            NewJob("queued", JobState.Queued, minute: 1),
            NewJob("cancelled", JobState.Cancelled, minute: 2),
            NewJob("planning", JobState.Planning, minute: 2),
            NewJob("stitching", JobState.Stitching, minute: 4),
        ], []);

        Assert.Equal(["queued", "planning", "rendering", "stitching"], Ids(store.LoadActive()));

        store.Commit([NewJob("rendering", JobState.Succeeded, minute: 3)], []);
        Assert.Equal(["queued", "planning", "stitching"], Ids(store.LoadActive()));
    }

    [Fact]
    public async Task List_FiltersByStateAndTenant_NewestFirst_InPages()
    {
        var store = await StoreAsync();
        store.Commit(
        [
            NewJob("j0", JobState.Succeeded, tenant: "acme", minute: 0),
            NewJob("j1", JobState.Rendering, tenant: "acme", minute: 1),
            NewJob("j2b", JobState.Succeeded, tenant: "acme", minute: 2),
            NewJob("j2a", JobState.Rendering, tenant: "globex", minute: 2), // same time as j2b, stored after it: newer
            NewJob("j3", JobState.Succeeded, tenant: "globex", minute: 3),
            NewJob("j4", JobState.Queued, tenant: "acme", minute: 4),
        ], []);

        Assert.Equal(["j4", "j3", "j2a", "j2b", "j1", "j0"], Ids(store.List(JobState.Unspecified, "", null, 100).Jobs));
        Assert.Null(store.List(JobState.Unspecified, "", null, 100).Next);
        Assert.Equal(["j4", "j3", "j2a", "j2b", "j1", "j0"], Ids(AllPages(store, JobState.Unspecified, "", 2)));
        Assert.Equal(["j4", "j3", "j2a", "j2b", "j1", "j0"], Ids(AllPages(store, JobState.Unspecified, "", 4)));
        Assert.Equal(["j3", "j2b", "j0"], Ids(store.List(JobState.Succeeded, "", null, 10).Jobs));
        Assert.Equal(["j4", "j2b", "j1", "j0"], Ids(AllPages(store, JobState.Unspecified, "acme", 3)));
        Assert.Equal(["j2b", "j0"], Ids(AllPages(store, JobState.Succeeded, "acme", 1)));
        Assert.Empty(store.List(JobState.Failed, "acme", null, 10).Jobs);
        Assert.Empty(store.List(JobState.Unspecified, "initech", null, 10).Jobs);
    }

    [Fact]
    public async Task List_SameMillisecond_TheJobStoredLaterComesFirst_WhateverTheIds()
    {
        var store = await StoreAsync();
        store.Commit([NewJob("job-zzz", minute: 5)], []);
        store.Commit([NewJob("job-aaa", minute: 5)], []);
        store.Commit([NewJob("job-mmm", minute: 5)], []);
        store.Commit([NewJob("job-zzz", JobState.Rendering, minute: 5)], []); // an update keeps its place

        Assert.Equal(["job-mmm", "job-aaa", "job-zzz"], Ids(store.List(JobState.Unspecified, "", null, 10).Jobs));
        Assert.Equal(["job-mmm", "job-aaa", "job-zzz"], Ids(AllPages(store, JobState.Unspecified, "", 1)));
    }

    [Fact]
    public async Task List_Cursor_IsStableUnderInsertsBetweenPages_NothingRepeatedOrSkipped()
    {
        var store = await StoreAsync();
        store.Commit([.. Enumerable.Range(0, 6).Select(i => NewJob($"old-{i}", minute: i))], []);

        var first = store.List(JobState.Unspecified, "", null, 3);
        Assert.Equal(["old-5", "old-4", "old-3"], Ids(first.Jobs));
        // Jobs arrive between the pages: newer ones, and one in the same millisecond as the page's last.
        store.Commit([NewJob("new-0", minute: 10), NewJob("new-1", minute: 3), NewJob("new-2", minute: 11)], []);
        var second = store.List(JobState.Unspecified, "", first.Next, 3);

        Assert.Equal(["old-2", "old-1", "old-0"], Ids(second.Jobs));
        Assert.Null(second.Next);
        Assert.Equal(["new-2", "new-0", "old-5", "old-4", "new-1", "old-3"], Ids(store.List(JobState.Unspecified, "", null, 6).Jobs));
    }

    private static List<Job> AllPages(IJobStore store, JobState state, string tenant, int size)
    {
        var jobs = new List<Job>();
        JobCursor? after = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = store.List(state, tenant, after, size);
            Assert.InRange(page.Jobs.Count, page.Next is null ? 0 : size, size);
            jobs.AddRange(page.Jobs);
            if (page.Next is null)
            {
                return jobs;
            }
            after = page.Next;
        }
        throw new InvalidOperationException("paging did not end");
    }

    [Fact]
    public async Task Commit_ThatFails_WritesNothingOfIt_AndTheStoreStaysUsable()
    {
        var store = await StoreAsync();
        store.Commit([NewJob("job-1", requestId: "dup")], [NewEvent("job-1", 1)]);

        // job-3 reuses job-1's request id: the whole group commit fails, job-2 and the events included.
        var failing = () => store.Commit(
            [NewJob("job-2", requestId: "fresh"), NewJob("job-3", requestId: "dup")],
            [NewEvent("job-1", 2), NewEvent("job-2", 1)]);
        Assert.ThrowsAny<Exception>(failing);

        Assert.Null(store.Get("job-2"));
        Assert.Null(store.Get("job-3"));
        Assert.Null(store.FindByRequestId("fresh"));
        Assert.Equal([1L], store.Events("job-1", 0).Select(e => e.Sequence));
        Assert.Empty(store.Events("job-2", 0));

        store.Commit([NewJob("job-2", requestId: "fresh")], [NewEvent("job-2", 1)]);
        Assert.Equal("job-2", store.FindByRequestId("fresh")?.JobId);
        Assert.Single(store.Events("job-2", 0));
    }

    [Fact]
    public async Task Reads_FromOtherThreads_WhileTheWriterCommits_SeeWholeCommits()
    {
        var store = await StoreAsync();
        store.Commit([NewJob("job-1")], []);
        const int commits = 40;
        using var done = new CancellationTokenSource();

        // A reader may see any committed state, but never a job whose events are not all there yet.
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var reads = 0;
            while (!done.IsCancellationRequested || reads == 0)
            {
                var seen = store.Get("job-1")!.LastSequence;
                Assert.True(store.Events("job-1", 0).Count >= seen);
                reads++;
            }

            return reads;
        })).ToArray();

        try
        {
            await Task.Run(() =>
            {
                for (var i = 1; i <= commits; i++)
                {
                    var job = NewJob("job-1", JobState.Rendering);
                    job.LastSequence = i;
                    store.Commit([job], [NewEvent("job-1", i)]);
                }
            }).WaitAsync(Bound);
        }
        finally
        {
            await done.CancelAsync();
        }

        var reads = await Task.WhenAll(readers).WaitAsync(Bound);

        Assert.All(reads, r => Assert.True(r > 0));
        Assert.Equal(commits, store.Get("job-1")!.LastSequence);
        Assert.Equal(commits, store.Events("job-1", 0).Count);
    }

    [Fact]
    public async Task ApiKeys_AddFindListRevoke_AndTheKeyItselfIsNeverStored()
    {
        var store = (IApiKeyStore)await StoreAsync();
        var key = ApiKeyMaterial.NewKey();
        var record = new ApiKeyRecord("key-000000000001", ApiKeyMaterial.Hash(key), "acme", KeyRoles.Client, T0, null);
        var admin = new ApiKeyRecord("key-000000000002", ApiKeyMaterial.Hash(ApiKeyMaterial.NewKey()), "ops", KeyRoles.Admin, T0.AddMinutes(1), null);

        store.AddKey(record);
        store.AddKey(admin);

        Assert.Equal(record, store.FindKeyByHash(ApiKeyMaterial.Hash(key)));
        Assert.Null(store.FindKeyByHash(ApiKeyMaterial.Hash(key + "x")));
        Assert.Equal(["key-000000000002", "key-000000000001"], store.ListKeys(includeRevoked: false).Select(k => k.KeyId));
        Assert.DoesNotContain(store.ListKeys(includeRevoked: true), k => k.Hash == key || k.KeyId == key);

        var revoked = store.RevokeKey("key-000000000001", T0.AddMinutes(5));
        var again = store.RevokeKey("key-000000000001", T0.AddMinutes(9));

        Assert.Equal(T0.AddMinutes(5), revoked!.RevokedAt);
        Assert.Equal(T0.AddMinutes(5), again!.RevokedAt); // the first revocation stands
        Assert.Equal(T0.AddMinutes(5), store.FindKeyByHash(ApiKeyMaterial.Hash(key))!.RevokedAt);
        Assert.Equal(["key-000000000002"], store.ListKeys(includeRevoked: false).Select(k => k.KeyId));
        Assert.Equal(2, store.ListKeys(includeRevoked: true).Count);
        Assert.Null(store.RevokeKey("key-unknown", T0));
    }

    [Fact]
    public async Task ApiKeys_SurviveAReopen_AndAHashIsUnique()
    {
        var key = ApiKeyMaterial.NewKey();
        var first = (IApiKeyStore)await StoreAsync();
        first.AddKey(new ApiKeyRecord("key-00000000000a", ApiKeyMaterial.Hash(key), "acme", KeyRoles.Admin, T0, null));

        Assert.ThrowsAny<Exception>(() => first.AddKey(new ApiKeyRecord("key-00000000000b", ApiKeyMaterial.Hash(key), "acme", KeyRoles.Client, T0, null)));
        var reopened = (IApiKeyStore)await StoreAsync();
        Assert.Equal(KeyRoles.Admin, reopened.FindKeyByHash(ApiKeyMaterial.Hash(key))!.Role);
    }
}

public sealed class SqliteJobStoreContractTests : JobStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));

    protected override Task<IJobStore> OpenAsync() => Task.FromResult<IJobStore>(new SqliteJobStore(Path.Combine(_directory, "videogen.db")));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresJobStoreContractTests(PostgresServerFixture server, ITestOutputHelper output) : JobStoreContractTests
{
    private string _connectionString = "";

    public override async Task InitializeAsync()
    {
        server.Report(output);
        _connectionString = await server.CreateSchemaAsync();
    }

    protected override Task<IJobStore> OpenAsync() => Task.FromResult<IJobStore>(new PostgresJobStore(_connectionString));
}
