using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Observability;

namespace VideoGen.Worker.Tasks;

/// <summary>
/// Runs one task attempt with its executor in a scratch folder of its own, and records the outcome
/// (metrics, logs). Exceptions flow to the caller unchanged: <see cref="PermanentTaskException"/> means do not
/// retry, <see cref="OperationCanceledException"/> means the caller cancelled, anything else is retryable.
/// </summary>
public sealed class TaskRunner
{
    private readonly StoryboardExecutor _storyboards;
    private readonly ChunkExecutor _chunks;
    private readonly StitchExecutor _stitches;
    private readonly FinishExecutor _finishes;
    private readonly SoundtrackExecutor _soundtracks;
    private readonly VoiceoverExecutor _voiceovers;
    private readonly MusicExecutor _music;
    private readonly UpscaleExecutor _upscales;
    private readonly KeyframeExecutor _keyframes;
    private readonly string _workRoot;
    private readonly ILogger<TaskRunner> _logger;

    public TaskRunner(
        StoryboardExecutor storyboards,
        ChunkExecutor chunks,
        StitchExecutor stitches,
        FinishExecutor finishes,
        SoundtrackExecutor soundtracks,
        VoiceoverExecutor voiceovers,
        MusicExecutor music,
        UpscaleExecutor upscales,
        KeyframeExecutor keyframes,
        IOptions<WorkerOptions> options,
        ILogger<TaskRunner> logger)
    {
        _keyframes = keyframes;
        _storyboards = storyboards;
        _chunks = chunks;
        _stitches = stitches;
        _finishes = finishes;
        _soundtracks = soundtracks;
        _voiceovers = voiceovers;
        _music = music;
        _upscales = upscales;
        _workRoot = options.Value.WorkDirectory;
        _logger = logger;
    }

    /// <summary>Runs <paramref name="work"/>; progress and artifacts go to <paramref name="reporter"/>.</summary>
    public async Task<TaskResult> RunAsync(TaskWork work, ITaskReporter reporter, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var directory = Path.Combine(_workRoot, SafeName(work.JobId), $"{SafeName(work.TaskId)}-{work.Attempt}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(directory);
        var outcome = "failed_retryable";
        TaskLog.Started(_logger, work.Kind, work.Attempt);
        try
        {
            var result = work switch
            {
                StoryboardWork storyboard => await _storyboards.RunAsync(storyboard, directory, reporter, cancellationToken),
                ChunkWork chunk => await _chunks.RunAsync(chunk, directory, reporter, cancellationToken),
                StitchWork stitch => await _stitches.RunAsync(stitch, directory, reporter, cancellationToken),
                FinishWork finish => await _finishes.RunAsync(finish, directory, reporter, cancellationToken),
                SoundtrackWork soundtrack => await _soundtracks.RunAsync(soundtrack, directory, reporter, cancellationToken),
                VoiceoverWork voiceover => await _voiceovers.RunAsync(voiceover, directory, reporter, cancellationToken),
                MusicWork music => await _music.RunAsync(music, directory, reporter, cancellationToken),
                UpscaleWork upscale => await _upscales.RunAsync(upscale, directory, reporter, cancellationToken),
                KeyframeWork keyframe => await _keyframes.RunAsync(keyframe, directory, reporter, cancellationToken),
                _ => throw new PermanentTaskException($"Unknown task kind {work.GetType().Name}."),
            };
            outcome = "succeeded";
            TaskLog.Succeeded(_logger, work.Kind, stopwatch.Elapsed.TotalSeconds, result.OutputUri);
            return result with { ElapsedSeconds = stopwatch.Elapsed.TotalSeconds };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            TaskLog.Cancelled(_logger, work.Kind, stopwatch.Elapsed.TotalSeconds);
            throw;
        }
        catch (PermanentTaskException ex)
        {
            outcome = "failed_permanent";
            TaskLog.FailedPermanently(_logger, work.Kind, ex.Message);
            throw;
        }
        catch (Exception ex)
        {
            TaskLog.Failed(_logger, ex, work.Kind);
            throw;
        }
        finally
        {
            WorkerMetrics.Tasks.WithLabels(work.Kind, outcome).Inc();
            WorkerMetrics.TaskDuration.WithLabels(work.Kind).Observe(stopwatch.Elapsed.TotalSeconds);
            TryDelete(directory);
        }
    }

    private void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TaskLog.CleanupFailed(_logger, ex, directory);
        }
    }

    private static string SafeName(string value)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var chars = value.Select(c => invalid.Contains(c) || c == '.' ? '_' : c).ToArray();
        return chars.Length == 0 ? "_" : new string(chars);
    }
}
