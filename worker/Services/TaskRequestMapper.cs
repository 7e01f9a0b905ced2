using VideoGen.Contracts.V1;
using VideoGen.Errors;
using VideoGen.Worker.Media;
using VideoGen.Worker.Models;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Services;

/// <summary>
/// Validates a <see cref="RunTaskRequest"/> and maps it to a <see cref="TaskWork"/>. A malformed request throws a
/// <see cref="RequestValidationException"/> naming the field: INVALID_ARGUMENT with a google.rpc.BadRequest detail
/// (<see cref="ErrorMapping"/>).
/// </summary>
public static class TaskRequestMapper
{
    /// <summary>Maps <paramref name="request"/>, or throws a <see cref="RequestValidationException"/>.</summary>
    public static TaskWork ToWork(RunTaskRequest request, ModelRegistry models)
    {
        Require(!string.IsNullOrWhiteSpace(request.JobId), "job_id", "is required");
        Require(!string.IsNullOrWhiteSpace(request.TaskId), "task_id", "is required");
        var attempt = Math.Max(1, request.Attempt);
        var resume = request.ResumeProviderRequestId;
        Require(resume.Length <= 128 && resume.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'),
            "resume_provider_request_id", "must be at most 128 letters, digits, '-', '_', '.' or ':'");
        TaskWork work = request.TaskCase switch
        {
            RunTaskRequest.TaskOneofCase.Storyboard => Storyboard(request, attempt, request.Storyboard, models),
            RunTaskRequest.TaskOneofCase.Chunk => Chunk(request, attempt, request.Chunk, models),
            RunTaskRequest.TaskOneofCase.Stitch => Stitch(request, attempt, request.Stitch),
            RunTaskRequest.TaskOneofCase.Finish => Finish(request, attempt, request.Finish),
            RunTaskRequest.TaskOneofCase.Voiceover => Voiceover(request, attempt, request.Voiceover, models),
            RunTaskRequest.TaskOneofCase.Music => Music(request, attempt, request.Music, models),
            RunTaskRequest.TaskOneofCase.Soundtrack => Soundtrack(request, attempt, request.Soundtrack),
            RunTaskRequest.TaskOneofCase.Upscale => Upscale(request, attempt, request.Upscale, models),
            RunTaskRequest.TaskOneofCase.Keyframe => Keyframe(request, attempt, request.Keyframe, models),
            _ => throw Invalid("task", "one of storyboard, keyframe, chunk, stitch, finish, voiceover, music, soundtrack or upscale is required"),
        };
        return resume.Length == 0 ? work : work with { ResumeProviderRequestId = resume };
    }

    private static StoryboardWork Storyboard(RunTaskRequest request, int attempt, StoryboardTask task, ModelRegistry models)
    {
        Require(task.Beat is not null, "storyboard.beat", "is required");
        RequireKey(task.OutputKey, "storyboard.output_key");
        Require(string.IsNullOrEmpty(task.ImageModel) || models.TryGetImageModel(task.ImageModel, out _, out _),
            "storyboard.image_model", $"'{task.ImageModel}' is not served by this worker");
        Require(task.WidthPixels >= 0 && task.HeightPixels >= 0, "storyboard.width_pixels", "must not be negative");
        models.TryGetImageModel(task.ImageModel, out var spec, out _);
        var beat = task.Beat!;
        return new StoryboardWork(
            request.JobId, request.TaskId, attempt, beat.Index, beat.Name, beat.ShotDescription, beat.ImagePrompt,
            task.Subject, task.Style,
            task.WidthPixels > 0 ? task.WidthPixels : spec?.Width ?? 854,
            task.HeightPixels > 0 ? task.HeightPixels : spec?.Height ?? 480,
            task.OutputKey, task.ImageModel);
    }

