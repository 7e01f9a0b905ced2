using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using System.Threading.Channels;
using VideoGen.Contracts.V1;
using VideoGen.Worker.Hosting;

// FFmpeg tests measure durations and promptness on 2 shared cores: run one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace VideoGen.Worker.Tests;

/// <summary>Runs the ffmpeg CLI directly, independent of the code under test, to measure what it produced.</summary>
internal static partial class FfmpegProbe
{
    public static async Task<(byte[] Stdout, string Stderr)> RunAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-hide_banner");
        start.ArgumentList.Add("-nostdin");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout, cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await copy;
        var errors = await stderr;
        Assert.True(process.ExitCode == 0, $"ffmpeg {string.Join(' ', arguments)} failed: {errors}");
        return (stdout.ToArray(), errors);
    }

    /// <summary>SSIM ("All:") between the first frames of two files, both scaled to width × height.</summary>
    public static async Task<double> SsimAsync(string a, string b, int width, int height, CancellationToken cancellationToken)
    {
        var (_, stderr) = await RunAsync(cancellationToken,
            "-i", a, "-i", b,
            "-filter_complex", $"[0:v]scale={width}:{height},format=yuv420p[x];[1:v]scale={width}:{height},format=yuv420p[y];[x][y]ssim",
            "-frames:v", "1", "-f", "null", "-");
        var match = SsimAll().Match(stderr);
        Assert.True(match.Success, $"no SSIM in ffmpeg output: {stderr}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The frame at <paramref name="seconds"/> (accurate seek) as a PNG.</summary>
    public static Task FrameAtAsync(string clip, double seconds, string png, CancellationToken cancellationToken) =>
        RunAsync(cancellationToken, "-y", "-ss", seconds.ToString("0.000000", CultureInfo.InvariantCulture), "-i", clip, "-frames:v", "1", "-update", "1", png);

    /// <summary>Raw RGB24 pixels of an image.</summary>
    public static async Task<byte[]> PixelsAsync(string image, CancellationToken cancellationToken) =>
        (await RunAsync(cancellationToken, "-i", image, "-f", "rawvideo", "-pix_fmt", "rgb24", "-")).Stdout;

    /// <summary>Mean colour of an image (area-averaged down to one pixel).</summary>
    public static async Task<(int R, int G, int B)> MeanColourAsync(string image, CancellationToken cancellationToken)
    {
        var pixel = (await RunAsync(cancellationToken, "-i", image, "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")).Stdout;
        return (pixel[0], pixel[1], pixel[2]);
    }

    /// <summary>A detailed 854x480 still (testsrc2) to start clips from: structure makes motion measurable.</summary>
    public static Task StartImageAsync(string png, CancellationToken cancellationToken) =>
        RunAsync(cancellationToken, "-y", "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=1", "-frames:v", "1", "-update", "1", png);

    [GeneratedRegex(@"All:([0-9.]+)")]
    private static partial Regex SsimAll();
}

/// <summary>A scratch folder deleted at dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "videogen-worker-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A real worker in this process: Kestrel on 127.0.0.1 with free ports, and a gRPC client to it.</summary>
internal sealed class WorkerTestHost : IAsyncDisposable
{
    private readonly TempFolder _folder;

    private WorkerTestHost(WebApplication app, TempFolder folder)
    {
        App = app;
        _folder = folder;
        Endpoints = app.Services.GetRequiredService<WorkerEndpoints>();
        Channel = GrpcChannel.ForAddress(Endpoints.GrpcAddress);
        Client = new WorkerService.WorkerServiceClient(Channel);
    }

    public WebApplication App { get; }

    public WorkerEndpoints Endpoints { get; }

    public GrpcChannel Channel { get; }

    public WorkerService.WorkerServiceClient Client { get; }

    public string StorageRoot => System.IO.Path.Combine(_folder.Path, "artifacts");

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Starts a worker; <paramref name="services"/> runs last, so its registrations (a fake clock, log capture) win.</summary>
    public static async Task<WorkerTestHost> StartAsync(IDictionary<string, string?>? overrides, CancellationToken cancellationToken, Action<IServiceCollection>? services = null)
    {
        var folder = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Id"] = "test-worker",
            ["Worker:Membership"] = "none",
            ["Worker:WorkDirectory"] = folder.File("work"),
            ["Storage:LocalRoot"] = folder.File("artifacts"),
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddVideoGenWorker();
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapVideoGenWorker();
        await app.StartAsync(cancellationToken);
        return new WorkerTestHost(app, folder);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
        _folder.Dispose();
    }
}

internal static class Timeouts
{
    public static CancellationToken After(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}

/// <summary>
/// A fake clock that also reports each one-shot timer armed with <see cref="Delay"/> (the procedural model's
/// <c>Procedural:LatencySeconds</c> wait): the model call is then parked until the test advances the clock.
/// </summary>
internal sealed class GatedClock(TimeSpan delay) : FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T00:00:00Z", CultureInfo.InvariantCulture))
{
    private readonly Channel<TimeSpan> _armed = Channel.CreateUnbounded<TimeSpan>();

    public TimeSpan Delay { get; } = delay;

    /// <summary>Model waits armed and not yet taken by <see cref="NextModelWaitAsync"/>.</summary>
    public int PendingModelWaits => _armed.Reader.Count;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime == Delay && period == Timeout.InfiniteTimeSpan)
        {
            _armed.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Completes when the next model call is waiting on this clock.</summary>
    public async Task NextModelWaitAsync(CancellationToken cancellationToken) =>
        await _armed.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
}

/// <summary>Captures the worker's log events so tests can wait for one (a signal, not a sleep).</summary>
internal sealed class LogSignals : ILoggerProvider
{
    private readonly object _gate = new();
    private readonly List<(int EventId, string Message)> _events = [];
    private readonly List<(Func<int, string, bool> Match, TaskCompletionSource Signal)> _waiters = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <summary>Completes when an event with <paramref name="eventId"/> whose message contains <paramref name="text"/> was logged (also if it already was).</summary>
    public Task WaitForAsync(int eventId, string text, CancellationToken cancellationToken)
    {
        bool Match(int id, string message) => id == eventId && message.Contains(text, StringComparison.Ordinal);
        lock (_gate)
        {
            if (_events.Any(e => Match(e.EventId, e.Message)))
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((Match, signal));
            return signal.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
    }

    public void Dispose()
    {
    }

    private void Add(int eventId, string message)
    {
        lock (_gate)
        {
            _events.Add((eventId, message));
            foreach (var waiter in _waiters.Where(w => w.Match(eventId, message)).ToList())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private sealed class Logger(LogSignals owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(eventId.Id, formatter(state, exception));
    }
}
