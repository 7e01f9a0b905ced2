using System.Net;
using Microsoft.Extensions.Options;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Webhooks;

/// <summary>
/// Which callback URLs a job may name (an http(s) URL whose host is a name in <see cref="WebhookOptions.AllowedHosts"/> or an
/// IP literal in <see cref="WebhookOptions.AllowedNetworks"/>; nothing when neither is configured) and the signing secret of
/// each tenant. A job is refused at submit, naming <c>job.webhook.url</c>, rather than failing its callbacks later.
/// </summary>
public sealed class WebhookPolicy
{
    public const int MaxUrlLength = 2048;

    private readonly IReadOnlyList<IPNetwork> _networks;
    private readonly IReadOnlyList<string> _hosts;
    private readonly WebhookOptions _options;

    public WebhookPolicy(IOptions<WebhookOptions> options)
    {
        _options = options.Value;
        _networks = _options.AllowedNetworks.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => IPNetwork.Parse(n.Trim())).ToList();
        _hosts = _options.AllowedHosts.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim().ToLowerInvariant()).ToList();
    }

    public WebhookOptions Options => _options;

    /// <summary>The signing key of <paramref name="tenant"/>: its own secret, else the shared one; null when neither is set.</summary>
    public byte[]? KeyFor(string tenant) =>
        WebhookSigner.Key(_options.TenantSecrets.TryGetValue(tenant, out var own) && own.Length > 0 ? own : _options.Secret);

    /// <summary>Adds what is wrong with the request's webhook, if it names one, to <paramref name="violations"/>.</summary>
    public void Validate(JobRequest request, List<FieldViolation> violations)
    {
        var hook = request.Webhook;
        if (hook is null)
        {
            return;
        }

        if (!Enum.IsDefined(hook.Events))
        {
            violations.Add(new("job.webhook.events", $"unknown value {(int)hook.Events}; use WEBHOOK_EVENTS_TERMINAL or WEBHOOK_EVENTS_ALL"));
        }

        if (hook.Url.Length > MaxUrlLength)
        {
            violations.Add(new("job.webhook.url", $"is {hook.Url.Length} characters; the limit is {MaxUrlLength}"));
            return;
        }

        if (!Allows(hook.Url, out var reason))
        {
            violations.Add(new("job.webhook.url", reason));
            return;
        }

        var tenant = string.IsNullOrEmpty(request.Tenant) ? "default" : request.Tenant;
        if (KeyFor(tenant) is null)
        {
            violations.Add(new("job.webhook", $"no signing secret is configured for tenant '{tenant}' (Coordinator:Webhooks:TenantSecrets:{tenant} or Coordinator:Webhooks:Secret, \"whsec_\" + base64 of 24-64 bytes)"));
        }
    }

    /// <summary>Whether the coordinator may call <paramref name="url"/>; <paramref name="reason"/> says why not.</summary>
    public bool Allows(string url, out string reason)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            reason = "must be an absolute http(s) URL without credentials or fragment";
            return false;
        }

        if (_networks.Count == 0 && _hosts.Count == 0)
        {
            reason = "webhooks are off: the coordinator allows no callback hosts (Coordinator:Webhooks:AllowedHosts / AllowedNetworks)";
            return false;
        }

        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
        {
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }

            reason = "names an address outside the allowed callback networks (Coordinator:Webhooks:AllowedNetworks)";
            return _networks.Any(n => n.Contains(ip));
        }

        var host = uri.IdnHost.ToLowerInvariant();
        reason = $"names a host that is not allowed for callbacks (Coordinator:Webhooks:AllowedHosts)";
        return _hosts.Any(h => h.StartsWith('.') ? host.EndsWith(h, StringComparison.Ordinal) : host == h);
    }
}
