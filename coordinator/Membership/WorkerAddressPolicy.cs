using System.Net;
using Microsoft.Extensions.Options;
using VideoGen.Coordinator.Hosting;

namespace VideoGen.Coordinator.Membership;

/// <summary>
/// Which worker addresses the coordinator will dial: an advertised address is an http(s) URL whose host is an IP literal in
/// one of <see cref="CoordinatorOptions.AllowedWorkerNetworks"/> (CIDR; default loopback and the private ranges) or a name in
/// <see cref="CoordinatorOptions.AllowedWorkerHosts"/> (exact, or a suffix starting with a dot; default <c>localhost</c>).
/// Anything else is refused before the worker is admitted, so a process that reaches the membership API cannot make the
/// coordinator call arbitrary hosts.
/// </summary>
public sealed class WorkerAddressPolicy
{
    /// <summary>Loopback and the private ranges (RFC 1918, RFC 4193).</summary>
    public static readonly IReadOnlyList<string> DefaultNetworks =
        ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _refused = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<IPNetwork> _networks;
    private readonly IReadOnlyList<string> _hosts;

    public WorkerAddressPolicy(IOptions<CoordinatorOptions> options)
        : this(options.Value.AllowedWorkerNetworks, options.Value.AllowedWorkerHosts)
    {
    }

    public WorkerAddressPolicy(IEnumerable<string>? networks, IEnumerable<string>? hosts)
    {
        var configured = networks?.Where(n => !string.IsNullOrWhiteSpace(n)).ToList() ?? [];
        _networks = (configured.Count > 0 ? configured : DefaultNetworks).Select(n => IPNetwork.Parse(n.Trim())).ToList();
        var names = hosts?.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim().ToLowerInvariant()).ToList() ?? [];
        _hosts = names.Count > 0 ? names : ["localhost"];
    }

    /// <summary>Whether the coordinator may dial <paramref name="address"/>; <paramref name="reason"/> says why not.</summary>
    public bool Allows(string address, out string reason)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0)
        {
            reason = "must be an http(s) URL without credentials";
            return false;
        }

        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
        {
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }

            reason = $"is not in an allowed worker network ({string.Join(", ", _networks)}; Coordinator:AllowedWorkerNetworks)";
            return _networks.Any(n => n.Contains(ip));
        }

        var host = uri.Host.ToLowerInvariant();
        reason = $"names a host that is not allowed ({string.Join(", ", _hosts)}; Coordinator:AllowedWorkerHosts)";
        return _hosts.Any(h => h.StartsWith('.') ? host.EndsWith(h, StringComparison.Ordinal) : host == h);
    }

    /// <summary>True the first time <paramref name="key"/> (worker and address) is refused: refusals are logged once each.</summary>
    public bool FirstRefusal(string key) => _refused.Count < 10_000 && _refused.TryAdd(key, true);
}
