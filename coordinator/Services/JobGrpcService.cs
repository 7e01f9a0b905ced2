using Grpc.Core;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Access;
using VideoGen.Coordinator.Events;
using VideoGen.Coordinator.Persistence;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Coordinator.Webhooks;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Services;

/// <summary>
/// The public job API: validate, map, delegate to the planner and the orchestrator. Every call arrives
/// authenticated (<see cref="ApiKeyInterceptor"/>): a client key acts for its own tenant, and another tenant's
/// job answers NOT_FOUND, exactly as an unknown one.
/// </summary>
internal sealed class JobGrpcService(
    Orchestrator orchestrator,
    RuleBasedPlanner rules,
    IJobStore store,
    JobEventHub hub,
    IFarmMetrics metrics,
    IWorkerTransport transport,
    WebhookPolicy webhooks,
    TenantQuotas quotas,
    Microsoft.Extensions.Options.IOptions<SchedulingOptions> scheduling) : JobService.JobServiceBase
{
    private readonly string _storyboardImageModel = scheduling.Value.StoryboardImageModel;

    private const string ImageModel = ModelCatalog.ProceduralImageModel;

    public override async Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        if (request.RequestId.Length > 0)
        {
            // An idempotency key: 1–128 of [A-Za-z0-9._:-] (a UUID fits), checked before it is looked up or quoted.
            InputText.RequireId("request_id", request.RequestId);
        }

        var caller = Caller.Of(context);
        var job = request.Job ?? new JobRequest();
        // The tenant first: the webhook checks in Plan read it (per-tenant secrets).
        job.Tenant = TenantOf(caller, job.Tenant, "job.tenant");
        var plan = Plan(job);
        var cost = ChunkPlanner.Cost(plan);
        if (job.HasMaxCostUsd && Budget.Exceeds(cost, job.MaxCostUsd))
        {
            metrics.BudgetRefused();
            throw new BudgetExceededException(cost, job.MaxCostUsd);
        }

        var (accepted, created) = await quotas.AdmitAsync(job.Tenant, request.RequestId, cost, () => orchestrator.SubmitAsync(request.RequestId, job, plan), context.CancellationToken);
        if (!caller.Sees(accepted.Request.Tenant))
        {
            // The request id is another tenant's: say so without showing that tenant's job.
            throw new AlreadyExistsException("request_id is already used by another tenant's job; use a new request id");
        }

        return new SubmitJobResponse { Job = accepted, Created = created };
    }

    /// <summary>Plans the request; a refusal names every bad field, the planner's and the webhook's together.</summary>
    private Plan Plan(JobRequest job)
    {
        var violations = new List<FieldViolation>();
        webhooks.Validate(job, violations);
        try
        {
            var plan = rules.Plan(job);
            return violations.Count == 0 ? plan : throw new RequestValidationException(violations);
        }
        catch (RequestValidationException ex) when (violations.Count > 0 && ex.Violations != violations)
        {
            throw new RequestValidationException([.. ex.Violations, .. violations]);
        }
    }

    public override async Task<ReviseJobResponse> ReviseJob(ReviseJobRequest request, ServerCallContext context)
    {
        if (request.RequestId.Length > 0)
        {
            InputText.RequireId("request_id", request.RequestId);
        }

        var (original, revision) = Revise(request, context);
        var job = original.Request.Clone();
        job.RevisionOf = original.JobId;
        job.Look = revision.Plan.Finish?.Look ?? job.Look;
        job.ClearMaxCostUsd();
        if (request.HasMaxCostUsd)
        {
            job.MaxCostUsd = request.MaxCostUsd;
            if (Budget.Exceeds(revision.Estimate.CostUsd, request.MaxCostUsd))
            {
                metrics.BudgetRefused();
                throw new BudgetExceededException(revision.Estimate.CostUsd, request.MaxCostUsd);
            }
        }

        var (accepted, created) = await quotas.AdmitAsync(job.Tenant, request.RequestId, revision.Estimate.CostUsd,
            () => orchestrator.SubmitAsync(request.RequestId, job, revision.Plan, revision.Reused), context.CancellationToken);
        if (!Caller.Of(context).Sees(accepted.Request.Tenant))
        {
            throw new AlreadyExistsException("request_id is already used by another tenant's job; use a new request id");
        }

        return new ReviseJobResponse { Job = accepted, Created = created, Estimate = revision.Estimate };
    }

    /// <summary>The job to revise (the caller's, succeeded) and its revision; bad changes are INVALID_ARGUMENT naming the field.</summary>
    private (Job Original, Revision Revision) Revise(ReviseJobRequest request, ServerCallContext context)
    {
        var original = Find(request.JobId, context);
        if (original.State != JobState.Succeeded || original.Plan is null)
        {
            throw new PreconditionFailedException($"job {request.JobId} is {original.State}; only a succeeded job can be revised");
        }

        return (original, Revisions.Build(original, request, rules.Models, _storyboardImageModel));
    }

    public override Task<EstimateJobResponse> EstimateJob(EstimateJobRequest request, ServerCallContext context)
    {
        if (request.Revision is { } asked)
        {
            // What a revision would reuse, run and cost; nothing starts.
            var (_, revision) = Revise(asked, context);
            return Task.FromResult(new EstimateJobResponse
            {
                Plan = revision.Plan,
                CostUsd = revision.Estimate.CostUsd,
                Revision = revision.Estimate,
                FinishSeconds = WallTimeEstimator.FinishSeconds(revision.Plan),
                UpscaleCostUsd = Math.Round(Revisions.PlannedCost(revision.Plan, revision.Estimate.RenderedTaskIds.Where(t => t.StartsWith("upscale-", StringComparison.Ordinal))), 6),
            });
        }

        var job = request.Job ?? new JobRequest();
        var plan = Plan(job);
        var workers = orchestrator.Workers.Where(w => w.WorkerState is WorkerState.Ready or WorkerState.Busy && w.Models.Contains(plan.Model)).ToList();
        var slots = workers.Sum(w => w.Slots);
        var model = rules.Models.Models[plan.Model];
        var storyboard = rules.Models.Models.TryGetValue(ImageModel, out var image) ? image.ExpectedLatencySeconds : 0.5;
        var upscaler = TaskGraph.HasUpscaler(plan) ? rules.Models.Models.GetValueOrDefault(plan.Finish.Upscaler) : null;
        double Wall(Plan p) => WallTimeEstimator.Estimate(p, model, storyboard, slots, rules.Models, upscaler);
        var response = new EstimateJobResponse
        {
            Plan = plan,
            CostUsd = ChunkPlanner.Cost(plan),
            ExpectedWallSeconds = Wall(plan),
            Workers = workers.Count,
            FinishSeconds = WallTimeEstimator.FinishSeconds(plan),
            UpscaleCostUsd = ChunkPlanner.UpscaleCost(plan),
        };

        // Every graph the model allows, planned the same way (the request with that strategy), on the same workers.
        foreach (var strategy in GraphStrategies.Allowed(model, rules.KeyframeImageModel))
        {
            var other = strategy == plan.Strategy ? plan : rules.Plan(job, strategy);
            response.Strategies.Add(new StrategyEstimate
            {
                Strategy = strategy,
                Capability = GraphStrategies.Capability(strategy),
                CostUsd = ChunkPlanner.Cost(other),
                ExpectedWallSeconds = strategy == plan.Strategy ? response.ExpectedWallSeconds : Wall(other),
                Chunks = other.Chunks.Count,
                Keyframes = other.Keyframes,
                Chosen = strategy == plan.Strategy,
            });
        }

        return Task.FromResult(response);
    }

    public override Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context) =>
        Task.FromResult(new GetJobResponse { Job = Find(request.JobId, context) });

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > 100)
        {
            throw new RequestValidationException([new("page_size", "must be between 0 and 100")]);
        }

        if (!Enum.IsDefined(request.State))
        {
            throw new RequestValidationException([new("state", $"unknown job state value {(int)request.State}")]);
        }

        if (request.Tenant.Length > 0 && !PlanningLimits.IsTenantName(request.Tenant))
        {
            throw new RequestValidationException([new("tenant", $"must match [a-z0-9][a-z0-9_-]{{0,{PlanningLimits.MaxTenantLength - 1}}}; got '{InputText.Quote(request.Tenant)}'")]);
        }

        var size = request.PageSize == 0 ? 20 : request.PageSize;
        JobCursor? after = null;
        if (request.PageToken.Length > 512)
        {
            throw new RequestValidationException([new("page_token", $"is {request.PageToken.Length} characters; tokens this server returns are far shorter")]);
        }

        if (!string.IsNullOrEmpty(request.PageToken))
        {
            if (!JobCursor.TryDecode(request.PageToken, out var cursor))
            {
                throw new RequestValidationException([new("page_token", "is not a token this server returned")]);
            }
            after = cursor;
        }

        var caller = Caller.Of(context);
        var tenant = caller.IsAdmin ? request.Tenant : TenantOf(caller, request.Tenant, "tenant");
        var page = store.List(request.State, tenant, after, size);
        var response = new ListJobsResponse { NextPageToken = page.Next?.Encode() ?? "" };
        foreach (var job in page.Jobs)
        {
            var summary = orchestrator.GetJob(job.JobId) ?? job;
            summary = summary.Clone();
            summary.Tasks.Clear();
            response.Jobs.Add(summary);
        }

        return Task.FromResult(response);
    }

    public override async Task<CancelJobResponse> CancelJob(CancelJobRequest request, ServerCallContext context)
    {
        Find(request.JobId, context);
        var job = await orchestrator.CancelAsync(request.JobId) ?? throw new JobNotFoundException(request.JobId);
        return new CancelJobResponse { Job = job };
    }

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobEvent> responseStream, ServerCallContext context)
    {
        if (request.AfterSequence < 0)
        {
            throw new RequestValidationException([new("after_sequence", "must be >= 0")]);
        }

        Find(request.JobId, context);
        var token = context.CancellationToken;
        var last = request.AfterSequence;
        while (true)
        {
            // Subscribe before reading the store: an event committed after the read arrives live,
            // one committed before it comes from the store, and duplicates are skipped by sequence.
            using var subscription = hub.Subscribe(request.JobId);
            foreach (var e in store.Events(request.JobId, last))
            {
                await responseStream.WriteAsync(e, token);
                last = e.Sequence;
                if (IsTerminal(e))
                {
                    return;
                }
            }

            var job = orchestrator.GetJob(request.JobId);
            if (job is not null && Orchestrator.IsTerminal(job.State) && last >= job.LastSequence)
            {
                return;
            }

            try
            {
                await foreach (var e in subscription.Reader.ReadAllAsync(token))
                {
                    if (e.Sequence <= last)
                    {
                        continue;
                    }

                    if (e.Sequence > last + 1)
                    {
                        break; // a gap (we subscribed mid-batch): refill from the store
                    }

                    await responseStream.WriteAsync(e, token);
                    last = e.Sequence;
                    if (IsTerminal(e))
                    {
                        return;
                    }
                }
            }
            catch (WatcherTooSlowException)
            {
                // Fell behind the live feed: continue from the store.
            }
        }
    }

    public override Task<ListWorkersResponse> ListWorkers(ListWorkersRequest request, ServerCallContext context)
    {
        var response = new ListWorkersResponse();
        response.Workers.AddRange(orchestrator.Workers);
        return Task.FromResult(response);
    }

    public override Task<ListTemplatesResponse> ListTemplates(ListTemplatesRequest request, ServerCallContext context)
    {
        var response = new ListTemplatesResponse();
        foreach (var t in rules.Templates.Templates.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var info = new TemplateInfo { Name = t.Name, Description = t.Description, DefaultDurationSeconds = t.DefaultDurationSeconds };
            info.Beats.AddRange(t.Beats.Select(b => b.Name));
            response.Templates.Add(info);
        }

        return Task.FromResult(response);
    }

    public override async Task<DrainWorkerResponse> DrainWorker(DrainWorkerRequest request, ServerCallContext context)
    {
        InputText.RequireId("worker_id", request.WorkerId);
        var address = await orchestrator.DrainAsync(request.WorkerId)
            ?? throw new NotFoundException($"worker '{InputText.Quote(request.WorkerId)}' not found");

        // The coordinator already gives it nothing new; telling the worker makes it refuse direct
        // work too and lets its membership leave once idle. A worker that cannot be reached is still drained here.
        await transport.DrainAsync(address, context.CancellationToken);

        return new DrainWorkerResponse { Worker = orchestrator.Workers.FirstOrDefault(w => w.WorkerId == request.WorkerId) };
    }

    /// <summary>The job, when the caller may see it; NOT_FOUND for an unknown job and for another tenant's alike.</summary>
    private Job Find(string jobId, ServerCallContext context)
    {
        InputText.RequireId("job_id", jobId);
        var job = orchestrator.GetJob(jobId);
        return job is not null && Caller.Of(context).Sees(job.Request?.Tenant ?? "") ? job : throw new JobNotFoundException(jobId);
    }

    /// <summary>
    /// The tenant a call acts for: a client key's own (a request naming another is refused); for an admin, the
    /// requested one or else the key's own. The request's value is validated first (INVALID_ARGUMENT names <paramref name="field"/>).
    /// </summary>
    private static string TenantOf(Caller caller, string requested, string field)
    {
        if (requested.Length > 0 && !PlanningLimits.IsTenantName(requested))
        {
            throw new RequestValidationException([new(field, $"must match [a-z0-9][a-z0-9_-]{{0,{PlanningLimits.MaxTenantLength - 1}}}; got '{InputText.Quote(requested)}'")]);
        }

        if (requested.Length == 0)
        {
            return caller.Tenant;
        }

        if (!caller.Sees(requested))
        {
            throw new AccessDeniedException($"{field} '{requested}' is not this API key's tenant ('{caller.Tenant}')");
        }

        return requested;
    }

    private static bool IsTerminal(JobEvent e) =>
        e.EventCase == JobEvent.EventOneofCase.StateChanged && Orchestrator.IsTerminal(e.StateChanged.State);
}
