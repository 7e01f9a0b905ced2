namespace VideoGen.Errors;

/// <summary>One offending field of a request, named as in the proto (e.g. "job.duration_seconds").</summary>
public sealed record FieldViolation(string Field, string Description);

/// <summary>
/// An error the farm's core reports in its own terms. Each kind has one gRPC status, chosen in one place
/// (<see cref="ErrorMapping"/>); the core never builds a status itself.
/// </summary>
public abstract class DomainException(string message) : Exception(message);

/// <summary>A request the farm refuses, naming each offending field; INVALID_ARGUMENT with google.rpc.BadRequest.</summary>
public sealed class RequestValidationException(IReadOnlyList<FieldViolation> violations)
    : DomainException(string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")))
{
    public RequestValidationException(string field, string description)
        : this([new FieldViolation(field, description)])
    {
    }

    public IReadOnlyList<FieldViolation> Violations { get; } = violations;
}

/// <summary>Something the caller named does not exist (or is not theirs to see); NOT_FOUND.</summary>
public class NotFoundException(string message) : DomainException(message);

/// <summary>What the caller asked to create exists already; ALREADY_EXISTS.</summary>
public sealed class AlreadyExistsException(string message) : DomainException(message);

/// <summary>The request is valid but the system is not in a state to do it (a draining worker); FAILED_PRECONDITION.</summary>
public sealed class PreconditionFailedException(string message) : DomainException(message);

/// <summary>
/// A limit is reached (busy slots, a budget, a quota); RESOURCE_EXHAUSTED, with google.rpc.RetryInfo when
/// <see cref="RetryAfter"/> is known and google.rpc.QuotaFailure when <see cref="QuotaSubject"/> is set.
/// </summary>
public class ResourceExhaustedException(string message, TimeSpan? retryAfter = null, string? quotaSubject = null, string? quotaDescription = null)
    : DomainException(message)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
    public string? QuotaSubject { get; } = quotaSubject;
    public string? QuotaDescription { get; } = quotaDescription;
}

/// <summary>The caller is known but may not do this; PERMISSION_DENIED.</summary>
public sealed class AccessDeniedException(string message) : DomainException(message);

/// <summary>The service cannot take the call now (shutting down, not the leader); UNAVAILABLE, worth retrying elsewhere or later.</summary>
public sealed class ServiceUnavailableException(string message) : DomainException(message);

/// <summary>
/// A request from a coordinator that is no longer the leader (its leadership epoch is older than one already seen): it
/// must not act. ABORTED.
/// </summary>
public sealed class StaleEpochException(string message) : DomainException(message);
