using VideoGen.Contracts;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The task DAG of a plan: one storyboard per beat that a reference chunk starts from, one task
/// per chunk (a reference chunk waits for its beat's storyboard, a continuous chunk for the
/// previous chunk's last frame), the stitch, which waits for every chunk and joins them into the raw
/// cut, and the finish, which waits for the stitch and makes the delivered ad (transitions, grade,
/// titles, resolution, deliverables, soundtrack). With a soundtrack, the voiceover and the music depend on nothing
/// (they run beside the storyboards from the job's start) and the soundtrack mix waits for both; the finish waits for
/// the mix. Plans made before the finish existed (no <see cref="Plan.Finish"/>) end with the stitch. Tasks come out
/// in a topological order. That is the chain of an image-to-video model; the plan's <see cref="GraphStrategy"/> changes a
/// take's shape: with keyframes (first-and-last-frame models) a keyframe task per chunk end, chained from the take's
/// storyboard, comes first and every chunk waits only for the two keyframes around it; with extend the chain stays and
/// each continuation also gets the previous clip and the frames it repeats.
/// </summary>
public static class TaskGraph
{
    public const string StitchTaskId = "stitch";

    public const string FinishTaskId = "finish";

    /// <summary>The soundtrack (mix) task: waits for the voiceover and the music; the finish muxes it.</summary>
    public const string SoundtrackTaskId = "soundtrack";

    /// <summary>The voiceover task: depends only on the plan, so it runs beside the storyboards and chunks.</summary>
    public const string VoiceoverTaskId = "voiceover";

    /// <summary>The music task: depends only on the plan, so it runs beside the storyboards and chunks.</summary>
    public const string MusicTaskId = "music";

    /// <summary>Whether the plan has a soundtrack (it is muxed in the finish, so a plan without a finish has none).</summary>
    public static bool HasSoundtrack(Plan plan) => plan.Finish is not null && plan.Spec.Soundtrack is not null;

    /// <summary>The task whose success ends the job: the finish, or the stitch for plans without one.</summary>
    public static string FinalTaskId(Plan plan) => plan.Finish is null ? StitchTaskId : FinishTaskId;

    public static string StoryboardTaskId(int beat) => TaskIds.Storyboard.Of(beat);

    /// <summary>The keyframe at the end of chunk <paramref name="chunk"/> (<see cref="GraphStrategy.Keyframes"/>): where it ends and the next chunk of its take starts.</summary>
    public static string KeyframeTaskId(int chunk) => $"keyframe-{chunk}";

    /// <summary>The plan's graph strategy; plans from before strategies existed chain.</summary>
    public static GraphStrategy StrategyOf(Plan plan) => plan.Strategy == GraphStrategy.Unspecified ? GraphStrategy.Chain : plan.Strategy;

    /// <summary>Frames a continuous chunk repeats from the chunk before it (the finish drops them): the plan's, at least 1.</summary>
    public static int OverlapFramesOf(Plan plan) => Math.Max(1, plan.OverlapFrames);

    public static string ChunkTaskId(int chunk) => TaskIds.Chunk.Of(chunk);

    /// <summary>The task that upscales chunk <paramref name="chunk"/> with the plan's upscaler (<see cref="FinishPlan.Upscaler"/>).</summary>
    public static string UpscaleTaskId(int chunk) => $"upscale-{chunk}";

    /// <summary>Whether the plan upscales its chunks with a model before the finish.</summary>
    public static bool HasUpscaler(Plan plan) => plan.Finish is { Upscaler.Length: > 0 };

