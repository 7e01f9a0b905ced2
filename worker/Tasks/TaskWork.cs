using VideoGen.Contracts.V1;

namespace VideoGen.Worker.Tasks;

/// <summary>One task attempt as the worker runs it: the domain form of a validated <c>RunTaskRequest</c>.</summary>
public abstract record TaskWork(string JobId, string TaskId, int Attempt)
{
    /// <summary>Metric label and log name: "storyboard", "chunk" or "stitch".</summary>
    public abstract string Kind { get; }

    /// <summary>The id the worker reports in its status: <c>{job_id}/{task_id}#{attempt}</c>.</summary>
    public string RunningId => $"{JobId}/{TaskId}#{Attempt}";

    /// <summary>The provider request an earlier attempt started (RunTaskRequest.resume_provider_request_id): resumed, not paid for again.</summary>
    public string? ResumeProviderRequestId { get; init; }
}

/// <summary>Render one beat's storyboard image.</summary>
public sealed record StoryboardWork(
    string JobId,
    string TaskId,
    int Attempt,
    int BeatIndex,
    string BeatName,
    string ShotDescription,
    string ImagePrompt,
    string Subject,
    string Style,
    int Width,
    int Height,
    string OutputKey,
    string ImageModel) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "storyboard";
}

/// <summary>Generate one chunk and extract its last frame.</summary>
public sealed record ChunkWork(
    string JobId,
    string TaskId,
    int Attempt,
    int ChunkIndex,
    string Model,
    string Prompt,
    string? StartImageUri,
    double ClipSeconds,
    int Width,
    int Height,
    int Fps,
    string OutputKey,
    string LastFrameKey,
    long Seed,
    double PricePerSecondUsd) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "chunk";

    /// <summary>First-and-last-frame: the keyframe the clip must end on; null: none.</summary>
    public string? EndImageUri { get; init; }

    /// <summary>Extend: the clip this one continues; null: none.</summary>
    public string? ConditioningVideoUri { get; init; }

    /// <summary>Extend: the conditioning clip's last frames this clip starts with.</summary>
    public int OverlapFrames { get; init; }

    /// <summary>Score the seam between the start image and the clip's first new frame (ChunkTask.score_seam).</summary>
    public bool ScoreSeam { get; init; }
}

/// <summary>Make one keyframe image of a take from the image before it.</summary>
public sealed record KeyframeWork(
    string JobId,
    string TaskId,
    int Attempt,
    int ChunkIndex,
    string SourceImageUri,
    string Prompt,
    double Seconds,
    int Width,
    int Height,
    string OutputKey,
    string ImageModel,
    long Seed) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "keyframe";
}

/// <summary>Upscale one chunk with an upscaler model to the master's size, keeping its frame rate.</summary>
public sealed record UpscaleWork(
    string JobId,
    string TaskId,
    int Attempt,
    int ChunkIndex,
    string Model,
    string VideoUri,
    int Width,
    int Height,
    int Fps,
    string OutputKey,
    double PricePerSecondUsd) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "upscale";
}

/// <summary>Concatenate chunks and trim to the job's duration.</summary>
public sealed record StitchWork(
    string JobId,
    string TaskId,
    int Attempt,
    IReadOnlyList<string> ChunkUris,
    double DurationSeconds,
    string OutputKey) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "stitch";
}

/// <summary>A take boundary in the raw cut (coordinators before <c>FinishTask.chunks</c>): where the incoming take starts, its transition and overlap.</summary>
public sealed record FinishCut(double AtSeconds, string Transition, double Seconds);

/// <summary>One chunk as the finish assembles it (see <c>FinishChunk</c> in worker.proto).</summary>
/// <remarks><paramref name="OverlapFrames"/>: with <paramref name="Continues"/>, the frames at its start that repeat the chunk before (at least 1).</remarks>
public sealed record FinishChunkWork(string Uri, double MediaSeconds, bool Continues, string? AnchorUri, double TransitionInSeconds, string Transition, Media.Focus? Focus, int OverlapFrames = 1);

/// <summary>The closing card: its length, text lines and background (RRGGBB).</summary>
public sealed record EndCardWork(double Seconds, string Text, string Background);

