using System.Security.Cryptography;
using Google.Protobuf;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Errors;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Planning;

/// <summary>What a revision is: its plan, the original's tasks it reuses (by task id), and what it runs and costs.</summary>
public sealed record Revision(Plan Plan, IReadOnlyDictionary<string, TaskStatus> Reused, RevisionEstimate Estimate);

/// <summary>
/// Partial re-render. A revision is the original job's plan with some changes (a beat's shot or on-screen text, a chunk's
/// seed, the look); every task has a content address, the hash of the worker request it would get with its inputs named by
/// their own addresses instead of their URIs (so: kind, model, the input images' addresses, prompt, seed and parameters),
/// and a task of the revision whose address equals a succeeded task of the original reuses that task's output instead of
/// running. Only changed tasks and what depends on them run, and only they are paid for. Pure.
/// </summary>
public static class Revisions
{
    /// <summary>Builds the revision of <paramref name="original"/> asked by <paramref name="request"/>; a bad change throws naming its field.</summary>
    public static Revision Build(Job original, ReviseJobRequest request, ModelCatalog models, string storyboardImageModel = "")
    {
        var violations = new List<FieldViolation>();
        var plan = original.Plan.Clone();
        // The original's seeds carry over, so what did not change is the same request.
        plan.SeedJobId = TaskGraph.SeedJobIdOf(original);
        for (var i = 0; i < request.BeatChanges.Count; i++)
        {
            var change = request.BeatChanges[i];
            var field = $"beat_changes[{i}]";
            if (change.BeatIndex < 0 || change.BeatIndex >= plan.Spec.Beats.Count)
            {
                violations.Add(new($"{field}.beat_index", $"must name a beat of the job, 0 to {plan.Spec.Beats.Count - 1}; got {change.BeatIndex}"));
                continue;
            }

            if (!change.HasShotDescription && !change.HasOnScreenText)
            {
                violations.Add(new(field, "changes nothing: set shot_description or on_screen_text"));
            }

            var beat = plan.Spec.Beats[change.BeatIndex];
            if (change.HasShotDescription)
            {
                if (Text(change.ShotDescription, 1, 500) is { } problem)
                {
                    violations.Add(new($"{field}.shot_description", problem));
                }

                beat.ShotDescription = change.ShotDescription.Trim();
                beat.ImagePrompt = beat.ShotDescription;
            }

            if (change.HasOnScreenText)
            {
                if (Text(change.OnScreenText, 0, RuleBasedPlanner.MaxOnScreenTextLength) is { } problem)
                {
                    violations.Add(new($"{field}.on_screen_text", problem));
                }

                beat.OnScreenText = change.OnScreenText.Trim();
            }
        }

        for (var i = 0; i < request.ChunkSeeds.Count; i++)
        {
            var seed = request.ChunkSeeds[i];
            if (seed.ChunkIndex < 0 || seed.ChunkIndex >= plan.Chunks.Count)
            {
                violations.Add(new($"chunk_seeds[{i}].chunk_index", $"must name a chunk of the job, 0 to {plan.Chunks.Count - 1}; got {seed.ChunkIndex}"));
            }
            else if (seed.Seed == 0)
            {
                violations.Add(new($"chunk_seeds[{i}].seed", "must not be 0"));
            }
            else
            {
                plan.Chunks[seed.ChunkIndex].Seed = seed.Seed;
            }
        }

        if (request.Look.Length > 0)
        {
            if (plan.Finish is null || !FinishCatalog.Looks.Contains(request.Look))
            {
                violations.Add(new("look", $"unknown look '{Services.InputText.Quote(request.Look)}'; known: {string.Join(", ", FinishCatalog.Looks.Order())}"));
            }
            else
            {
                plan.Finish.Look = request.Look;
            }
        }

        if (request.HasMaxCostUsd && !(request.MaxCostUsd >= 0))
        {
            violations.Add(new("max_cost_usd", "must be >= 0"));
        }

        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        var revisionKeys = ContentKeys(new Job { JobId = original.JobId, Plan = plan, Request = original.Request }, TaskGraph.Build(plan), models, storyboardImageModel);
        var originalKeys = ContentKeys(original, original.Tasks, models, storyboardImageModel);
        var byKey = original.Tasks.Where(t => t.State == TaskState.Succeeded && originalKeys.ContainsKey(t.TaskId))
            .GroupBy(t => originalKeys[t.TaskId]).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var reused = new Dictionary<string, TaskStatus>(StringComparer.Ordinal);
        foreach (var (taskId, key) in revisionKeys)
        {
            // The stitch and the finish always run: they make the revision's own raw cut and delivered files, and cost no model.
            if (taskId is TaskGraph.StitchTaskId or TaskGraph.FinishTaskId)
            {
                continue;
            }

            if (byKey.TryGetValue(key, out var same))
            {
                reused[taskId] = same;
            }
        }

        var estimate = new RevisionEstimate { RevisionOf = original.JobId };
        foreach (var task in TaskGraph.Build(plan))
        {
            (reused.ContainsKey(task.TaskId) ? estimate.ReusedTaskIds : estimate.RenderedTaskIds).Add(task.TaskId);
        }

        var total = ChunkPlanner.Cost(plan);
        var saved = PlannedCost(plan, estimate.ReusedTaskIds);
        estimate.ReusedCostUsd = Math.Round(original.Tasks.Where(t => reused.ContainsKey(t.TaskId) || reused.Values.Contains(t)).Sum(t => t.CostUsd), 6);
        estimate.CostUsd = Math.Round(Math.Max(0, total - saved), 6);
        return new Revision(plan, reused, estimate);
    }

