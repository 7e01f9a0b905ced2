using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;
using VideoGen.EndToEnd.Tests.Infrastructure;

namespace VideoGen.EndToEnd.Tests;

/// <summary>
/// TLS on every gRPC endpoint (issue #12 item 5), with certificates the test makes: a CA, a certificate for the
/// coordinator and one for the worker (127.0.0.1 and localhost). The coordinator and the worker serve TLS, verify each
/// other against the CA, and the worker takes only callers with a certificate from the CA (mutual TLS); the 12 s job
/// runs; a client that does not trust the CA, a plaintext client and a caller without a client certificate get nowhere.
/// </summary>
public sealed class TlsEndToEndTests
{
    [Fact(Timeout = 300_000)]
    public async Task TlsFarm_RunsTheTwelveSecondJob_AndRefusesWhoeverTheCaDidNotCertify()
    {
        var folder = RepoPaths.NewTempDirectory("tls-certs");
        using var ca = CreateCa("VideoGen test CA");
        var caFile = Write(folder, "ca.pem", ca.ExportCertificatePem());
        var (coordinatorCert, coordinatorKey) = Issue(ca, "coordinator", folder);
        var (workerCert, workerKey) = Issue(ca, "worker", folder);

        await using var farm = await LocalFarm.StartAsync("tls", new FarmOptions
        {
            Workers = 1,
            CaFile = caFile,
            Coordinator =
            {
                ["Coordinator:Tls:CertificateFile"] = coordinatorCert,
                ["Coordinator:Tls:KeyFile"] = coordinatorKey,
                ["Coordinator:Tls:CaFile"] = caFile,
            },
            Worker = _ => new()
            {
                ["Worker:GrpcUrl"] = "https://127.0.0.1:0",
                ["Worker:Tls:CertificateFile"] = workerCert,
                ["Worker:Tls:KeyFile"] = workerKey,
                ["Worker:Tls:CaFile"] = caFile,
                ["Worker:Tls:RequireClientCertificate"] = "true",
            },
        });
        Assert.StartsWith("https://", farm.CoordinatorAddress);

        var job = await farm.RunAsync("a 12 second showcase for a lamp", timeout: TimeSpan.FromMinutes(4));
        Assert.True(job.State == JobState.Succeeded, job.Error);
        Assert.InRange((await Media.ProbeAsync(LocalFarm.LocalPath(job.OutputUri))).DurationSeconds, 11.95, 12.05);

        var workerAddress = (await farm.Jobs.ListWorkersAsync(new ListWorkersRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Workers.Single().Address;
        Assert.StartsWith("https://127.0.0.1:", workerAddress);

        // A client that does not trust the CA: the handshake fails, no call reaches the coordinator.
        using (var untrusting = GrpcChannel.ForAddress(farm.CoordinatorAddress))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => new JobService.JobServiceClient(untrusting).ListJobsAsync(new ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
            AssertHandshakeFailed(error);
        }

        // Plaintext to a TLS port gets nowhere either.
        using (var plaintext = GrpcChannel.ForAddress(farm.CoordinatorAddress.Replace("https://", "http://", StringComparison.Ordinal)))
        {
            await Assert.ThrowsAsync<RpcException>(() => new JobService.JobServiceClient(plaintext).ListJobsAsync(new ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        }

        // The worker: a caller that trusts the CA but has no certificate of it is refused at the handshake (mutual TLS).
        using (var anonymous = GrpcChannel.ForAddress(workerAddress, new GrpcChannelOptions
        {
            HttpHandler = new VideoGen.Security.TlsSettings { CaFile = caFile }.ConfigureClient(new SocketsHttpHandler()),
        }))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => new WorkerService.WorkerServiceClient(anonymous).GetWorkerStatusAsync(new GetWorkerStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
            Assert.NotEqual(StatusCode.DeadlineExceeded, error.StatusCode); // refused, not ignored
            Assert.DoesNotContain(error.StatusCode, new[] { StatusCode.OK, StatusCode.Unauthenticated }); // never reached the service's own checks
        }

        // The CLI trusts the CA through VIDEOGEN_CA_FILE.
        await using var cli = ServerProcess.StartDotnet("cli", RepoPaths.CliDll, ["--coordinator", farm.CoordinatorAddress, "workers"],
            Path.Combine(farm.Directory, "cli.log"), environment: new Dictionary<string, string> { ["VIDEOGEN_CA_FILE"] = caFile, ["VIDEOGEN_API_KEY"] = farm.AdminKey });
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("worker-1", cli.Output);
    }

    /// <summary>The call failed in the TLS handshake (the client refused the server's certificate), before any RPC.</summary>
    private static void AssertHandshakeFailed(RpcException error)
    {
        Assert.True(error.StatusCode is StatusCode.Unavailable or StatusCode.Internal, error.ToString());
        Assert.Contains("SSL", error.Status.DebugException?.ToString() ?? error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A leaf for 127.0.0.1 and localhost, good for server and client authentication; PEM files of the certificate and its key.</summary>
    private static (string Certificate, string Key) Issue(X509Certificate2 ca, string name, string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=videogen-{name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), ca.NotAfter.ToUniversalTime().AddMinutes(-1), RandomNumberGenerator.GetBytes(16));
        return (Write(folder, $"{name}.pem", certificate.ExportCertificatePem()), Write(folder, $"{name}.key", key.ExportPkcs8PrivateKeyPem()));
    }

    private static string Write(string folder, string name, string pem)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, pem);
        return path;
    }
}