/// <summary>Finish the chunks into the delivered ad: seams, colour, transitions, grade, titles, end card, renditions, soundtrack.</summary>
public sealed record FinishWork(
    string JobId,
    string TaskId,
    int Attempt,
    string VideoUri,
    double DurationSeconds,
    IReadOnlyList<FinishCut> Cuts,
    int Width,
    int Height,
    int Fps,
    string Look,
    IReadOnlyList<(string Text, double StartSeconds, double EndSeconds)> Titles,
    IReadOnlyList<(string AspectRatio, string OutputKey)> Deliverables,
    string OutputKey,
    string? SoundtrackUri,
    IReadOnlyList<FinishChunkWork> Chunks,
    bool ColourMatch = false,
    EndCardWork? EndCard = null) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "finish";
}

/// <summary>Speak the voiceover: each beat's line at the beat's start, fitted, one mono WAV of exactly the duration.</summary>
public sealed record VoiceoverWork(
    string JobId,
    string TaskId,
    int Attempt,
    double DurationSeconds,
    IReadOnlyList<Media.VoiceLine> Lines,
    string Voice,
    string Model,
    string OutputKey,
    double PricePerCharacterUsd,
    double PricePerSecondUsd) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "voiceover";
}

/// <summary>Make the music bed: bars on the beat boundaries, faded, one stereo WAV of exactly the duration.</summary>
public sealed record MusicWork(
    string JobId,
    string TaskId,
    int Attempt,
    double DurationSeconds,
    IReadOnlyList<double> BeatStartsSeconds,
    string Style,
    string Subject,
    string Model,
    string OutputKey,
    double PricePerSecondUsd) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "music";
}

/// <summary>
/// Mix the soundtrack: the music ducked under the voiceover, two-pass loudnorm, AAC. A null voiceover or music URI
/// (a task made before those tasks existed) is made here with the embedded model.
/// </summary>
public sealed record SoundtrackWork(
    string JobId,
    string TaskId,
    int Attempt,
    double DurationSeconds,
    IReadOnlyList<Media.VoiceLine> Lines,
    string Voice,
    string MusicStyle,
    double LoudnessLufs,
    string OutputKey,
    string? VoiceoverUri = null,
    string? MusicUri = null) : TaskWork(JobId, TaskId, Attempt)
{
    public override string Kind => "soundtrack";
}

/// <summary>One rendition a finish stored.</summary>
public sealed record DeliverableResult(string AspectRatio, string Uri, string Url, int Width, int Height);

/// <summary>What a successful attempt produced.</summary>
/// <param name="OutputUri">Main output (clip, image or final video).</param>
/// <param name="LastFrameUri">For chunks: the last frame; else empty.</param>
/// <param name="MediaSeconds">Seconds of video produced, as probed.</param>
/// <param name="CostUsd">Model cost: media seconds × price per second.</param>
/// <param name="ModelSeconds">Wall time of the model call.</param>
/// <param name="ElapsedSeconds">Wall time of the whole attempt.</param>
/// <param name="OutputUrl">An http(s) URL of the main output where the store makes one (S3 presigned GET); else empty.</param>
/// <param name="Deliverables">For the finish: every rendition stored, the master first.</param>
/// <param name="Seam">For a chunk asked to score its seam: the measure (TaskCompleted.seam_score).</param>
public sealed record TaskResult(
    string OutputUri,
    string LastFrameUri = "",
    double MediaSeconds = 0,
    double CostUsd = 0,
    double ModelSeconds = 0,
    double ElapsedSeconds = 0,
    string OutputUrl = "",
    IReadOnlyList<DeliverableResult>? Deliverables = null,
    Media.SeamMeasure? Seam = null);

/// <summary>Where an executor reports progress and stored artifacts while it runs.</summary>
public interface ITaskReporter
{
    /// <summary>Reports a milestone; waits for room in the event stream.</summary>
    ValueTask ProgressAsync(double fraction, string step, CancellationToken cancellationToken);

    /// <summary>Reports intermediate progress without waiting; dropped when the stream is busy.</summary>
    void TryProgress(double fraction, string step);

    /// <summary>Reports a stored artifact.</summary>
    ValueTask ArtifactAsync(ArtifactKind kind, string uri, long sizeBytes, CancellationToken cancellationToken);
}