    private static ChunkWork Chunk(RunTaskRequest request, int attempt, ChunkTask task, ModelRegistry models)
    {
        Require(!string.IsNullOrWhiteSpace(task.Model), "chunk.model", "is required");
        Require(models.TryGetVideoModel(task.Model, out var spec, out _), "chunk.model", $"'{task.Model}' is not served by this worker");
        RequireKey(task.OutputKey, "chunk.output_key");
        RequireKey(task.LastFrameKey, "chunk.last_frame_key");
        Require(task.ClipSeconds > 0, "chunk.clip_seconds", "must be greater than 0");
        Require(task.WidthPixels >= 0, "chunk.width_pixels", "must not be negative");
        Require(task.HeightPixels >= 0, "chunk.height_pixels", "must not be negative");
        Require(task.Fps >= 0, "chunk.fps", "must not be negative");
        Require(string.IsNullOrEmpty(task.StartImageUri) || Uri.TryCreate(task.StartImageUri, UriKind.Absolute, out _),
            "chunk.start_image_uri", "must be an absolute URI");
        Require(string.IsNullOrEmpty(task.EndImageUri) || Uri.TryCreate(task.EndImageUri, UriKind.Absolute, out _),
            "chunk.end_image_uri", "must be an absolute URI");
        Require(string.IsNullOrEmpty(task.EndImageUri) || !string.IsNullOrEmpty(task.StartImageUri), "chunk.end_image_uri", "needs a start_image_uri too");
        Require(string.IsNullOrEmpty(task.EndImageUri) || spec.Can(Catalog.ModelCapabilities.FirstLastFrame),
            "chunk.end_image_uri", $"model '{Clip(task.Model)}' takes no end image (capability flf2v)");
        Require(string.IsNullOrEmpty(task.ConditioningVideoUri) || Uri.TryCreate(task.ConditioningVideoUri, UriKind.Absolute, out _),
            "chunk.conditioning_video_uri", "must be an absolute URI");
        Require(string.IsNullOrEmpty(task.ConditioningVideoUri) || spec.Can(Catalog.ModelCapabilities.Extend),
            "chunk.conditioning_video_uri", $"model '{Clip(task.Model)}' extends no clip (capability extend)");
        Require(string.IsNullOrEmpty(task.ConditioningVideoUri) || !string.IsNullOrEmpty(task.StartImageUri), "chunk.conditioning_video_uri", "needs a start_image_uri too (the clip's last frame)");
        Require(!task.ScoreSeam || !string.IsNullOrEmpty(task.StartImageUri), "chunk.score_seam", "needs a start_image_uri (the frame the chunk continues)");
        Require(string.IsNullOrEmpty(task.ConditioningVideoUri) ? task.OverlapFrames == 0 : task.OverlapFrames is >= 1 and <= 64,
            "chunk.overlap_frames", "must be 1 to 64 with a conditioning_video_uri, else 0");
        return new ChunkWork(
            request.JobId, request.TaskId, attempt, task.ChunkIndex, task.Model, task.Prompt,
            string.IsNullOrEmpty(task.StartImageUri) ? null : task.StartImageUri,
            task.ClipSeconds,
            task.WidthPixels > 0 ? task.WidthPixels : spec.Width,
            task.HeightPixels > 0 ? task.HeightPixels : spec.Height,
            task.Fps > 0 ? task.Fps : spec.Fps,
            task.OutputKey, task.LastFrameKey, task.Seed, task.PricePerSecondUsd)
        {
            EndImageUri = string.IsNullOrEmpty(task.EndImageUri) ? null : task.EndImageUri,
            ConditioningVideoUri = string.IsNullOrEmpty(task.ConditioningVideoUri) ? null : task.ConditioningVideoUri,
            OverlapFrames = task.OverlapFrames,
            ScoreSeam = task.ScoreSeam,
        };
    }

