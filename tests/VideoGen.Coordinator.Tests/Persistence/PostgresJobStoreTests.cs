using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Hosting;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Tests.Scheduling;
using Xunit.Abstractions;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>
/// What only the PostgreSQL store has: commits split over several batches, schema creation by
/// coordinators starting together, the <c>JobStore</c> configuration, and the orchestrator resuming
/// a job from PostgreSQL after a restart.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresJobStoreTests(PostgresServerFixture server, ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Server_IsStartedByTheFixture_AndAnswers()
    {
        server.Report(output);
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync().WaitAsync(Bound);
        await using var command = new NpgsqlCommand("SELECT current_setting('listen_addresses')", connection);
        Assert.Equal("127.0.0.1", await command.ExecuteScalarAsync().WaitAsync(Bound));
        Assert.True(server.StartDuration < TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Commit_LargerThanOneBatch_IsStillAllOrNothing()
    {
        var connectionString = await server.CreateSchemaAsync();
        using var store = new PostgresJobStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, maxBatchStatements: 3);

        // 4 jobs + 6 events = 10 statements: four batches in one transaction.
        var jobs = Enumerable.Range(0, 4).Select(i => NewJob($"job-{i}", $"req-{i}")).ToList();
        store.Commit(jobs, [.. Enumerable.Range(1, 6).Select(i => NewEvent("job-0", i))]);
        Assert.Equal(4, store.List(JobState.Unspecified, "", null, 10).Jobs.Count);
        Assert.Equal(6, store.Events("job-0", 0).Count);

        // The last batch fails (job-9 reuses req-0): the batches before it are rolled back too.
        var failing = () => store.Commit(
            [NewJob("job-5", "req-5"), NewJob("job-6", "req-6"), NewJob("job-7", "req-7"), NewJob("job-8", "req-8"), NewJob("job-9", "req-0")],
            [NewEvent("job-5", 1)]);
        Assert.Throws<PostgresException>(failing);
        Assert.Equal(4, store.List(JobState.Unspecified, "", null, 10).Jobs.Count);
        Assert.Null(store.Get("job-5"));
        Assert.Empty(store.Events("job-5", 0));
    }

    [Fact]
    public async Task Schema_CreatedByCoordinatorsStartingTogether_IsCreatedOnce()
    {
        var connectionString = await server.CreateSchemaAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new PostgresJobStore(connectionString)))).WaitAsync(Bound);
        try
        {
            stores[0].Commit([NewJob("job-1", "req-1")], [NewEvent("job-1", 1)]);
            Assert.All(stores, s => Assert.Equal("job-1", s.FindByRequestId("req-1")?.JobId));
        }
        finally
        {
            foreach (var store in stores)
            {
                store.Dispose();
            }
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().WaitAsync(Bound);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()", connection);
        Assert.Equal(13L, await command.ExecuteScalarAsync().WaitAsync(Bound)); // jobs pkey, request_id unique, 5 indexes, events pkey, webhook_outbox pkey and its due index, api_keys pkey and key_hash unique, coordinator_lease pkey
    }

    [Fact]
    public async Task Restart_OnPostgres_ResumesTheJob_RequeuesWhatWasRunning_AndKeepsTheEventSequence()
    {
        var connectionString = await server.CreateSchemaAsync();
        string jobId;
        var clock = Stopwatch.StartNew();
        await using (var before = new OrchestratorHarness(store: new PostgresJobStore(connectionString)))
        {
            await before.JoinAsync("w1", slots: 1);
            jobId = (await before.SubmitAsync("a 5 second showcase for a watch", requestId: "req-restart")).JobId;
            (await before.Transport.NextAsync()).Complete(); // storyboard done
            var chunk = await before.Transport.NextAsync(); // chunk-0 running when the coordinator stops
            Assert.Equal("chunk-0", chunk.TaskId);
            await before.SyncAsync();
        }

        await using var after = new OrchestratorHarness(store: new PostgresJobStore(connectionString));
        Assert.Equal(jobId, (await after.SubmitAsync("a 5 second showcase for a watch", requestId: "req-restart")).JobId); // idempotent across the restart
        await after.JoinAsync("w1", slots: 1);
        var attempts = await after.RunToEndAsync(jobId);

        Assert.Equal(["chunk-0", "stitch", "finish"], attempts.Select(a => a.TaskId).ToArray());
        Assert.Equal(2, attempts[0].Request.Attempt);
        var events = after.Store.Events(jobId, 0);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Equal(JobState.Succeeded, after.Orchestrator.GetJob(jobId)!.State);
        Assert.Equal(JobState.Succeeded, after.Store.Get(jobId)!.State);
        Assert.Empty(after.Store.LoadActive());
        output.WriteLine($"restart scenario on PostgreSQL: {clock.ElapsedMilliseconds} ms, {events.Count} events");
    }

    [Fact]
    public async Task AddJobStore_Postgres_OpensTheServerInTheConnectionString()
    {
        var connectionString = await server.CreateSchemaAsync();
        using var services = Services(new() { ["JobStore:Kind"] = "postgres", ["JobStore:ConnectionString"] = connectionString });
        var store = services.GetRequiredService<IJobStore>();
        Assert.IsType<PostgresJobStore>(store);
        store.Commit([NewJob("job-1", "req-1")], []);
        Assert.Equal("job-1", store.Get("job-1")?.JobId);
    }

    internal static ServiceProvider Services(Dictionary<string, string?> settings, string? dataDirectory = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = new CoordinatorOptions { DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n")) };
        return new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddJobStore(configuration, options).BuildServiceProvider();
    }

    internal static Job NewJob(string id, string requestId) => new()
    {
        JobId = id,
        RequestId = requestId,
        Request = new JobRequest { Prompt = "p", Tenant = "acme" },
        State = JobState.Queued,
        CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.Parse("2026-11-27T00:00:00Z")),
    };

    internal static JobEvent NewEvent(string jobId, long sequence) => new()
    {
        JobId = jobId,
        Sequence = sequence,
        StateChanged = new JobStateChanged { State = JobState.Queued },
    };
}

