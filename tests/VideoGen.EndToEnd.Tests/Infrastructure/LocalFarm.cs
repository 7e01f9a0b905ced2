using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using VideoGen.Contracts.V1;

namespace VideoGen.EndToEnd.Tests.Infrastructure;

/// <summary>Settings of a farm started by a test.</summary>
public sealed class FarmOptions
{
    public int Workers { get; init; } = 2;

    public int Slots { get; init; } = 2;

    /// <summary>A PEM certificate authority: the coordinator's gRPC address is https:// and the test's channel trusts this CA.</summary>
    public string? CaFile { get; init; }

    /// <summary>Extra coordinator settings ("Section:Key" → value).</summary>
    public Dictionary<string, string> Coordinator { get; init; } = [];

    /// <summary>Extra settings per worker (by index from 1).</summary>
    public Func<int, Dictionary<string, string>>? Worker { get; init; }

    /// <summary>A second coordinator address the workers list after the first (<c>Worker:Coordinator</c> = "first,standby"): see <see cref="LocalFarm.FailOverAsync"/>.</summary>
    public bool Standby { get; init; }
}

/// <summary>
/// A real farm for a test: one coordinator and N workers as separate processes on loopback, with
/// their own data folder, artifact folder and free ports. Each process logs to the farm's folder.
/// The coordinator requires API keys: the farm makes a random bootstrap admin key (<see cref="AdminKey"/>),
/// hands it to the coordinator in its environment, and <see cref="Jobs"/> sends it on every call.
/// </summary>
public sealed class LocalFarm : IAsyncDisposable
{
    private readonly FarmOptions _options;
    private readonly List<ServerProcess> _workers = [];
    private readonly List<string> _secrets = [];

    private LocalFarm(string directory, FarmOptions options)
    {
        Directory = directory;
        _options = options;
        GrpcPort = FreePort();
        CoordinatorAddress = $"{(options.CaFile is null ? "http" : "https")}://127.0.0.1:{GrpcPort}";
        StandbyPort = options.Standby ? FreePort() : 0;
        StandbyAddress = options.Standby ? $"{(options.CaFile is null ? "http" : "https")}://127.0.0.1:{StandbyPort}" : "";
        Channel = GrpcChannel.ForAddress(CoordinatorAddress, new GrpcChannelOptions
        {
            HttpHandler = new VideoGen.Security.TlsSettings { CaFile = options.CaFile ?? "" }.ConfigureClient(new SocketsHttpHandler()),
        });
        Jobs = JobsFor(AdminKey);
    }

    /// <summary>The coordinator's bootstrap admin key (random per farm; the log scan looks for it).</summary>
    public string AdminKey { get; } = NewKey();

    /// <summary>A key in the coordinator's format ("vg_" and 43 base64url characters).</summary>
    public static string NewKey() =>
        "vg_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A JobService client on the farm's channel that sends <paramref name="apiKey"/> (none: no key).</summary>
    public JobService.JobServiceClient JobsFor(string? apiKey) => new(WithKey(apiKey));

    /// <summary>A KeyService client that sends <paramref name="apiKey"/> (default: the admin key).</summary>
    public KeyService.KeyServiceClient KeysFor(string? apiKey = null) => new(WithKey(apiKey ?? AdminKey));

    /// <summary>Makes an API key with the admin key; the farm's log scan looks for it too.</summary>
    public async Task<string> CreateKeyAsync(string tenant, KeyRole role = KeyRole.Client)
    {
        var key = (await KeysFor().CreateKeyAsync(new CreateKeyRequest { Tenant = tenant, Role = role }, deadline: DateTime.UtcNow.AddSeconds(30))).Key;
        lock (_secrets)
        {
            _secrets.Add(key);
        }

        return key;
    }