    private static KeyframeWork Keyframe(RunTaskRequest request, int attempt, KeyframeTask task, ModelRegistry models)
    {
        Require(Uri.TryCreate(task.SourceImageUri, UriKind.Absolute, out _), "keyframe.source_image_uri", "must be an absolute URI");
        Require(double.IsFinite(task.Seconds) && task.Seconds > 0 && task.Seconds <= 60, "keyframe.seconds", "must be greater than 0 and at most 60");
        Require(task.WidthPixels is >= 16 and <= 4096 && task.HeightPixels is >= 16 and <= 4096, "keyframe.width_pixels", "width and height must be from 16 to 4096");
        Require(task.Prompt.Length <= 4000, "keyframe.prompt", "must hold at most 4000 characters");
        Require(string.IsNullOrEmpty(task.ImageModel) || models.TryGetImageModel(task.ImageModel, out _, out _),
            "keyframe.image_model", $"'{Clip(task.ImageModel)}' is not served by this worker");
        RequireKey(task.OutputKey, "keyframe.output_key");
        return new KeyframeWork(request.JobId, request.TaskId, attempt, task.ChunkIndex, task.SourceImageUri, task.Prompt, task.Seconds,
            task.WidthPixels, task.HeightPixels, task.OutputKey, task.ImageModel, task.Seed);
    }

    private static UpscaleWork Upscale(RunTaskRequest request, int attempt, UpscaleTask task, ModelRegistry models)
    {
        Require(!string.IsNullOrWhiteSpace(task.Model), "upscale.model", "is required");
        Require(models.TryGetUpscaler(task.Model, out _, out _), "upscale.model", $"'{Clip(task.Model)}' is not an upscaler served by this worker");
        Require(Uri.TryCreate(task.VideoUri, UriKind.Absolute, out _), "upscale.video_uri", "must be an absolute URI");
        Require(task.ChunkIndex >= 0, "upscale.chunk_index", "must not be negative");
        Require(task.WidthPixels is >= 16 and <= 4096 && task.WidthPixels % 2 == 0, "upscale.width_pixels", "must be an even number from 16 to 4096");
        Require(task.HeightPixels is >= 16 and <= 4096 && task.HeightPixels % 2 == 0, "upscale.height_pixels", "must be an even number from 16 to 4096");
        Require(task.Fps is >= 1 and <= 120, "upscale.fps", "must be from 1 to 120");
        Require(double.IsFinite(task.PricePerSecondUsd) && task.PricePerSecondUsd >= 0, "upscale.price_per_second_usd", "must be finite and not negative");
        RequireKey(task.OutputKey, "upscale.output_key");
        return new UpscaleWork(request.JobId, request.TaskId, attempt, task.ChunkIndex, task.Model, task.VideoUri,
            task.WidthPixels, task.HeightPixels, task.Fps, task.OutputKey, task.PricePerSecondUsd);
    }

    private static StitchWork Stitch(RunTaskRequest request, int attempt, StitchTask task)
    {
        Require(task.ChunkUris.Count > 0, "stitch.chunk_uris", "needs at least one chunk URI");
        for (var i = 0; i < task.ChunkUris.Count; i++)
        {
            Require(Uri.TryCreate(task.ChunkUris[i], UriKind.Absolute, out _), $"stitch.chunk_uris[{i}]", "must be an absolute URI");
        }

        Require(task.DurationSeconds > 0, "stitch.duration_seconds", "must be greater than 0");
        RequireKey(task.OutputKey, "stitch.output_key");
        return new StitchWork(request.JobId, request.TaskId, attempt, task.ChunkUris.ToArray(), task.DurationSeconds, task.OutputKey);
    }

    private static VoiceoverWork Voiceover(RunTaskRequest request, int attempt, VoiceoverTask task, ModelRegistry models)
    {
        Require(double.IsFinite(task.DurationSeconds) && task.DurationSeconds > 0, "voiceover.duration_seconds", "must be greater than 0");
        Require(Media.SoundtrackMaker.Voices.Contains(task.Voice), "voiceover.voice", $"unknown voice '{Clip(task.Voice)}'; known: {string.Join(", ", Media.SoundtrackMaker.Voices)}");
        Require(!string.IsNullOrWhiteSpace(task.Model), "voiceover.model", "is required");
        Require(models.TryGetSpeechModel(task.Model, out _, out _), "voiceover.model", $"'{Clip(task.Model)}' is not a speech model this worker serves");
        RequireKey(task.OutputKey, "voiceover.output_key");
        RequirePrice(task.PricePerCharacterUsd, "voiceover.price_per_character_usd");
        RequirePrice(task.PricePerSecondUsd, "voiceover.price_per_second_usd");
        return new VoiceoverWork(request.JobId, request.TaskId, attempt, task.DurationSeconds, Lines(task.Beats, "voiceover"), task.Voice, task.Model, task.OutputKey,
            task.PricePerCharacterUsd, task.PricePerSecondUsd);
    }

