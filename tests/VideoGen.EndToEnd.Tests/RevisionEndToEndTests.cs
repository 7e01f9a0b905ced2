using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// Issue 16, item 3 end to end: revising beat 2 of a 6-chunk job runs only beat 2's storyboard and chunks (and what is
/// chained after them), counted by the workers' own metrics, and the revision costs exactly those chunks. The
/// coordinator's catalog prices the procedural model, so the costs are not all zero.
/// </summary>
public sealed partial class RevisionEndToEndTests
{
    private const double PricePerSecond = 0.02;

    [Fact]
    public async Task RevisingBeat2_RendersOnlyItsChunks_CountedByTheWorkers_AndCostsExactlyThem()
    {
        var directory = RepoPaths.NewTempDirectory("revision-catalog");
        var catalog = Path.Combine(directory, "models.json");
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "libs", "VideoGen.Catalog", "models.json")), null,
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        json["models"]!.AsArray().Single(m => (string?)m!["name"] == "procedural-i2v")!["pricePerSecondUsd"] = PricePerSecond;
        await File.WriteAllTextAsync(catalog, json.ToJsonString());
        await using var farm = await LocalFarm.StartAsync("revision", new FarmOptions
        {
            Workers = 2,
            Coordinator = new() { ["Coordinator:ModelCatalogPath"] = catalog },
        });

        void Options(JobRequest r) => (r.Resolution, r.Audio) = (Resolution._480P, false);
        var original = await farm.RunAsync("A 30 second product showcase for a titanium smartwatch", Options, TimeSpan.FromMinutes(6));
        Assert.True(original.State == JobState.Succeeded, $"job ended {original.State}: {original.Error}\n{farm.Logs()}");
        Assert.Equal(6, original.Plan.Chunks.Count);
        // Each chunk is paid for the seconds the worker probed (5 s, within a frame).
        Assert.InRange(original.CostUsd, 6 * 5 * PricePerSecond * 0.99, 6 * 5 * PricePerSecond * 1.01);
        var before = await WorkerTasksAsync(farm);

        // What beat 2's new shot reaches: its storyboard, its chunks, and the continuous chunks chained after them.
        var beat2 = original.Plan.Chunks.Where(c => c.BeatIndex == 2).Select(c => c.Index).ToList();
        Assert.NotEmpty(beat2);
        var reached = original.Plan.Chunks.Where(c => c.Index >= beat2[0] && original.Plan.Chunks.Where(x => x.Index > beat2[0] && x.Index <= c.Index).All(x => !x.IsReference))
            .Select(c => $"chunk-{c.Index}").ToList();
        var change = new ReviseJobRequest { JobId = original.JobId, BeatChanges = { new BeatChange { BeatIndex = 2, ShotDescription = "a slow macro pan across the crown" } } };

        var estimate = await farm.Jobs.EstimateJobAsync(new EstimateJobRequest { Revision = change });
        Assert.Equal(["storyboard-2", .. reached, "stitch", "finish"], estimate.Revision.RenderedTaskIds.ToArray());
        Assert.Equal(reached.Count * 5 * PricePerSecond, estimate.CostUsd, 6);
        var reusedChunks = original.Tasks.Where(t => t.Kind == TaskKind.Chunk && !reached.Contains(t.TaskId)).Sum(t => t.CostUsd);
        Assert.Equal(reusedChunks, estimate.Revision.ReusedCostUsd, 6);

        change.RequestId = "revise-beat-2";
        var revised = await farm.Jobs.ReviseJobAsync(change);
        Assert.True(revised.Created);
        Assert.Equal(original.JobId, revised.Job.Request.RevisionOf);
        await farm.WatchAsync(revised.Job.JobId, timeout: TimeSpan.FromMinutes(5));
        var revision = await farm.GetJobAsync(revised.Job.JobId);
        Assert.True(revision.State == JobState.Succeeded, $"revision ended {revision.State}: {revision.Error}\n{farm.Logs()}");

        // The workers ran exactly the revision's storyboard and chunks (their own counters), and it paid for those chunks.
        var after = await WorkerTasksAsync(farm);
        Assert.Equal(reached.Count, after.GetValueOrDefault("chunk") - before.GetValueOrDefault("chunk"));
        Assert.Equal(1, after.GetValueOrDefault("storyboard") - before.GetValueOrDefault("storyboard"));
        Assert.Equal(revision.Tasks.Where(t => reached.Contains(t.TaskId)).Sum(t => t.CostUsd), revision.CostUsd, 6);
        Assert.InRange(revision.CostUsd, estimate.CostUsd * 0.99, estimate.CostUsd * 1.01);
        Assert.All(revision.Tasks.Where(t => t.ReusedFrom.Length > 0), t => Assert.Equal(0, t.CostUsd));
        foreach (var task in revision.Tasks)
        {
            var rendered = estimate.Revision.RenderedTaskIds.Contains(task.TaskId);
            Assert.Equal(rendered ? "" : original.JobId, task.ReusedFrom);
            if (!rendered)
            {
                Assert.Equal(original.Tasks.Single(t => t.TaskId == task.TaskId).OutputUri, task.OutputUri);
            }
        }

        var final = await Media.ProbeAsync(LocalFarm.LocalPath(revision.OutputUri));
        Assert.InRange(final.DurationSeconds, 30 - 1 / 24.0, 30 + 1 / 24.0);
        Assert.NotEqual(original.OutputUri, revision.OutputUri);

        // The same request id answers the same revision; a job that has not succeeded cannot be revised.
        var again = await farm.Jobs.ReviseJobAsync(change);
        Assert.Equal((revision.JobId, false), (again.Job.JobId, again.Created));
        var bad = await Assert.ThrowsAsync<RpcException>(() => farm.Jobs.ReviseJobAsync(new ReviseJobRequest { JobId = original.JobId, BeatChanges = { new BeatChange { BeatIndex = 7, ShotDescription = "x" } } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("beat_changes[0].beat_index", bad.Status.Detail);
    }

    /// <summary>Succeeded task attempts by kind, summed over the farm's workers (videogen_worker_tasks_total).</summary>
    private static async Task<Dictionary<string, double>> WorkerTasksAsync(LocalFarm farm)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var totals = new Dictionary<string, double>();
        foreach (var index in new[] { 1, 2 })
        {
            var metrics = await http.GetStringAsync($"{await farm.WorkerHttpAddressAsync(index)}/metrics");
            foreach (Match m in SucceededTasks().Matches(metrics))
            {
                totals[m.Groups[1].Value] = totals.GetValueOrDefault(m.Groups[1].Value) + double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return totals;
    }

    [GeneratedRegex(@"^videogen_worker_tasks_total\{kind=""(\w+)"",outcome=""succeeded""\} ([0-9.e+]+)$", RegexOptions.Multiline)]
    private static partial Regex SucceededTasks();
}
