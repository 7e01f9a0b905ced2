using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using VideoGen.Worker.Models.ComfyUi;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Hosting;

/// <summary>
/// Readiness for grpc.health.v1: SERVING while the worker takes tasks; NOT_SERVING while it drains (it finishes what
/// it runs and takes nothing new) or shuts down, so load balancers and Kubernetes readiness move away first; and while
/// the GPU inference server it drives (ComfyUI) does not answer.
/// </summary>
internal sealed class WorkerHealthCheck(WorkerCapacity capacity, IHostApplicationLifetime lifetime, GpuServerState gpuServer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("the worker is shutting down")
            : capacity.Draining ? HealthCheckResult.Unhealthy("the worker is draining")
            : gpuServer.UnhealthyReason is { Length: > 0 } unreachable ? HealthCheckResult.Unhealthy(unreachable)
            : HealthCheckResult.Healthy());
}