/// <summary>The <c>JobStore</c> section: SQLite by default, and start-up errors that name the key to fix.</summary>
public sealed class JobStoreRegistrationTests
{
    [Fact]
    public void AddJobStore_Defaults_ToSqliteInTheDataDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
        using var services = PostgresJobStoreTests.Services(new(), directory);
        Assert.IsType<SqliteJobStore>(services.GetRequiredService<IJobStore>());
        Assert.True(File.Exists(Path.Combine(directory, "videogen.db")));
    }

    [Theory]
    [InlineData("postgres", null, "JobStore:Kind=postgres needs JobStore:ConnectionString")]
    [InlineData("Postgres", "  ", "JobStore:Kind=postgres needs JobStore:ConnectionString")]
    [InlineData("postgres", "Host=127.0.0.1;Colour=blue", "JobStore:ConnectionString is not a valid Npgsql connection string")]
    [InlineData("mysql", null, "JobStore:Kind is 'mysql'; use 'sqlite' (default) or 'postgres'")]
    public void AddJobStore_BadConfiguration_FailsAtStartWithTheKeyToFix(string kind, string? connectionString, string message)
    {
        using var services = PostgresJobStoreTests.Services(new() { ["JobStore:Kind"] = kind, ["JobStore:ConnectionString"] = connectionString });
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<JobStoreOptions>>().Value);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void AddJobStore_UnreachableServer_SaysWhereItLooked()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        using var services = PostgresJobStoreTests.Services(new()
        {
            ["JobStore:Kind"] = "postgres",
            ["JobStore:ConnectionString"] = $"Host=127.0.0.1;Port={port};Database=videogen;Username=videogen;Password=secret;Timeout=5",
        });
        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IJobStore>());
        Assert.Contains($"JobStore: cannot open PostgreSQL at 127.0.0.1:{port}, database 'videogen'", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }
}