    private static MusicWork Music(RunTaskRequest request, int attempt, MusicTask task, ModelRegistry models)
    {
        Require(double.IsFinite(task.DurationSeconds) && task.DurationSeconds > 0, "music.duration_seconds", "must be greater than 0");
        Require(Media.SoundtrackArguments.Moods.Contains(task.Style), "music.style", $"unknown music style '{Clip(task.Style)}'; known: {string.Join(", ", Media.SoundtrackArguments.Moods)}");
        Require(!string.IsNullOrWhiteSpace(task.Model), "music.model", "is required");
        Require(models.TryGetMusicModel(task.Model, out _, out _), "music.model", $"'{Clip(task.Model)}' is not a music model this worker serves");
        RequireKey(task.OutputKey, "music.output_key");
        RequirePrice(task.PricePerSecondUsd, "music.price_per_second_usd");
        var previous = -1.0;
        for (var i = 0; i < task.BeatStartsSeconds.Count; i++)
        {
            var start = task.BeatStartsSeconds[i];
            Require(double.IsFinite(start) && start > previous && start < task.DurationSeconds, $"music.beat_starts_seconds[{i}]", "must grow, from 0, and lie inside the duration");
            previous = start;
        }

        Require(task.Subject.Length <= 500, "music.subject", "must hold at most 500 characters");
        return new MusicWork(request.JobId, request.TaskId, attempt, task.DurationSeconds, task.BeatStartsSeconds.ToArray(), task.Style, task.Subject, task.Model, task.OutputKey,
            task.PricePerSecondUsd);
    }

    private static SoundtrackWork Soundtrack(RunTaskRequest request, int attempt, SoundtrackTask task)
    {
        Require(double.IsFinite(task.DurationSeconds) && task.DurationSeconds > 0, "soundtrack.duration_seconds", "must be greater than 0");
        Require(task.Plan is not null, "soundtrack.plan", "is required");
        Require(Media.SoundtrackMaker.EspeakVoices.ContainsKey(task.Plan!.Voice), "soundtrack.plan.voice", $"unknown voice '{Clip(task.Plan.Voice)}'");
        Require(Media.SoundtrackArguments.Moods.Contains(task.Plan.MusicStyle), "soundtrack.plan.music_style", $"unknown music style '{Clip(task.Plan.MusicStyle)}'");
        Require(task.Plan.LoudnessLufs is >= -31 and <= -5, "soundtrack.plan.loudness_lufs", "must be from -31 to -5 LUFS");
        RequireKey(task.OutputKey, "soundtrack.output_key");
        Require(string.IsNullOrEmpty(task.VoiceoverUri) || Uri.TryCreate(task.VoiceoverUri, UriKind.Absolute, out _), "soundtrack.voiceover_uri", "must be an absolute URI");
        Require(string.IsNullOrEmpty(task.MusicUri) || Uri.TryCreate(task.MusicUri, UriKind.Absolute, out _), "soundtrack.music_uri", "must be an absolute URI");
        return new SoundtrackWork(request.JobId, request.TaskId, attempt, task.DurationSeconds, Lines(task.Beats, "soundtrack"), task.Plan.Voice, task.Plan.MusicStyle, task.Plan.LoudnessLufs, task.OutputKey,
            string.IsNullOrEmpty(task.VoiceoverUri) ? null : task.VoiceoverUri,
            string.IsNullOrEmpty(task.MusicUri) ? null : task.MusicUri);
    }

