using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>An orchestrator over a real SQLite file (or the store given, which it then owns), fake time and a fake worker transport.</summary>
internal sealed class OrchestratorHarness : IAsyncDisposable
{
    public static readonly RuleBasedPlanner Rules = new(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded());

    private readonly string _directory;

    public OrchestratorHarness(SchedulingOptions? options = null, string? directory = null, IJobStore? store = null, RuleBasedPlanner? planner = null, ModelCatalog? catalog = null)
    {
        _directory = directory ?? Path.Combine(Path.GetTempPath(), "videogen-tests", Guid.NewGuid().ToString("n"));
        Options = options ?? new SchedulingOptions();
        Store = store ?? new SqliteJobStore(Path.Combine(_directory, "videogen.db"));
        Planner = planner ?? Rules;
        Orchestrator = new Orchestrator(Store, Hub, Transport, new RulesOnlyPlanner(), catalog ?? ModelCatalog.Embedded(), Options, Time, NullLogger<Orchestrator>.Instance, rules: Planner);
        Orchestrator.Start();
    }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-11-27T00:00:00Z"));
    public FakeWorkerTransport Transport { get; } = new();
    public JobEventHub Hub { get; } = new();
    public SchedulingOptions Options { get; }
    public IJobStore Store { get; }
    public Orchestrator Orchestrator { get; }
    public string Directory => _directory;

    /// <summary>The planner jobs are planned with (the rules with the embedded models unless a test gives another).</summary>
    public RuleBasedPlanner Planner { get; }

    public Task JoinAsync(string id, int slots = 2, params string[] models) =>
        Orchestrator.JoinAsync(new JoinRequest { WorkerId = id, Address = id, Slots = slots, Models = { models.Length > 0 ? models : ["procedural-i2v"] } }).WaitAsync(TimeSpan.FromSeconds(10));

    public async Task<Job> SubmitAsync(string prompt, Action<JobRequest>? configure = null, string requestId = "")
    {
        // Audio off by default: these tests pin the picture's scheduling; soundtrack tests turn it on.
        var request = new JobRequest { Prompt = prompt, Audio = false };
        configure?.Invoke(request);
        var (job, _) = await Orchestrator.SubmitAsync(requestId, request, Planner.Plan(request)).WaitAsync(TimeSpan.FromSeconds(10));
        return job;
    }

    /// <summary>Waits until the loop has applied everything posted before this call (a sync point, not a sleep).</summary>
    public Task SyncAsync() => Orchestrator.HeartbeatAsync(new HeartbeatRequest { WorkerId = "__sync__" }).WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>
    /// The tasks of <paramref name="jobIds"/> that the loop has dispatched and that have not ended,
    /// as of a sync point. The loop marks a task running (worker, attempt) before its commit and
    /// starts the attempt's stream on the thread pool after it, so this reads the decision itself:
    /// a test asserting "nothing dispatched" on it fails when a task was wrongly dispatched, even
    /// when the stream has not started yet. Sorted by task id.
    /// </summary>
    public async Task<List<(string TaskId, string WorkerId, int Attempt)>> DispatchedAsync(params string[] jobIds)
    {
        await SyncAsync();
        return jobIds.SelectMany(id => Orchestrator.GetJob(id)!.Tasks)
            .Where(t => t.State == TaskState.Running)
            .Select(t => (t.TaskId, t.WorkerId, t.Attempt))
            .OrderBy(t => t.TaskId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Completes attempts as they start until the job ends; returns the attempts seen.</summary>
    public async Task<List<FakeAttempt>> RunToEndAsync(string jobId, Func<FakeAttempt, bool>? complete = null)
    {
        var seen = new List<FakeAttempt>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var subscription = Hub.Subscribe(jobId);
        var nextAttempt = Transport.Started.Reader.ReadAsync(cts.Token).AsTask();
        var nextEvent = subscription.Reader.ReadAsync(cts.Token).AsTask();
        await SyncAsync();
        while (!Orchestrator.IsTerminal(Orchestrator.GetJob(jobId)!.State))
        {
            // Wake on whichever comes first: an attempt to complete, or an event of the job.
            var woke = await Task.WhenAny(nextAttempt, nextEvent);
            if (woke == nextAttempt)
            {
                var attempt = await nextAttempt;
                seen.Add(attempt);
                if (complete?.Invoke(attempt) != false)
                {
                    attempt.Complete();
                }

                nextAttempt = Transport.Started.Reader.ReadAsync(cts.Token).AsTask();
            }
            else
            {
                await nextEvent;
                nextEvent = subscription.Reader.ReadAsync(cts.Token).AsTask();
            }
        }

        return seen;
    }

    public async Task<Job> WaitForStateAsync(string jobId, Func<Job, bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            await SyncAsync();
            var job = Orchestrator.GetJob(jobId)!;
            if (condition(job))
            {
                return job;
            }

            // Progress arrives through other threads (attempt streams); wait for the next committed event.
            using var subscription = Hub.Subscribe(jobId);
            await SyncAsync();
            if (condition(Orchestrator.GetJob(jobId)!))
            {
                return Orchestrator.GetJob(jobId)!;
            }

            await subscription.Reader.WaitToReadAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Orchestrator.DisposeAsync();
        Store.Dispose();
    }
}
