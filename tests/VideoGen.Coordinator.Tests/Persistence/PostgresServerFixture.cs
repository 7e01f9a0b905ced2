using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace VideoGen.Coordinator.Tests.Persistence;

/// <summary>
/// A real PostgreSQL server as a plain process for the tests of one collection: <c>initdb</c> into a
/// temp folder, <c>pg_ctl start -w</c> on a free loopback port with trust auth, <c>pg_ctl -m fast
/// stop</c> on dispose. As root, the server runs as the <c>postgres</c> user (initdb refuses root)
/// on folders chowned to it. No server binaries is a failure with the fix in the message, never a skip.
/// </summary>
public sealed class PostgresServerFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    private const string PostgresRoot = "/usr/lib/postgresql";
    private const string ServerUser = "postgres";
    private static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(60);

    // As root, /tmp rather than a TMPDIR the postgres user may not be able to reach.
    private readonly string _root = Path.Combine(IsRoot ? "/tmp" : Path.GetTempPath(), "videogen-pg-" + Guid.NewGuid().ToString("n")[..12]);
    private string _binDirectory = "";
    private bool _started;

    public int Port { get; private set; }

    /// <summary>How long initdb + pg_ctl start took.</summary>
    public TimeSpan StartDuration { get; private set; }

    public string Version { get; private set; } = "";

    /// <summary>The <c>postgres</c> database as the <c>postgres</c> superuser.</summary>
    public string AdminConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = ServerUser,
        Database = "postgres",
        Timeout = 10,
        CommandTimeout = 30,
    }.ConnectionString;

    private string DataDirectory => Path.Combine(_root, "data");

    private string SocketDirectory => Path.Combine(_root, "sock");

    private string LogFile => Path.Combine(_root, "server.log");

    private static bool IsRoot => Environment.UserName == "root";

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        _binDirectory = FindBinDirectory();
        Directory.CreateDirectory(SocketDirectory);
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", _root], asServerUser: false);
        }

        await RunAsync(Path.Combine(_binDirectory, "initdb"),
            ["-D", DataDirectory, "--auth=trust", "-U", ServerUser, "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"]);

        // The port is free when picked and taken by the server a moment later; a lost race is retried with another.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
                    ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "30", "-o",
                     $"-p {Port} -c listen_addresses=127.0.0.1 -k {SocketDirectory} -c fsync=off", "start"]);
                _started = true;
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }

        StartDuration = clock.Elapsed;
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync().WaitAsync(CommandBound);
            Version = connection.PostgreSqlVersion.ToString();
        }

        diagnostics.OnMessage(new DiagnosticMessage($"PostgreSQL {Version} on 127.0.0.1:{Port} started in {StartDuration.TotalMilliseconds:F0} ms ({_root})"));
    }

    /// <summary>A fresh, empty schema; the connection string puts it first on the search path.</summary>
    public async Task<string> CreateSchemaAsync()
    {
        var schema = "t_" + Guid.NewGuid().ToString("n");
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync().WaitAsync(CommandBound);
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await command.ExecuteNonQueryAsync().WaitAsync(CommandBound);
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = schema }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "-t", "30", "stop"]);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is not a test failure.
        }
    }

    /// <summary>The newest /usr/lib/postgresql/N/bin that has initdb and pg_ctl.</summary>
    private static string FindBinDirectory()
    {
        var candidates = Directory.Exists(PostgresRoot)
            ? Directory.GetDirectories(PostgresRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: decimal.TryParse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(c => File.Exists(Path.Combine(c.Dir, "initdb")) && File.Exists(Path.Combine(c.Dir, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .ToList()
            : [];
        if (candidates.Count == 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL server binaries not found: no {PostgresRoot}/<version>/bin with initdb and pg_ctl. " +
                "Install the server (apt-get install -y postgresql; deploy/local/test.sh does it) to run the PostgreSQL job store tests.");
        }

        return candidates[0].Dir;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a command (as the postgres user when we are root), bounded; a non-zero exit throws with its output and the server log.</summary>
    private async Task RunAsync(string file, IReadOnlyList<string> args, bool asServerUser = true)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asServerUser && IsRoot)
        {
            info.FileName = "runuser";
            foreach (var a in (string[])["-u", ServerUser, "--", file])
            {
                info.ArgumentList.Add(a);
            }
        }
        else
        {
            info.FileName = file;
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandBound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} did not finish within {CommandBound.TotalSeconds} s.{LogTail()}");
        }

        var output = (await stdout.WaitAsync(CommandBound)) + (await stderr.WaitAsync(CommandBound));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}: {output.Trim()}{LogTail()}");
        }
    }

    private string LogTail()
    {
        try
        {
            return File.Exists(LogFile) ? "\nserver log:\n" + string.Join('\n', File.ReadLines(LogFile).TakeLast(20)) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}

/// <summary>Writes the fixture's start figures into a test's output.</summary>
internal static class PostgresServerFixtureOutput
{
    public static void Report(this PostgresServerFixture server, ITestOutputHelper output) =>
        output.WriteLine($"PostgreSQL {server.Version} on 127.0.0.1:{server.Port}, started in {server.StartDuration.TotalMilliseconds:F0} ms");
}
