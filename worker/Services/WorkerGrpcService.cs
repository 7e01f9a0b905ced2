using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Errors;
using VideoGen.Worker.Hosting;
using VideoGen.Worker.Membership;
using VideoGen.Worker.Models;
using VideoGen.Worker.Observability;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Services;

/// <summary>The worker API (worker.proto): validates, maps, and delegates to <see cref="TaskExecutions"/> and <see cref="WorkerCapacity"/>.</summary>
public sealed class WorkerGrpcService : WorkerService.WorkerServiceBase
{
    private readonly TaskExecutions _executions;
    private readonly WorkerCapacity _capacity;
    private readonly ModelRegistry _models;
    private readonly GpuInventory _gpus;
    private readonly CoordinatorEpochs _epochs;
    private readonly WorkerOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<WorkerGrpcService> _logger;

    public WorkerGrpcService(
        TaskExecutions executions,
        WorkerCapacity capacity,
        ModelRegistry models,
        GpuInventory gpus,
        CoordinatorEpochs epochs,
        IOptions<WorkerOptions> options,
        IHostApplicationLifetime lifetime,
        ILogger<WorkerGrpcService> logger)
    {
        _lifetime = lifetime;
        _executions = executions;
        _capacity = capacity;
        _models = models;
        _gpus = gpus;
        _epochs = epochs;
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Starts the task's execution in a new slot, or attaches to the execution the task already has (running, or
    /// finished and kept) — then streams its events. When the call ends first (the coordinator restarted, the
    /// connection dropped, the call was cancelled) the stream detaches and the execution goes on; CancelTask stops it.
    /// </remarks>
    public override async Task RunTask(RunTaskRequest request, IServerStreamWriter<TaskEvent> responseStream, ServerCallContext context)
    {
        var (work, subscription) = Start(request);
        await StreamAsync(work, subscription, responseStream, context.CancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Many attempts on one stream: each request starts or attaches its attempts as <see cref="RunTask"/> does; one
    /// that RunTask would refuse gets a <c>refused</c> event with that status and the stream goes on. When the stream ends
    /// or breaks, every attempt still on it detaches and goes on.
    /// </remarks>
    public override async Task Work(IAsyncStreamReader<WorkRequest> requestStream, IServerStreamWriter<WorkResponse> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        // A stopping worker reads no more attempts (it is draining: its running ones finish and report), and ends the
        // stream once they have, so the server's shutdown does not wait on a stream that would never end.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.ApplicationStopping);
        await using var stream = new WorkStream(responseStream, cancellationToken);
        WorkerMetrics.WorkStreams.Inc();
        try
        {
            while (await ReadAsync(requestStream, reading.Token, cancellationToken))
            {
                foreach (var request in requestStream.Current.Tasks)
                {
                    try
                    {
                        var (work, subscription) = Start(request);
                        stream.Track(StreamAsync(work, subscription, stream.For(request), cancellationToken));
                    }
                    catch (Exception ex) when (ErrorMapping.ToRpcException(ex, callCancelled: false, "worker") is { } status)
                    {
                        if (ErrorMapping.IsUnexpected(ex, callCancelled: false))
                        {
                            ServiceLog.StartFailed(_logger, request.JobId, request.TaskId, request.Attempt, ex);
                        }

                        stream.Refuse(request, status.StatusCode, status.Status.Detail);
                    }
                }
            }

            // The coordinator closed its side, or the worker is stopping: the attempts on the stream report to their end first.
            await stream.AttemptsEndedAsync();
        }
        finally
        {
            WorkerMetrics.WorkStreams.Dec();
        }
    }

    /// <summary>The next batch of attempts; false at the stream's end or once the worker is stopping.</summary>
    private static async Task<bool> ReadAsync(IAsyncStreamReader<WorkRequest> requests, CancellationToken reading, CancellationToken call)
    {
        try
        {
            return await requests.MoveNext(reading);
        }
        catch (OperationCanceledException) when (!call.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts <paramref name="request"/>'s execution in a new slot, or attaches to the one the task already has;
    /// throws the domain error RunTask answers with (older epoch, malformed, draining, all slots busy).
    /// </summary>
    private (TaskWork Work, TaskSubscription Subscription) Start(RunTaskRequest request)
    {
        _epochs.Admit(request.CoordinatorEpoch, $"task {request.JobId}/{request.TaskId}");
        var work = TaskRequestMapper.ToWork(request, _models);
        switch (_executions.StartOrAttach(work, out var subscription))
        {
            case ExecutionStart.Draining:
                ServiceLog.Refused(_logger, work.RunningId, "draining");
                throw new PreconditionFailedException($"worker {_options.Id} is draining and accepts no new tasks");
            case ExecutionStart.Full:
                ServiceLog.Refused(_logger, work.RunningId, "all slots busy");
                throw new ResourceExhaustedException($"worker {_options.Id}: all {_capacity.Slots} slots are busy");
        }

        return (work, subscription!);
    }

    /// <summary>Writes one attempt's events to its stream; a stream that leaves first detaches (the execution goes on).</summary>
    private async Task StreamAsync(TaskWork work, TaskSubscription subscription, IAsyncStreamWriter<TaskEvent> events, CancellationToken cancellationToken)
    {
        // A message-template scope: text logs print "worker=.. job=.. task=.. attempt=.." on every line of
        // the task, structured (JSON) logs get WorkerId, JobId, TaskId and Attempt as properties.
        using var scope = _logger.BeginScope("worker={WorkerId} job={JobId} task={TaskId} attempt={Attempt}", _options.Id, work.JobId, work.TaskId, work.Attempt);
        var execution = subscription.Execution;
        if (!await TaskEventStream.WriteAsync(subscription, events, _executions, cancellationToken))
        {
            WorkerMetrics.TaskDetaches.Inc();
            ServiceLog.Detached(_logger, _options.Id, work.JobId, work.TaskId, work.Attempt, execution.StartedByAttempt, execution.IsRunning);
        }
    }

    /// <inheritdoc />
    public override async Task<CancelTaskResponse> CancelTask(CancelTaskRequest request, ServerCallContext context)
    {
        _epochs.Admit(request.CoordinatorEpoch, $"cancel of {request.JobId}/{request.TaskId}");
        var (found, usage) = await _executions.CancelAsync(request.JobId, request.TaskId, request.Reason, context.CancellationToken, request.KeepProviderRequest);
        return new CancelTaskResponse { Found = found, Usage = TaskEventMapper.ToUsage(usage) };
    }

    /// <inheritdoc />
    public override async Task<GetWorkerStatusResponse> GetWorkerStatus(GetWorkerStatusRequest request, ServerCallContext context) => new()
    {
        WorkerId = _options.Id,
        Models = { _models.Served },
        Slots = _capacity.Slots,
        RunningTasks = { _capacity.RunningTasks },
        Draining = _capacity.Draining,
        Gpus = { await _gpus.GetAsync(context.CancellationToken) },
    };

    /// <inheritdoc />
    public override Task<DrainResponse> Drain(DrainRequest request, ServerCallContext context)
    {
        var running = _capacity.BeginDrain();
        ServiceLog.Draining(_logger, _options.Id, running);
        return Task.FromResult(new DrainResponse { RunningTasks = running });
    }
}

internal static partial class ServiceLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "task {RunningId} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string runningId, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "worker {WorkerId} draining with {Running} tasks running")]
    public static partial void Draining(ILogger logger, string workerId, int running);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "worker {WorkerId}: stream of attempt {Attempt} of {JobId}/{TaskId} detached (execution started by attempt {StartedByAttempt}, running={Running}); the task goes on")]
    public static partial void Detached(ILogger logger, string workerId, string jobId, string taskId, int attempt, int startedByAttempt, bool running);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "attempt {Attempt} of {JobId}/{TaskId} on a work stream could not start")]
    public static partial void StartFailed(ILogger logger, string jobId, string taskId, int attempt, Exception error);
}