    public static List<TaskStatus> Build(Plan plan)
    {
        var tasks = new List<TaskStatus>();
        if (HasSoundtrack(plan))
        {
            // First in the task order, so placement starts them before the storyboards: a hosted music model is the
            // slowest call of a job, and nothing waits for it but the mix and the finish.
            tasks.Add(new TaskStatus { TaskId = VoiceoverTaskId, Kind = TaskKind.Voiceover, Index = -1, State = TaskState.Ready });
            tasks.Add(new TaskStatus { TaskId = MusicTaskId, Kind = TaskKind.Music, Index = -1, State = TaskState.Ready });
            // The mix right after them, before the storyboards and chunks: the first slot freed once both are done goes
            // to it, so it runs beside the chunks instead of waiting behind them and then holding up the finish.
            var mix = new TaskStatus { TaskId = SoundtrackTaskId, Kind = TaskKind.Soundtrack, Index = -1, State = TaskState.Waiting };
            mix.DependsOn.AddRange([VoiceoverTaskId, MusicTaskId]);
            tasks.Add(mix);
        }

        foreach (var beat in plan.Chunks.Where(c => c.IsReference).Select(c => c.BeatIndex).Distinct().Order())
        {
            tasks.Add(new TaskStatus { TaskId = StoryboardTaskId(beat), Kind = TaskKind.Storyboard, Index = beat, State = TaskState.Ready });
        }

        var keyframes = StrategyOf(plan) == GraphStrategy.Keyframes;
        if (keyframes)
        {
            // A take's keyframes chain from its storyboard, each made from the one before it (cheap image calls), so the
            // take keeps one look; the chunks then wait only for the two keyframes around them and run at once.
            foreach (var chunk in plan.Chunks)
            {
                var keyframe = new TaskStatus { TaskId = KeyframeTaskId(chunk.Index), Kind = TaskKind.Keyframe, Index = chunk.Index, State = TaskState.Waiting };
                keyframe.DependsOn.Add(StartOf(chunk, keyframes));
                tasks.Add(keyframe);
            }
        }

        foreach (var chunk in plan.Chunks)
        {
            var task = new TaskStatus { TaskId = ChunkTaskId(chunk.Index), Kind = TaskKind.Chunk, Index = chunk.Index, State = TaskState.Waiting };
            // The start first: BuildRequest reads the start image from DependsOn[0].
            task.DependsOn.Add(StartOf(chunk, keyframes));
            if (keyframes)
            {
                task.DependsOn.Add(KeyframeTaskId(chunk.Index));
            }

            tasks.Add(task);
        }

        if (HasUpscaler(plan))
        {
            // One per chunk, as soon as its chunk exists: the finish takes the upscaled clips, the stitch the originals.
            foreach (var chunk in plan.Chunks)
            {
                var upscale = new TaskStatus { TaskId = UpscaleTaskId(chunk.Index), Kind = TaskKind.Upscale, Index = chunk.Index, State = TaskState.Waiting };
                upscale.DependsOn.Add(ChunkTaskId(chunk.Index));
                tasks.Add(upscale);
            }
        }
        var stitch = new TaskStatus { TaskId = StitchTaskId, Kind = TaskKind.Stitch, Index = -1, State = TaskState.Waiting };
        stitch.DependsOn.AddRange(plan.Chunks.Select(c => ChunkTaskId(c.Index)));
        tasks.Add(stitch);
        if (plan.Finish is not null)
        {
            var finish = new TaskStatus { TaskId = FinishTaskId, Kind = TaskKind.Finish, Index = -1, State = TaskState.Waiting };
            finish.DependsOn.AddRange(FinishInputs(plan));
            tasks.Add(finish);
        }

        return tasks;
    }

    /// <summary>
    /// Where a chunk starts: its beat's storyboard (a reference chunk), the keyframe between it and the chunk before
    /// (keyframes), or the chunk before it (its last frame, or its tail for an extend model).
    /// </summary>
    private static string StartOf(ChunkPlan chunk, bool keyframes) =>
        chunk.IsReference ? StoryboardTaskId(chunk.BeatIndex) : keyframes ? KeyframeTaskId(chunk.Index - 1) : ChunkTaskId(chunk.Index - 1);

