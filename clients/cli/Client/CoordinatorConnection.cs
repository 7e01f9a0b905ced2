using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Client;

/// <summary>The channel to the coordinator and the JobService and KeyService clients over it, sending the API key on every call.</summary>
public sealed class CoordinatorConnection : IDisposable
{
    public const string DefaultAddress = "http://127.0.0.1:7070";
    public const string AddressVariable = "VIDEOGEN_COORDINATOR";

    /// <summary>A PEM file of the certificate authority an https:// coordinator's certificate must chain to (else the system's roots).</summary>
    public const string CaFileVariable = "VIDEOGEN_CA_FILE";

    private readonly GrpcChannel _channel;

    /// <summary>
    /// A connection to one coordinator, or to the first reachable of several (<c>ADDRESS,ADDRESS…</c>, all http:// or all
    /// https://): gRPC's pick-first balancing over a static list, so a coordinator that is down, or goes down, is passed
    /// over for the next; a watch that breaks resumes from its last event on whichever answers (<see cref="JobWatcher"/>).
    /// </summary>
    public CoordinatorConnection(string address, string? apiKey = null)
    {
        Address = Normalize(address);
        var tls = new VideoGen.Security.TlsSettings { CaFile = Environment.GetEnvironmentVariable(CaFileVariable) ?? "" };
        _channel = VideoGen.Security.CoordinatorChannel.Create(Address, new GrpcChannelOptions { HttpHandler = tls.ConfigureClient(new SocketsHttpHandler()) });
        var invoker = apiKey is null
            ? _channel.CreateCallInvoker()
            : _channel.Intercept(metadata =>
            {
                metadata.Add("authorization", "Bearer " + apiKey);
                return metadata;
            });
        Jobs = new JobService.JobServiceClient(invoker);
        Keys = new KeyService.KeyServiceClient(invoker);
    }

    public string Address { get; }

    public JobService.JobServiceClient Jobs { get; }

    public KeyService.KeyServiceClient Keys { get; }

    /// <summary>--coordinator wins, then $VIDEOGEN_COORDINATOR, then http://127.0.0.1:7070.</summary>
    public static string ResolveAddress(string? option, string? environment) =>
        !string.IsNullOrWhiteSpace(option) ? option
        : !string.IsNullOrWhiteSpace(environment) ? environment
        : DefaultAddress;

    /// <summary>"127.0.0.1:7070" becomes "http://127.0.0.1:7070"; an address with a scheme is kept; a list keeps its order.</summary>
    public static string Normalize(string address) => VideoGen.Security.CoordinatorChannel.Normalize(address);

    /// <summary>The coordinators of an address list, in order; all must share one scheme.</summary>
    public static IReadOnlyList<Uri> Addresses(string addresses) => VideoGen.Security.CoordinatorChannel.Addresses(addresses);

    public void Dispose() => _channel.Dispose();
}

/// <summary>Retries a call while the coordinator is unavailable (it may still be starting).</summary>
public static class UnavailableRetry
{
    /// <summary>
    /// Calls <paramref name="call"/> until it does not fail with UNAVAILABLE, with exponential
    /// backoff (0.25 s doubling to 4 s) for up to <paramref name="budget"/>; calls
    /// <paramref name="onFirstWait"/> once, before the first wait. Only safe for idempotent calls.
    /// </summary>
    public static async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> call,
        TimeSpan budget,
        Action onFirstWait,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(250);
        var waited = false;
        while (true)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable
                                          && time.GetElapsedTime(started) + delay < budget)
            {
                if (!waited)
                {
                    waited = true;
                    onFirstWait();
                }
            }
            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(4).Ticks));
        }
    }
}
