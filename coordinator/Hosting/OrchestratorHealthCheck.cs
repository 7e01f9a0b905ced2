using Microsoft.Extensions.Diagnostics.HealthChecks;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Hosting;

/// <summary>
/// Readiness for grpc.health.v1: healthy while the orchestrator's loop runs and the host is not
/// shutting down (a stopping coordinator reports NOT_SERVING so load balancers move away first).
/// </summary>
internal sealed class OrchestratorHealthCheck(Orchestrator orchestrator, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the coordinator is shutting down"));
        }

        return Task.FromResult(orchestrator.IsRunning
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("the orchestrator loop is not running"));
    }
}