    /// <summary>
    /// The worker request for one attempt of <paramref name="task"/>. Inputs are the URIs its
    /// dependencies produced; outputs are named by <see cref="ArtifactKeys"/>, so the storage behind
    /// the URIs can change without touching the scheduler.
    /// </summary>
    /// <remarks>With <paramref name="seamGate"/> on, a continuous chunk is asked to score its seam; a chunk the gate had made
    /// again gets another seed per regeneration.</remarks>
    public static RunTaskRequest BuildRequest(Job job, TaskStatus task, IReadOnlyDictionary<string, TaskStatus> tasks, ModelCatalog models, string storyboardImageModel = "",
        SeamGateOptions? seamGate = null)
    {
        var plan = job.Plan;
        var request = new RunTaskRequest { JobId = job.JobId, TaskId = task.TaskId, Attempt = task.Attempt };
        switch (task.Kind)
        {
            case TaskKind.Storyboard:
                var beat = plan.Spec.Beats[task.Index];
                var video = models.Models[plan.Model];
                request.Storyboard = new StoryboardTask
                {
                    Beat = beat,
                    Subject = plan.Spec.Subject,
                    Style = plan.Spec.Style,
                    WidthPixels = video.Width,
                    HeightPixels = video.Height,
                    OutputKey = ArtifactKeys.Storyboard(job.JobId, beat.Index),
                    ImageModel = storyboardImageModel,
                };
                break;
            case TaskKind.Chunk:
                var chunk = plan.Chunks[task.Index];
                // A chunk moved to its model's fallback (the provider's circuit open) runs on that model.
                var model = models.Models[task.Model.Length > 0 ? task.Model : plan.Model];
                var dependency = tasks[task.DependsOn[0]];
                var chunkBeat = plan.Spec.Beats[chunk.BeatIndex];
                var strategy = StrategyOf(plan);
                request.Chunk = new ChunkTask
                {
                    ChunkIndex = chunk.Index,
                    Model = model.Name,
                    Prompt = $"{chunkBeat.ShotDescription}. {plan.Spec.Style}",
                    // A storyboard or a keyframe is the image itself; a chunk before this one hands on its last frame.
                    StartImageUri = !model.TakesImage ? "" : dependency.Kind == TaskKind.Chunk ? dependency.LastFrameUri : dependency.OutputUri,
                    EndImageUri = strategy == GraphStrategy.Keyframes ? tasks[KeyframeTaskId(chunk.Index)].OutputUri : "",
                    ConditioningVideoUri = strategy == GraphStrategy.Extend && dependency.Kind == TaskKind.Chunk ? dependency.OutputUri : "",
                    OverlapFrames = strategy == GraphStrategy.Extend && dependency.Kind == TaskKind.Chunk ? OverlapFramesOf(plan) : 0,
                    ScoreSeam = seamGate is not null && model.TakesImage && SeamGatePolicy.Scores(plan, task, seamGate),
                    ClipSeconds = model.ClipSeconds,
                    WidthPixels = model.Width,
                    HeightPixels = model.Height,
                    Fps = model.Fps,
                    OutputKey = ArtifactKeys.Chunk(job.JobId, chunk.Index),
                    LastFrameKey = ArtifactKeys.LastFrame(job.JobId, chunk.Index),
                    Seed = ChunkSeed(job, chunk, task),
                    PricePerSecondUsd = model.PricePerSecondUsd,
                };
                break;
            case TaskKind.Keyframe:
                var framed = plan.Chunks[task.Index];
                var videoModel = models.Models[plan.Model];
                request.Keyframe = new KeyframeTask
                {
                    ChunkIndex = framed.Index,
                    SourceImageUri = tasks[task.DependsOn[0]].OutputUri,
                    Prompt = $"{plan.Spec.Beats[framed.BeatIndex].ShotDescription}. {plan.Spec.Style}",
                    Seconds = videoModel.ClipSeconds,
                    WidthPixels = videoModel.Width,
                    HeightPixels = videoModel.Height,
                    OutputKey = ArtifactKeys.Keyframe(job.JobId, framed.Index),
                    ImageModel = storyboardImageModel,
                    Seed = StableSeed(SeedJobIdOf(job), 1_000_000 + framed.Index),
                };
                break;
            case TaskKind.Stitch:
                // With a finish the stitch keeps the raw cut (the overlap transitions consume included);
                // without one (older plans) it is the final video.
                var stitch = plan.Finish is null
                    ? new StitchTask { DurationSeconds = plan.Spec.DurationSeconds, OutputKey = ArtifactKeys.Final(job.JobId) }
                    : new StitchTask { DurationSeconds = ChunkPlanner.RawSeconds(plan), OutputKey = ArtifactKeys.Stitched(job.JobId) };
                stitch.ChunkUris.AddRange(task.DependsOn.Select(d => tasks[d].OutputUri));
                request.Stitch = stitch;
                break;
            case TaskKind.Finish:
                request.Finish = BuildFinish(job, tasks);
                break;
            case TaskKind.Voiceover:
                var speech = models.Models[SoundtrackPlanner.VoiceModelOf(plan.Spec.Soundtrack)];
                var voiceover = new VoiceoverTask
                {
                    DurationSeconds = plan.Spec.DurationSeconds,
                    Voice = plan.Spec.Soundtrack.Voice,
                    Model = speech.Name,
                    OutputKey = ArtifactKeys.Voiceover(job.JobId),
                    PricePerCharacterUsd = speech.PricePerCharacterUsd,
                    PricePerSecondUsd = speech.PricePerSecondUsd,
                };
                voiceover.Beats.AddRange(plan.Spec.Beats);
                request.Voiceover = voiceover;
                break;
            case TaskKind.Music:
                var composer = models.Models[SoundtrackPlanner.MusicModelOf(plan.Spec.Soundtrack)];
                var music = new MusicTask
                {
                    DurationSeconds = plan.Spec.DurationSeconds,
                    Style = plan.Spec.Soundtrack.MusicStyle,
                    Model = composer.Name,
                    OutputKey = ArtifactKeys.Music(job.JobId),
                    PricePerSecondUsd = composer.PricePerSecondUsd,
                    Subject = plan.Spec.Subject,
                };
                music.BeatStartsSeconds.AddRange(plan.Spec.Beats.Select(b => b.StartSeconds));
                request.Music = music;
                break;
            case TaskKind.Upscale:
                var upscaler = models.Models[plan.Finish.Upscaler];
                request.Upscale = new UpscaleTask
                {
                    ChunkIndex = task.Index,
                    Model = upscaler.Name,
                    VideoUri = tasks[ChunkTaskId(task.Index)].OutputUri,
                    WidthPixels = plan.Finish.WidthPixels,
                    HeightPixels = plan.Finish.HeightPixels,
                    Fps = models.Models[plan.Model].Fps,
                    OutputKey = ArtifactKeys.Upscaled(job.JobId, task.Index),
                    PricePerSecondUsd = upscaler.PricePerSecondUsd,
                };
                break;
            case TaskKind.Soundtrack:
                var soundtrack = new SoundtrackTask
                {
                    DurationSeconds = plan.Spec.DurationSeconds,
                    Plan = plan.Spec.Soundtrack,
                    OutputKey = ArtifactKeys.Soundtrack(job.JobId),
                    // Jobs stored before the voiceover and music tasks existed have neither: the mix makes both itself.
                    VoiceoverUri = tasks.TryGetValue(VoiceoverTaskId, out var voiced) ? voiced.OutputUri : "",
                    MusicUri = tasks.TryGetValue(MusicTaskId, out var composed) ? composed.OutputUri : "",
                };
                soundtrack.Beats.AddRange(plan.Spec.Beats);
                request.Soundtrack = soundtrack;
                break;
            default:
                throw new InvalidOperationException($"Task {task.TaskId} has no kind.");
        }

        return request;
    }

