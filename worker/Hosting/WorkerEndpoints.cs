using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace VideoGen.Worker.Hosting;

/// <summary>
/// The worker's two Kestrel endpoints (gRPC over HTTP/2, and HTTP/1.1 for metrics and health)
/// and, once the server has started, the addresses they really bound (port 0 becomes a free port).
/// </summary>
public sealed class WorkerEndpoints
{
    private readonly IServer _server;
    private readonly WorkerOptions _options;
    private readonly KestrelListenPlan _plan;

    public WorkerEndpoints(IServer server, IOptions<WorkerOptions> options, KestrelListenPlan plan)
    {
        _server = server;
        _options = options.Value;
        _plan = plan;
    }

    /// <summary>The bound gRPC address, e.g. <c>http://127.0.0.1:41234</c>. Valid after the server started.</summary>
    public string GrpcAddress => Bound(_plan.Grpc);

    /// <summary>The bound HTTP/1.1 address serving <c>/metrics</c> and <c>/healthz</c>.</summary>
    public string HttpAddress => Bound(_plan.Http);

    /// <summary>The address the coordinator calls: <c>Worker:AdvertiseAddress</c> or the bound gRPC address.</summary>
    public string AdvertisedAddress =>
        string.IsNullOrWhiteSpace(_options.AdvertiseAddress) ? AdvertisableGrpcAddress() : _options.AdvertiseAddress!;

    private string AdvertisableGrpcAddress()
    {
        var uri = new Uri(GrpcAddress);
        // A wildcard bind cannot be called back; the host name is the best guess without configuration.
        return uri.Host is "0.0.0.0" or "[::]" or "::" ? $"{uri.Scheme}://{Dns.GetHostName()}:{uri.Port}" : GrpcAddress;
    }

    private string Bound(ListenOptions? listen)
    {
        var addresses = _server.Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("The server exposes no addresses.");
        if (listen?.IPEndPoint is not { } endPoint || endPoint.Port == 0)
        {
            throw new InvalidOperationException("The worker's endpoints are not bound yet (the server has not started).");
        }

        // Kestrel publishes every bound endpoint in IServerAddressesFeature; pick the one of this listener by its port.
        var suffix = ":" + endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var match = addresses.FirstOrDefault(a => a.EndsWith(suffix, StringComparison.Ordinal));
        return match ?? $"http://{FormatHost(endPoint.Address)}{suffix}";
    }

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}

/// <summary>The Kestrel listeners created from <c>Worker:GrpcUrl</c> and <c>Worker:HttpUrl</c>.</summary>
public sealed class KestrelListenPlan
{
    internal ListenOptions? Grpc { get; set; }

    internal ListenOptions? Http { get; set; }

    /// <summary>Parses <c>http://host:port</c> (host may be an IP, <c>localhost</c>, <c>*</c> or <c>+</c>) into an endpoint.</summary>
    public static IPEndPoint ParseListenUrl(string url, string key, bool secure = false)
    {
        var normalized = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        var scheme = secure ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Scheme != scheme)
        {
            throw new InvalidOperationException($"{key} must be a {scheme}:// URL with a host and port ({(secure ? "Worker:Tls:CertificateFile is set" : "TLS is not configured")}), got '{url}'.");
        }

        var address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) => ip,
            _ => throw new InvalidOperationException($"{key} must name an IP address, localhost or *, got '{uri.Host}'."),
        };
        return new IPEndPoint(address, uri.Port);
    }
}