    /// <summary>The planned cost of <paramref name="taskIds"/> (chunks, their upscales, keyframes, voiceover, music).</summary>
    public static double PlannedCost(Plan plan, IEnumerable<string> taskIds)
    {
        var keyframePrice = plan.Keyframes > 0 ? plan.KeyframeCostUsd / plan.Keyframes : 0;
        double cost = 0;
        foreach (var id in taskIds)
        {
            cost += plan.Chunks.FirstOrDefault(c => TaskGraph.ChunkTaskId(c.Index) == id)?.CostUsd
                ?? plan.Chunks.FirstOrDefault(c => TaskGraph.UpscaleTaskId(c.Index) == id)?.UpscaleCostUsd
                ?? (id.StartsWith("keyframe-", StringComparison.Ordinal) ? keyframePrice
                : id == TaskGraph.VoiceoverTaskId ? plan.Spec.Soundtrack?.VoiceCostUsd ?? 0
                : id == TaskGraph.MusicTaskId ? plan.Spec.Soundtrack?.MusicCostUsd ?? 0
                : 0);
        }

        return Math.Round(cost, 6);
    }

    /// <summary>
    /// The content address of every task of <paramref name="job"/> (its <paramref name="tasks"/>, in topological order): the
    /// SHA-256 of the worker request it gets, with every input named by its producer's address, the job id and attempt
    /// left out, and a storyboard's beat reduced to what the image is made from. A chunk moved to a fallback model is
    /// addressed by that model; seam regenerations are not part of the address (the clip the gate accepted is the
    /// answer for the request).
    /// </summary>
    public static Dictionary<string, string> ContentKeys(Job job, IEnumerable<TaskStatus> tasks, ModelCatalog models, string storyboardImageModel = "")
    {
        var list = tasks.ToList();
        var plan = job.Plan;
        var addressed = new Job { JobId = "content", Plan = plan.Clone(), Request = job.Request };
        addressed.Plan.SeedJobId = TaskGraph.SeedJobIdOf(job);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var named = new Dictionary<string, TaskStatus>(StringComparer.Ordinal);
        foreach (var original in list)
        {
            var task = original.Clone();
            task.SeamRegenerations = 0;
            task.Attempt = 0;
            foreach (var input in task.DependsOn)
            {
                if (!keys.ContainsKey(input))
                {
                    goto next; // not topological (should not happen): leave it unaddressed, so it never matches
                }
            }

            RunTaskRequest request;
            try
            {
                request = TaskGraph.BuildRequest(addressed, task, named, models, storyboardImageModel);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or ArgumentOutOfRangeException)
            {
                goto next;
            }

            request.JobId = "";
            request.Attempt = 0;
            request.ResumeProviderRequestId = "";
            if (request.Storyboard is { } storyboard)
            {
                // The image is made from the shot, prompt, subject and style: the beat's text, voiceover and timing are not in it.
                storyboard.Beat = new Beat { Index = storyboard.Beat.Index, Name = storyboard.Beat.Name, ShotDescription = storyboard.Beat.ShotDescription, ImagePrompt = storyboard.Beat.ImagePrompt };
            }

            // Speech is made from each beat's line and timing; the shots and texts are not in it.
            foreach (var beats in new[] { request.Voiceover?.Beats, request.Soundtrack?.Beats })
            {
                for (var i = 0; beats is not null && i < beats.Count; i++)
                {
                    beats[i] = new Beat { Index = beats[i].Index, StartSeconds = beats[i].StartSeconds, LengthSeconds = beats[i].LengthSeconds, VoiceoverLine = beats[i].VoiceoverLine };
                }
            }

            var key = Convert.ToHexString(SHA256.HashData(request.ToByteArray()));
            keys[task.TaskId] = key;
            named[task.TaskId] = new TaskStatus
            {
                TaskId = task.TaskId, Kind = task.Kind, Index = task.Index, State = TaskState.Succeeded,
                OutputUri = $"content:{key}", LastFrameUri = $"content:{key}#last",
            };
        next:;
        }

        return keys;
    }

    private static string? Text(string text, int min, int max)
    {
        var trimmed = text.Trim();
        if (trimmed.Length < min || trimmed.Length > max)
        {
            return $"must hold {min} to {max} characters; got {trimmed.Length}";
        }

        return trimmed.Any(c => char.IsControl(c)) ? "must not hold control characters" : null;
    }
}