    /// <summary>The tasks the finish waits for: the stitch, every upscale task when the plan has an upscaler, and the soundtrack when the job has one.</summary>
    public static IEnumerable<string> FinishInputs(Plan plan)
    {
        yield return StitchTaskId;
        if (HasUpscaler(plan))
        {
            foreach (var chunk in plan.Chunks)
            {
                yield return UpscaleTaskId(chunk.Index);
            }
        }

        if (HasSoundtrack(plan))
        {
            yield return SoundtrackTaskId;
        }
    }

    /// <summary>
    /// The finish request: the raw cut, a cut with the plan's transition wherever a chunk starts a new take,
    /// the beats' on-screen text in the final timeline (while the beat's chunks are on screen, inset so it never
    /// spans a transition), the master's size and frame rate, and the deliverables.
    /// </summary>
    public static FinishTask BuildFinish(Job job, IReadOnlyDictionary<string, TaskStatus> tasks)
    {
        var plan = job.Plan;
        var finish = plan.Finish;
        var task = new FinishTask
        {
            VideoUri = tasks[StitchTaskId].OutputUri,
            DurationSeconds = plan.Spec.DurationSeconds,
            WidthPixels = finish.WidthPixels,
            HeightPixels = finish.HeightPixels,
            Fps = finish.Fps,
            Look = finish.Look,
            OutputKey = ArtifactKeys.Final(job.JobId),
            SoundtrackUri = tasks.TryGetValue(SoundtrackTaskId, out var soundtrackTask) ? soundtrackTask.OutputUri : "",
            ColourMatch = finish.ColourMatch,
            EndCard = finish.EndCard,
        };
        foreach (var chunk in plan.Chunks.Where(c => c.TransitionInSeconds > 0))
        {
            // For workers from before FinishTask.chunks: they cut the raw cut into takes here.
            task.Cuts.Add(new TakeCut { AtSeconds = ChunkPlanner.RawStart(plan, chunk.Index), Transition = finish.Transition, Seconds = chunk.TransitionInSeconds });
        }

        // Every chunk with its seam, anchor and framing: a take's anchor is the storyboard its reference chunk started from.
        var anchor = "";
        foreach (var chunk in plan.Chunks)
        {
            var chunkTask = tasks[ChunkTaskId(chunk.Index)];
            if (chunk.IsReference)
            {
                anchor = tasks.TryGetValue(StoryboardTaskId(chunk.BeatIndex), out var storyboard) ? storyboard.OutputUri : "";
            }

            // With an upscaler the finish reads the upscaled clip (same frames, same length, the master's size).
            var clipUri = HasUpscaler(plan) && tasks.TryGetValue(UpscaleTaskId(chunk.Index), out var upscaled) ? upscaled.OutputUri : chunkTask.OutputUri;
            task.Chunks.Add(new FinishChunk
            {
                Uri = clipUri,
                MediaSeconds = chunkTask.MediaSeconds > 0 ? chunkTask.MediaSeconds : chunk.GeneratedSeconds,
                Continues = !chunk.IsReference,
                OverlapFrames = chunk.IsReference ? 0 : OverlapFramesOf(plan),
                AnchorUri = anchor,
                TransitionInSeconds = chunk.TransitionInSeconds,
                Transition = chunk.TransitionInSeconds > 0 ? finish.Transition : "",
                Focus = plan.Spec.Beats[chunk.BeatIndex].Focus,
            });
        }

        if (finish.Titles)
        {
            // A beat's text shows while its picture does: from the start of the beat's first chunk to the start of the
            // next beat's first chunk (chunks belong to the beat their start falls in), inset so it never spans a transition.
            var inset = Math.Max(finish.TransitionSeconds, 0.25);
            var starts = plan.Chunks.GroupBy(c => c.BeatIndex).ToDictionary(g => g.Key, g => g.Min(c => c.StartSeconds));
            var ordered = starts.OrderBy(p => p.Value).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                var beat = plan.Spec.Beats[ordered[i].Key];
                if (beat.OnScreenText.Length == 0)
                {
                    continue;
                }

                var start = ordered[i].Value + (i == 0 ? 0.25 : inset);
                var end = (i + 1 < ordered.Count ? ordered[i + 1].Value : ChunkPlanner.EndCardStart(plan)) - inset;
                if (end - start >= 1.0)
                {
                    task.Titles.Add(new TitleText { Text = beat.OnScreenText, StartSeconds = Math.Round(start, 3), EndSeconds = Math.Round(end, 3) });
                }
            }
        }