    private static List<Media.VoiceLine> Lines(IReadOnlyList<Beat> beats, string task)
    {
        var lines = new List<Media.VoiceLine>();
        for (var i = 0; i < beats.Count; i++)
        {
            var beat = beats[i];
            Require(double.IsFinite(beat.StartSeconds) && beat.StartSeconds >= 0 && double.IsFinite(beat.LengthSeconds) && beat.LengthSeconds > 0,
                $"{task}.beats[{i}].length_seconds", "must be greater than 0 with a start not negative");
            Require(beat.VoiceoverLine.Length <= 500, $"{task}.beats[{i}].voiceover_line", "must hold at most 500 characters");
            lines.Add(new Media.VoiceLine(beat.StartSeconds, beat.LengthSeconds, beat.VoiceoverLine));
        }

        return lines;
    }

    private static void RequirePrice(double price, string field) =>
        Require(double.IsFinite(price) && price >= 0, field, "must be a finite price, not negative");

    private static FinishWork Finish(RunTaskRequest request, int attempt, FinishTask task)
    {
        Require(Uri.TryCreate(task.VideoUri, UriKind.Absolute, out _), "finish.video_uri", "must be an absolute URI");
        Require(double.IsFinite(task.DurationSeconds) && task.DurationSeconds > 0, "finish.duration_seconds", "must be greater than 0");
        Require(task.WidthPixels is >= 16 and <= 4096 && task.WidthPixels % 2 == 0, "finish.width_pixels", "must be an even number from 16 to 4096");
        Require(task.HeightPixels is >= 16 and <= 4096 && task.HeightPixels % 2 == 0, "finish.height_pixels", "must be an even number from 16 to 4096");
        Require(task.Fps is >= 1 and <= 120, "finish.fps", "must be from 1 to 120");
        Require(task.Look is "" or "none" || Looks.Grades(task.Look), "finish.look", $"unknown look '{Clip(task.Look)}'");
        var previous = 0.0;
        for (var i = 0; i < task.Cuts.Count; i++)
        {
            var cut = task.Cuts[i];
            Require(Finisher.XfadeTransitions.ContainsKey(cut.Transition), $"finish.cuts[{i}].transition", $"unknown transition '{Clip(cut.Transition)}'");
            Require(double.IsFinite(cut.AtSeconds) && cut.AtSeconds > previous, $"finish.cuts[{i}].at_seconds", "must grow from one cut to the next and be greater than 0");
            Require(double.IsFinite(cut.Seconds) && cut.Seconds > 0 && cut.Seconds < cut.AtSeconds - previous, $"finish.cuts[{i}].seconds", "must be greater than 0 and shorter than the take before it");
            previous = cut.AtSeconds;
        }

        for (var i = 0; i < task.Titles.Count; i++)
        {
            var title = task.Titles[i];
            Require(!string.IsNullOrWhiteSpace(title.Text) && title.Text.Length <= 200, $"finish.titles[{i}].text", "must hold 1 to 200 characters");
            Require(double.IsFinite(title.StartSeconds) && double.IsFinite(title.EndSeconds) && title.StartSeconds >= 0 && title.EndSeconds > title.StartSeconds,
                $"finish.titles[{i}].end_seconds", "must be after start_seconds, both finite and not negative");
        }

        for (var i = 0; i < task.Deliverables.Count; i++)
        {
            Require(task.Deliverables[i].AspectRatio is "9:16" or "1:1", $"finish.deliverables[{i}].aspect_ratio", "must be 9:16 or 1:1");
            RequireKey(task.Deliverables[i].OutputKey, $"finish.deliverables[{i}].output_key");
        }

        RequireKey(task.OutputKey, "finish.output_key");
        Require(string.IsNullOrEmpty(task.SoundtrackUri) || Uri.TryCreate(task.SoundtrackUri, UriKind.Absolute, out _), "finish.soundtrack_uri", "must be an absolute URI");
        Require(task.Chunks.Count <= 1000, "finish.chunks", "must hold at most 1000 chunks");
        var chunks = new List<FinishChunkWork>(task.Chunks.Count);
        for (var i = 0; i < task.Chunks.Count; i++)
        {
            var chunk = task.Chunks[i];
            Require(Uri.TryCreate(chunk.Uri, UriKind.Absolute, out _), $"finish.chunks[{i}].uri", "must be an absolute URI");
            Require(string.IsNullOrEmpty(chunk.AnchorUri) || Uri.TryCreate(chunk.AnchorUri, UriKind.Absolute, out _), $"finish.chunks[{i}].anchor_uri", "must be an absolute URI");
            Require(double.IsFinite(chunk.MediaSeconds) && chunk.MediaSeconds > 0, $"finish.chunks[{i}].media_seconds", "must be greater than 0");
            Require(i > 0 || !chunk.Continues, $"finish.chunks[{i}].continues", "the first chunk continues nothing");
            Require(chunk.TransitionInSeconds == 0 || (i > 0 && double.IsFinite(chunk.TransitionInSeconds) && chunk.TransitionInSeconds > 0 && chunk.TransitionInSeconds < chunk.MediaSeconds),
                $"finish.chunks[{i}].transition_in_seconds", "must be 0, or on a later chunk greater than 0 and shorter than the chunk");
            Require(chunk.TransitionInSeconds == 0 || Finisher.XfadeTransitions.ContainsKey(chunk.Transition), $"finish.chunks[{i}].transition", $"unknown transition '{Clip(chunk.Transition)}'");
            Require(chunk.Focus is null || (chunk.Focus.X is >= 0 and <= 1 && chunk.Focus.Y is >= 0 and <= 1), $"finish.chunks[{i}].focus", "x and y must be from 0 to 1");
            Require(chunk.OverlapFrames is >= 0 and <= 64 && (chunk.OverlapFrames <= 1 || chunk.Continues), $"finish.chunks[{i}].overlap_frames", "must be 0 to 64, and above 1 only on a chunk that continues");
            chunks.Add(new FinishChunkWork(chunk.Uri, chunk.MediaSeconds, chunk.Continues, string.IsNullOrEmpty(chunk.AnchorUri) ? null : chunk.AnchorUri,
                chunk.TransitionInSeconds, chunk.Transition, chunk.Focus is null ? null : new Focus(chunk.Focus.X, chunk.Focus.Y), Math.Max(1, chunk.OverlapFrames)));
        }

        EndCardWork? endCard = null;
        if (task.EndCard is { } card)
        {
            Require(double.IsFinite(card.Seconds) && card.Seconds >= 0.5 && card.Seconds < task.DurationSeconds, "finish.end_card.seconds", "must be at least 0.5 and shorter than the ad");
            Require(!string.IsNullOrWhiteSpace(card.Text) && card.Text.Length <= 200, "finish.end_card.text", "must hold 1 to 200 characters");
            Require(card.Background.Length == 6 && card.Background.All(Uri.IsHexDigit), "finish.end_card.background", "must be RRGGBB hex");
            endCard = new EndCardWork(card.Seconds, card.Text, card.Background);
        }

        return new FinishWork(
            request.JobId, request.TaskId, attempt, task.VideoUri, task.DurationSeconds,
            task.Cuts.Select(c => new FinishCut(c.AtSeconds, c.Transition, c.Seconds)).ToArray(),
            task.WidthPixels, task.HeightPixels, task.Fps, task.Look is "" ? "none" : task.Look,
            task.Titles.Select(t => (t.Text, t.StartSeconds, t.EndSeconds)).ToArray(),
            task.Deliverables.Select(d => (d.AspectRatio, d.OutputKey)).ToArray(),
            task.OutputKey,
            string.IsNullOrEmpty(task.SoundtrackUri) ? null : task.SoundtrackUri,
            chunks,
            task.ColourMatch,
            endCard);
    }

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static void RequireKey(string key, string field)
    {
        Require(!string.IsNullOrWhiteSpace(key), field, "is required");
        Require(!key.StartsWith('/') && !key.Split('/', '\\').Any(part => part is ".." or "."), field, "must be a relative key without '.' or '..' segments");
    }

    private static void Require(bool condition, string field, string problem)
    {
        if (!condition)
        {
            throw Invalid(field, problem);
        }
    }

    private static RequestValidationException Invalid(string field, string problem) => new(field, problem);
}
