using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace VideoGen.TestDoubles;

/// <summary>
/// A real S3-compatible server for a test: s3rver (npm <c>@20minutes/s3rver</c>, see shared STACK.md) started
/// from <c>tests/support/s3/server.js</c> on 127.0.0.1 with a free port, an empty data folder and one bucket.
/// It installs nothing: <c>deploy/local/test.sh</c> runs <c>npm ci</c> there first.
/// </summary>
public sealed partial class S3TestServer : IAsyncDisposable
{
    /// <summary>s3rver's fixed credentials.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private S3TestServer(Process process, string directory, string bucket)
    {
        _process = process;
        Directory = directory;
        Bucket = bucket;
    }

    /// <summary>The endpoint, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string ServiceUrl { get; private set; } = "";

    public string Bucket { get; }

    /// <summary>Where s3rver keeps its objects.</summary>
    public string Directory { get; }

    /// <summary>The settings a worker needs for this server (<c>Storage:*</c> keys).</summary>
    public Dictionary<string, string> WorkerSettings(string prefix = "") => new()
    {
        ["Storage:Kind"] = "s3",
        ["Storage:S3:Bucket"] = Bucket,
        ["Storage:S3:Prefix"] = prefix,
        ["Storage:S3:ServiceUrl"] = ServiceUrl,
        ["Storage:S3:Region"] = "us-east-1",
        ["Storage:S3:ForcePathStyle"] = "true",
        ["Storage:S3:AccessKey"] = AccessKey,
        ["Storage:S3:SecretKey"] = SecretKey,
    };

    public static async Task<S3TestServer> StartAsync(string bucket = "videogen-test", TimeSpan? timeout = null)
    {
        var support = Path.Combine(FindRepositoryRoot(), "tests", "support", "s3");
        if (!System.IO.Directory.Exists(Path.Combine(support, "node_modules", "@20minutes", "s3rver")))
        {
            throw new InvalidOperationException($"The S3 test server is not installed: run `npm ci` in {support} (deploy/local/test.sh does it).");
        }

        var directory = Path.Combine(Path.GetTempPath(), "videogen-s3rver", Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = support,
            RedirectStandardOutput = true,
            RedirectStandardError = true,

            // server.js stops when its stdin closes: the server dies with this process even on a crash.
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "server.js", "--port", "0", "--directory", directory, "--bucket", bucket })
        {
            start.ArgumentList.Add(argument);
        }

        var server = new S3TestServer(Process.Start(start) ?? throw new InvalidOperationException("node did not start"), directory, bucket);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException($"s3rver exited before listening:\n{server.Output}"));
                return;
            }

            lock (server._output)
            {
                server._output.AppendLine(e.Data);
            }

            if (Listening().Match(e.Data) is { Success: true } m)
            {
                listening.TrySetResult(m.Groups[1].Value);
            }
        }

        server._process.OutputDataReceived += OnLine;
        server._process.ErrorDataReceived += (_, e) =>
        {
            lock (server._output)
            {
                server._output.AppendLine(e.Data);
            }
        };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            server.ServiceUrl = await listening.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>What the server printed.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The requests the server received so far, as "METHOD /bucket/key?query".</summary>
    public IReadOnlyList<string> Requests =>
        Output.Split('\n').Where(l => l.StartsWith("request ", StringComparison.Ordinal)).Select(l => l["request ".Length..].TrimEnd('\r')).ToArray();

    /// <summary>An S3 client for this server with the settings of shared STACK.md, independent of the code under test.</summary>
    public AmazonS3Client CreateClient()
    {
        AWSConfigs.InitializeCollections = true;
        return new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
        {
            ServiceURL = ServiceUrl,
            ForcePathStyle = true,
            UseHttp = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "VideoGen.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No VideoGen.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"s3rver listening on (http://\S+)")]
    private static partial Regex Listening();
}
