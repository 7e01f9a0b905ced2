using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Grpc.Core;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Scheduling;

/// <summary>A worker transport the test drives: every attempt shows up on <see cref="Started"/> and ends when the test says.</summary>
internal sealed class FakeWorkerTransport : IWorkerTransport
{
    public Channel<FakeAttempt> Started { get; } = Channel.CreateUnbounded<FakeAttempt>();

    /// <summary>CancelTask calls: (worker address, job id, task id).</summary>
    public Channel<(string Address, string JobId, string TaskId)> Cancelled { get; } = Channel.CreateUnbounded<(string, string, string)>();

    /// <summary>Whether each CancelTask asked to keep the task's provider request (in call order).</summary>
    public Channel<bool> CancelKeeps { get; } = Channel.CreateUnbounded<bool>();

    /// <summary>What a CancelTask answers: the provider request it ended (null: none).</summary>
    public ProviderUsage? CancelUsage { get; set; }

    public Task<ProviderUsage?> CancelTaskAsync(string address, string jobId, string taskId, string reason, bool keepProviderRequest, CancellationToken cancellationToken)
    {
        Cancelled.Writer.TryWrite((address, jobId, taskId));
        CancelKeeps.Writer.TryWrite(keepProviderRequest);
        return Task.FromResult(keepProviderRequest ? null : CancelUsage);
    }

    public async IAsyncEnumerable<TaskEvent> RunTaskAsync(string address, RunTaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var attempt = new FakeAttempt(address, request, cancellationToken);
        Started.Writer.TryWrite(attempt);
        yield return new TaskEvent { Accepted = new TaskAccepted { WorkerId = address } };
        await foreach (var e in attempt.Events.Reader.ReadAllAsync(cancellationToken))
        {
            yield return e;
        }
    }

    public async Task<FakeAttempt> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await Started.Reader.ReadAsync(cts.Token);
    }
}

internal sealed class FakeAttempt(string address, RunTaskRequest request, CancellationToken token)
{
    public string Address { get; } = address;
    public RunTaskRequest Request { get; } = request;
    public CancellationToken Token { get; } = token;
    public Channel<TaskEvent> Events { get; } = Channel.CreateUnbounded<TaskEvent>();
    public string TaskId => Request.TaskId;

    public static TaskCompleted CompletedFor(RunTaskRequest request, string tag = "") => new()
    {
        OutputUri = $"file:///fake/{request.JobId}/{request.TaskId}{tag}",
        LastFrameUri = request.TaskCase == RunTaskRequest.TaskOneofCase.Chunk ? $"file:///fake/{request.JobId}/{request.TaskId}{tag}.last.png" : "",
        MediaSeconds = request.TaskCase switch
        {
            RunTaskRequest.TaskOneofCase.Chunk => request.Chunk.ClipSeconds,
            RunTaskRequest.TaskOneofCase.Stitch => request.Stitch.DurationSeconds,
            RunTaskRequest.TaskOneofCase.Finish => request.Finish.DurationSeconds,
            RunTaskRequest.TaskOneofCase.Upscale => UpscaledSeconds,
            _ => 0,
        },
        // What a worker reports: a chunk's seconds, an upscale's seconds, a voiceover's characters, a music bed's seconds at the model's price.
        CostUsd = request.TaskCase switch
        {
            RunTaskRequest.TaskOneofCase.Chunk => request.Chunk.ClipSeconds * request.Chunk.PricePerSecondUsd,
            RunTaskRequest.TaskOneofCase.Upscale => UpscaledSeconds * request.Upscale.PricePerSecondUsd,
            RunTaskRequest.TaskOneofCase.Voiceover => request.Voiceover.Beats.Sum(b => b.VoiceoverLine.Length) * request.Voiceover.PricePerCharacterUsd,
            RunTaskRequest.TaskOneofCase.Music => request.Music.DurationSeconds * request.Music.PricePerSecondUsd,
            _ => 0,
        },
        ElapsedSeconds = 0.01,
    };

    /// <summary>Seconds a fake upscale reports (the procedural model's clip length).</summary>
    public const double UpscaledSeconds = 5;

    public void Complete(string tag = "")
    {
        Events.Writer.TryWrite(new TaskEvent { Completed = CompletedFor(Request, tag) });
        Events.Writer.TryComplete();
    }

    public void Fail(bool retryable, string reason = "model error")
    {
        Events.Writer.TryWrite(new TaskEvent { Failed = new TaskFailed { Retryable = retryable, Reason = reason } });
        Events.Writer.TryComplete();
    }

    public void Progress(double fraction) => Events.Writer.TryWrite(new TaskEvent { Progress = new TaskProgress { Fraction = fraction, Step = "model" } });

    /// <summary>The stream breaks as when the worker process dies (read as the gRPC transport reads it).</summary>
    public void Break() => Events.Writer.TryComplete(GrpcWorkerTransport.Broken(new RpcException(new Status(StatusCode.Unavailable, "connection reset"))));

    /// <summary>The worker answers the call with <paramref name="code"/> (busy, draining, a malformed request…).</summary>
    public void Refuse(StatusCode code, string detail) => Events.Writer.TryComplete(GrpcWorkerTransport.Broken(new RpcException(new Status(code, detail))));
}
