using VideoGen.Cli.Client;
using VideoGen.Cli.Farm;

namespace VideoGen.Cli.Commands;

/// <summary><c>farm up</c>: a coordinator and N workers on this machine until Ctrl-C or SIGTERM.</summary>
public static class FarmCommand
{
    public static async Task<int> UpAsync(CommandContext context, CancellationToken stop)
    {
        var parsed = context.Parsed;
        var workers = parsed.GetInt("workers", defaultValue: 2, min: 1);
        var port = parsed.GetInt("port", defaultValue: 7070, min: 1);
        if (port > 65535)
        {
            throw new UsageException($"--port must be at most 65535, got {port}", parsed.Command);
        }
        var httpPort = parsed.GetInt("http-port", defaultValue: 0, min: 0);
        if (httpPort > 65535 || httpPort == port)
        {
            throw new UsageException($"--http-port must be at most 65535 and differ from --port, got {httpPort}", parsed.Command);
        }
        int? slots = parsed.Has("slots") ? parsed.GetInt("slots", defaultValue: 1, min: 1) : null;
        var readyTimeout = parsed.GetDouble("ready-timeout") ?? 60;
        if (readyTimeout <= 0)
        {
            throw new UsageException("--ready-timeout must be positive", parsed.Command);
        }
        var maxRestarts = parsed.GetInt("max-restarts", defaultValue: 5, min: 0);
        var layout = new FarmLayout(workers, port, Path.GetFullPath(parsed.Get("dir") ?? ".farm"), slots, httpPort);

        var baseDirectory = AppContext.BaseDirectory;
        var coordinatorDll = ServerLocator.Locate(ServerLocator.CoordinatorProject, parsed.Get("coordinator-dll"),
            Environment.GetEnvironmentVariable(ServerLocator.CoordinatorVariable), baseDirectory);
        var workerDll = ServerLocator.Locate(ServerLocator.WorkerProject, parsed.Get("worker-dll"),
            Environment.GetEnvironmentVariable(ServerLocator.WorkerVariable), baseDirectory);

        // Zero-config credentials: the farm's admin key (kept across restarts of the farm) is the coordinator's
        // bootstrap key, and a copy for this coordinator's address in the user's config folder lets every
        // videogen command on this machine use it without flags.
        var adminKey = Credentials.LoadOrCreate(layout.AdminKeyFile);
        var userCopy = Credentials.CredentialFile(Credentials.ConfigDirectory(), layout.CoordinatorUrl);
        Credentials.WriteSecret(userCopy, adminKey);
        var supervisor = new FarmSupervisor(layout, coordinatorDll, workerDll, context.Output, context.Errors, adminKey)
        {
            ReadyTimeout = TimeSpan.FromSeconds(readyTimeout),
            Json = context.Json,
            Restarts = RestartPolicy.Default(maxRestarts),
        };
        return await supervisor.RunAsync(stop);
    }
}
