using VideoGen.Errors;

namespace VideoGen.Coordinator.Services;

/// <summary>A job id the coordinator does not know (or another tenant's job, worded the same); NOT_FOUND.</summary>
public sealed class JobNotFoundException(string jobId) : NotFoundException($"job '{InputText.Quote(jobId)}' not found")
{
    public string JobId { get; } = jobId;
}