        foreach (var ratio in finish.AspectRatios)
        {
            task.Deliverables.Add(new DeliverableTarget { AspectRatio = ratio, OutputKey = ArtifactKeys.Deliverable(job.JobId, ratio) });
        }

        return task;
    }

    /// <summary>The job whose id seeds the plan (a revision's original), else the job's own.</summary>
    public static string SeedJobIdOf(Job job) => job.Plan?.SeedJobId is { Length: > 0 } seedJob ? seedJob : job.JobId;

    /// <summary>A chunk attempt's seed: the chunk's own (a revision set it), else the stable seed of the seed job; another per seam regeneration.</summary>
    public static long ChunkSeed(Job job, ChunkPlan chunk, TaskStatus task) => chunk.Seed != 0
        ? chunk.Seed + SeamGatePolicy.SeedOffset(task)
        : StableSeed(SeedJobIdOf(job), chunk.Index + SeamGatePolicy.SeedOffset(task));

    private static long StableSeed(string jobId, int index)
    {
        // FNV-1a: a seed that does not change between processes (string.GetHashCode does).
        ulong hash = 14695981039346656037;
        foreach (var c in jobId)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return (long)((hash ^ (ulong)index) & 0x7FFFFFFF);
    }
}

/// <summary>
/// Task ids by index, made once: the core asks for them on every pass (the budget guard per chunk, the graph per
/// request), and a formatted string each time was a steady share of its allocations.
/// </summary>
internal sealed class TaskIds(string prefix)
{
    private const int Cached = 4096;

    public static readonly TaskIds Chunk = new("chunk-");
    public static readonly TaskIds Storyboard = new("storyboard-");

    private readonly string?[] _ids = new string?[Cached];

    public string Of(int index)
    {
        if ((uint)index >= Cached)
        {
            return prefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        // A race between threads makes the same string twice, harmlessly.
        return _ids[index] ??= prefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
