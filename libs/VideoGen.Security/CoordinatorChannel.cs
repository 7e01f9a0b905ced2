using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace VideoGen.Security;

/// <summary>
/// A channel to the farm's coordinator, or to the leader among several: an address list (<c>ADDRESS,ADDRESS…</c>, all
/// http:// or all https://) becomes gRPC round-robin balancing over a static resolver, with a retry policy on
/// UNAVAILABLE. A coordinator that is down is passed over (only connected ones are picked), and a standby, which answers
/// every call UNAVAILABLE naming the leader, sends the call's retry to the next coordinator: whichever address leads,
/// calls reach it. Used by the CLI and by workers (<c>Worker:Coordinator</c>).
/// </summary>
public static class CoordinatorChannel
{
    /// <summary>"127.0.0.1:7070" becomes "http://127.0.0.1:7070"; an address with a scheme is kept; a list keeps its order.</summary>
    public static string Normalize(string address) =>
        string.Join(',', address.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(a => a.Contains("://", StringComparison.Ordinal) ? a : "http://" + a));

    /// <summary>The coordinators of an address list, in order; all must share one scheme.</summary>
    public static IReadOnlyList<Uri> Addresses(string addresses)
    {
        var list = Normalize(addresses).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(a => new Uri(a)).ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("no coordinator address", nameof(addresses));
        }

        if (list.Select(u => u.Scheme).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            throw new ArgumentException($"the coordinators '{addresses}' mix http:// and https://; use one scheme", nameof(addresses));
        }

        return list;
    }

    /// <summary>Attempts of one call over a list (each retry goes to the next coordinator): enough to pass over standbys.</summary>
    public const int MaxAttempts = 5;

    /// <summary>The channel: a plain one for one address, round-robin with retries over the list for several. <paramref name="options"/> gets the list's handler and, for a list, its balancing settings.</summary>
    public static GrpcChannel Create(string addresses, GrpcChannelOptions options)
    {
        var list = Addresses(addresses);
        if (list.Count == 1)
        {
            return GrpcChannel.ForAddress(list[0], options);
        }

        options.Credentials = list[0].Scheme == Uri.UriSchemeHttps ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        options.ServiceConfig = new ServiceConfig
        {
            LoadBalancingConfigs = { new RoundRobinConfig() },
            MethodConfigs =
            {
                new MethodConfig
                {
                    Names = { MethodName.Default },
                    RetryPolicy = new RetryPolicy
                    {
                        MaxAttempts = MaxAttempts,
                        InitialBackoff = TimeSpan.FromMilliseconds(100),
                        MaxBackoff = TimeSpan.FromSeconds(1),
                        BackoffMultiplier = 2,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },
        };
        options.MaxRetryAttempts = MaxAttempts;
        options.ServiceProvider = new ResolverServices(new StaticResolverFactory(_ => list.Select(a => new BalancerAddress(a.Host, a.Port))));
        return GrpcChannel.ForAddress("static:///coordinators", options);
    }

    /// <summary>The one service a load-balanced channel asks for here: the static resolver.</summary>
    private sealed class ResolverServices(ResolverFactory resolver) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(ResolverFactory) ? resolver
            : serviceType == typeof(IEnumerable<ResolverFactory>) ? new[] { resolver }
            : null;
    }
}