    /// <summary>
    /// Issue #12, secrets stay secret: every line every process of this farm wrote (coordinator, workers, and the
    /// clients a test ran with logs in the farm's folder) is searched for the farm's API keys and for every provider
    /// token, API key, secret key or password setting a test gave its processes; a hit fails the test, naming the
    /// file and line but not the secret.
    /// </summary>
    public void AssertNoSecretInLogs()
    {
        List<string> secrets;
        lock (_secrets)
        {
            secrets = [AdminKey, .. _secrets];
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.log", SearchOption.AllDirectories))
        {
            var number = 0;
            foreach (var line in File.ReadLines(file))
            {
                number++;
                if (secrets.FirstOrDefault(line.Contains) is { } leaked)
                {
                    throw new InvalidOperationException($"{file}:{number} holds a secret (#{secrets.IndexOf(leaked)}; 0 is the admin key)");
                }
            }
        }
    }

    /// <summary>Provider tokens, API keys and passwords a test hands a process: the log scan looks for them too.</summary>
    private void RegisterSecrets(Dictionary<string, string> settings)
    {
        lock (_secrets)
        {
            foreach (var (key, value) in settings)
            {
                var name = key[(key.LastIndexOf(':') + 1)..];
                if (value.Length >= 6 && (name.EndsWith("ApiKey", StringComparison.OrdinalIgnoreCase) || name.EndsWith("Token", StringComparison.OrdinalIgnoreCase)
                    || name.EndsWith("SecretKey", StringComparison.OrdinalIgnoreCase) || name.EndsWith("Password", StringComparison.OrdinalIgnoreCase)))
                {
                    _secrets.Add(value);
                }
            }
        }
    }

    /// <summary>The environment a client process needs to call this farm: its admin key.</summary>
    public Dictionary<string, string> ClientEnvironment => new() { ["VIDEOGEN_API_KEY"] = AdminKey };

    private CallInvoker WithKey(string? apiKey) => apiKey is null
        ? Channel.CreateCallInvoker()
        : Channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + apiKey);
            return metadata;
        });

    public string Directory { get; }

    public string ArtifactsRoot => Path.Combine(Directory, "artifacts");

    public int GrpcPort { get; }

    public string CoordinatorAddress { get; }

    /// <summary>With <see cref="FarmOptions.Standby"/>: where <see cref="FailOverAsync"/> starts the next coordinator.</summary>
    public int StandbyPort { get; }

    public string StandbyAddress { get; }

    /// <summary>The coordinator's HTTP endpoint (/metrics, /healthz).</summary>
    public string CoordinatorHttpAddress { get; private set; } = "";

    public ServerProcess Coordinator { get; private set; } = null!;

    public IReadOnlyList<ServerProcess> Workers => _workers;

    public GrpcChannel Channel { get; }

    public JobService.JobServiceClient Jobs { get; }

    public static async Task<LocalFarm> StartAsync(string name, FarmOptions? options = null)
    {
        var farm = new LocalFarm(RepoPaths.NewTempDirectory(name), options ?? new FarmOptions());
        try
        {
            await farm.StartCoordinatorAsync();
            for (var i = 1; i <= farm._options.Workers; i++)
            {
                await farm.StartWorkerAsync(i);
            }
        }
        catch
        {
            await farm.DisposeAsync();
            throw;
        }

        return farm;
    }

    public async Task StartCoordinatorAsync(bool onStandbyPort = false)
    {
        (Coordinator, CoordinatorHttpAddress) = await LaunchCoordinatorAsync(onStandbyPort, "coordinator");
    }

    /// <summary>
    /// With <see cref="FarmOptions.Standby"/> and leadership configured (<c>Coordinator:Leadership:Enabled</c> on a
    /// PostgreSQL store): a second coordinator process, on the standby port, running beside <see cref="Coordinator"/>
    /// from now on — a hot standby that waits for the lease.
    /// </summary>
    public async Task<ServerProcess> StartStandbyCoordinatorAsync()
    {
        (StandbyCoordinator, _) = await LaunchCoordinatorAsync(onStandbyPort: true, "coordinator-standby");
        return StandbyCoordinator;
    }

    /// <summary>The hot standby started by <see cref="StartStandbyCoordinatorAsync"/>, if any.</summary>
    public ServerProcess? StandbyCoordinator { get; private set; }

    private async Task<(ServerProcess Process, string HttpAddress)> LaunchCoordinatorAsync(bool onStandbyPort, string name)
    {
        var port = onStandbyPort ? StandbyPort : GrpcPort;
        var args = new Dictionary<string, string>
        {
            ["Coordinator:GrpcUrl"] = onStandbyPort ? StandbyAddress : CoordinatorAddress,
            ["Coordinator:HttpUrl"] = "http://127.0.0.1:0",
            ["Coordinator:DataDirectory"] = Path.Combine(Directory, name),
            ["Storage:LocalRoot"] = ArtifactsRoot,
        };
        foreach (var (k, v) in _options.Coordinator)
        {
            args[k] = v;
        }

        RegisterSecrets(args);

        // The key goes in the environment, not on the command line.
        var process = ServerProcess.StartDotnet(name, RepoPaths.CoordinatorDll, ToArgs(args), Path.Combine(Directory, $"{name}.log"),
            environment: new Dictionary<string, string> { ["Coordinator__Auth__BootstrapAdminKey"] = AdminKey });
        var listening = await process.WaitForLineAsync(@"coordinator listening (.*)$", TimeSpan.FromSeconds(60));
        return (process, listening.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .First(a => !a.EndsWith($":{port}", StringComparison.Ordinal)));
    }

    /// <summary>Starts worker-<paramref name="index"/> and waits until the coordinator has it.</summary>
    public async Task<ServerProcess> StartWorkerAsync(int index, Dictionary<string, string>? extra = null)
    {
        var id = $"worker-{index}";
        var args = new Dictionary<string, string>
        {
            ["Worker:Id"] = id,
            ["Worker:Coordinator"] = _options.Standby ? $"{CoordinatorAddress},{StandbyAddress}" : CoordinatorAddress,
            ["Worker:Slots"] = _options.Slots.ToString(),
            ["Worker:WorkDirectory"] = Path.Combine(Directory, "work", id),
            ["Storage:LocalRoot"] = ArtifactsRoot,
        };
        foreach (var (k, v) in _options.Worker?.Invoke(index) ?? [])
        {
            args[k] = v;
        }

        foreach (var (k, v) in extra ?? [])
        {
            args[k] = v;
        }

        RegisterSecrets(args);

        var worker = ServerProcess.StartDotnet(id, RepoPaths.WorkerDll, ToArgs(args), Path.Combine(Directory, $"{id}.log"));
        _workers.RemoveAll(w => w.Name == id);
        _workers.Add(worker);
        // Joined, or dead: a worker that cannot start fails the test at once with its output.
        var joined = Coordinator.WaitForLineAsync($@"worker={id} joined", TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(joined, worker.Exited) != joined)
        {
            throw new InvalidOperationException($"{id} exited with {await worker.Exited} before joining:\n{worker.Tail(40)}");
        }

        await joined;
        return worker;
    }

    public ServerProcess Worker(int index) => _workers.Single(w => w.Name == $"worker-{index}");

    /// <summary>The HTTP endpoint (/metrics) of worker-<paramref name="index"/>, from its start-up line.</summary>
    public async Task<string> WorkerHttpAddressAsync(int index) =>
        (await Worker(index).WaitForLineAsync(@"listening grpc=\S+ http=(\S+)", TimeSpan.FromSeconds(10))).Groups[1].Value;

    /// <summary>Stops the coordinator (SIGTERM, or SIGKILL when <paramref name="crash"/>) and starts it again on the same data.</summary>
    public async Task RestartCoordinatorAsync(bool crash = false)
    {
        if (crash)
        {
            Coordinator.Kill();
            await Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        else
        {
            await Coordinator.StopAsync();
        }

        await Coordinator.DisposeAsync();
        await StartCoordinatorAsync();
    }

    /// <summary>
    /// kill -9 of the coordinator, then a new one on the standby port over the same data: what a failover to a standby
    /// looks like to the workers and clients that list both addresses.
    /// </summary>
    public async Task FailOverAsync()
    {
        Coordinator.Kill();
        await Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await Coordinator.DisposeAsync();
        await StartCoordinatorAsync(onStandbyPort: true);
    }

    public Task<SubmitJobResponse> SubmitAsync(string prompt, Action<JobRequest>? configure = null, string? requestId = null)
    {
        var request = new JobRequest { Prompt = prompt };
        configure?.Invoke(request);
        return Jobs.SubmitJobAsync(new SubmitJobRequest { RequestId = requestId ?? Guid.NewGuid().ToString(), Job = request }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;
    }

    /// <summary>Watches a job from <paramref name="afterSequence"/>; stops at its end, or after <paramref name="take"/> events.</summary>
    public async Task<List<JobEvent>> WatchAsync(string jobId, long afterSequence = 0, int take = int.MaxValue, TimeSpan? timeout = null)
    {
        var events = new List<JobEvent>();
        // A bound for a hang, not a speed goal: generous enough for a job on a machine whose cores are all busy
        // (the suite must hold under stress-ng --cpu 2), short of the run's 10-minute hang timeout.
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(6));
        using var call = Jobs.WatchJob(new WatchJobRequest { JobId = jobId, AfterSequence = afterSequence }, cancellationToken: cts.Token);
        try
        {
            await foreach (var e in call.ResponseStream.ReadAllAsync(cts.Token))
            {
                events.Add(e);
                if (events.Count >= take)
                {
                    break; // disposing the call cancels it: a client that disconnects
                }
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cts.IsCancellationRequested)
        {
            var tasks = events.Where(e => e.TaskUpdated is not null).GroupBy(e => e.TaskUpdated.Task.TaskId)
                .Select(g => $"{g.Key}={g.Last().TaskUpdated.Task.State}#{g.Last().TaskUpdated.Task.Attempt}");
            throw new TimeoutException($"job {jobId} did not finish in time; {events.Count} events seen; tasks: {string.Join(" ", tasks)}\n{Coordinator.Tail(30)}");
        }

        return events;
    }

    /// <summary>Watches from the start until an event matches <paramref name="stop"/>, then disconnects.</summary>
    public async Task<List<JobEvent>> WatchUntilAsync(string jobId, Func<JobEvent, bool> stop, TimeSpan? timeout = null)
    {
        var events = new List<JobEvent>();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        using var call = Jobs.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cts.Token);
        await foreach (var e in call.ResponseStream.ReadAllAsync(cts.Token))
        {
            events.Add(e);
            if (stop(e))
            {
                return events;
            }
        }

        throw new InvalidOperationException($"job {jobId} ended before the awaited event:\n{string.Join("\n", events)}");
    }

    public async Task<Job> GetJobAsync(string jobId) =>
        (await Jobs.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: DateTime.UtcNow.AddSeconds(30))).Job;

    /// <summary>Runs a job to its end and returns it.</summary>
    public async Task<Job> RunAsync(string prompt, Action<JobRequest>? configure = null, TimeSpan? timeout = null)
    {
        var job = (await SubmitAsync(prompt, configure)).Job;
        await WatchAsync(job.JobId, timeout: timeout);
        return await GetJobAsync(job.JobId);
    }

    /// <summary>The local path behind a file:// artifact URI.</summary>
    public static string LocalPath(string uri) => new Uri(uri).LocalPath;

    /// <summary>The raw cut the stitch made (every chunk at full length), before the finish.</summary>
    public static string RawCutPath(LocalFarm farm, Job job) =>
        LocalPath(job.Tasks.Single(t => t.TaskId == "stitch").OutputUri);

    public string Logs() =>
        $"--- coordinator ---\n{Coordinator?.Tail(60)}\n" + (StandbyCoordinator is null ? "" : $"--- standby coordinator ---\n{StandbyCoordinator.Tail(60)}\n") + string.Join("\n", _workers.Select(w => $"--- {w.Name} ---\n{w.Tail(30)}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        if (StandbyCoordinator is not null)
        {
            await StandbyCoordinator.DisposeAsync();
        }

        if (Coordinator is not null)
        {
            await Coordinator.DisposeAsync();
        }

        Channel.Dispose();
        // Every farm of every end-to-end test ends with the scan: a key in any log line fails the test.
        AssertNoSecretInLogs();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static IEnumerable<string> ToArgs(Dictionary<string, string> settings) =>
        settings.Select(kv => $"--{kv.Key}={kv.Value}");
}
