using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace VideoGen.Security;

/// <summary>
/// TLS of one process, from PEM files (configuration sections <c>Coordinator:Tls</c>, <c>Worker:Tls</c>):
/// <list type="bullet">
/// <item><see cref="CertificateFile"/> + <see cref="KeyFile"/>: the gRPC endpoint serves TLS with this certificate,
/// and presents it as its client certificate where the other side asks for one (mutual TLS).</item>
/// <item><see cref="CaFile"/>: the certificate authority the peers' certificates must chain to: servers this process
/// calls are verified against it (and their host name against the URL), and, with
/// <see cref="RequireClientCertificate"/>, so are callers.</item>
/// </list>
/// Empty: plaintext (h2c), as on a developer's loopback.
/// </summary>
public sealed class TlsSettings
{
    public string CertificateFile { get; set; } = "";

    public string KeyFile { get; set; } = "";

    public string CaFile { get; set; } = "";

    /// <summary>Mutual TLS: callers of this process's gRPC endpoint must present a certificate that chains to <see cref="CaFile"/>.</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>True when the gRPC endpoint serves TLS.</summary>
    public bool Serves => CertificateFile.Length > 0;

    /// <summary>Throws when the files are inconsistent (a certificate without its key, mutual TLS without a CA, a file missing).</summary>
    public void Validate(string section)
    {
        if (CertificateFile.Length > 0 != KeyFile.Length > 0)
        {
            throw new InvalidOperationException($"{section}:CertificateFile and {section}:KeyFile go together.");
        }

        if (RequireClientCertificate && (CaFile.Length == 0 || !Serves))
        {
            throw new InvalidOperationException($"{section}:RequireClientCertificate needs {section}:CertificateFile, KeyFile and CaFile.");
        }

        foreach (var file in new[] { CertificateFile, KeyFile, CaFile }.Where(f => f.Length > 0))
        {
            if (!File.Exists(file))
            {
                throw new InvalidOperationException($"{section}: '{file}' does not exist.");
            }
        }
    }

    /// <summary>The certificate with its private key; null when none is configured.</summary>
    public X509Certificate2? LoadCertificate() => Serves ? X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile) : null;

    /// <summary>The CA's certificates; empty when none is configured.</summary>
    public X509Certificate2Collection LoadCa()
    {
        var roots = new X509Certificate2Collection();
        if (CaFile.Length > 0)
        {
            roots.ImportFromPemFile(CaFile);
        }

        return roots;
    }

    /// <summary>
    /// A handler for calls to a TLS peer: the server's certificate must chain to the CA (or to the system's roots when
    /// there is no CA file) and match the host name; this process's certificate is offered for mutual TLS.
    /// </summary>
    public SocketsHttpHandler ConfigureClient(SocketsHttpHandler handler)
    {
        var roots = LoadCa();
        if (roots.Count > 0)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => VerifyServer(certificate, errors, roots);
        }

        if (LoadCertificate() is { } own)
        {
            handler.SslOptions.ClientCertificates = [own];
        }

        return handler;
    }

    /// <summary>A server's certificate is good when the platform found nothing wrong, or only that its chain ends at a root it does not know and that root is the CA's.</summary>
    public static bool VerifyServer(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots) =>
        errors == SslPolicyErrors.None
        || (errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate is not null && ChainsTo(new X509Certificate2(certificate), roots));

    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="roots"/> (revocation is not checked: the farm's own CA).</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
