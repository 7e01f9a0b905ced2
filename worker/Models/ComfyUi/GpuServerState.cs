using VideoGen.Contracts.V1;

namespace VideoGen.Worker.Models.ComfyUi;

/// <summary>One GPU as the inference server reports it.</summary>
public sealed record GpuMemory(string Name, int Index, long TotalBytes, long FreeBytes);

/// <summary>
/// What the worker knows of its GPU inference server: its GPUs and free memory (probed), the catalog models it ran
/// and still holds loaded, the models it cannot run (a missing node or model file), and whether it answers. The
/// membership loop reports it with every heartbeat; the health check reads <see cref="UnhealthyReason"/>.
/// Thread-safe: the probe, the chunk executions and the heartbeat touch it at once.
/// </summary>
public sealed class GpuServerState
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _firstProbe = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IReadOnlyList<GpuMemory> _gpus = [];
    private readonly List<string> _loaded = [];
    private readonly HashSet<string> _withheld = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _withheldWhy = new(StringComparer.Ordinal);
    private string _unhealthy = "";

    /// <summary>True when this worker drives a GPU server (it serves a model of provider "comfyui").</summary>
    public bool Enabled { get; set; }

    /// <summary>The GPUs of the last probe.</summary>
    public IReadOnlyList<GpuMemory> Gpus
    {
        get
        {
            lock (_gate)
            {
                return _gpus;
            }
        }
    }

    /// <summary>Non-empty while the server cannot be reached.</summary>
    public string UnhealthyReason
    {
        get
        {
            lock (_gate)
            {
                return _unhealthy;
            }
        }
    }

    /// <summary>True when <paramref name="model"/> was withheld (the server cannot run it).</summary>
    public bool IsWithheld(string model, out string why)
    {
        lock (_gate)
        {
            return _withheldWhy.TryGetValue(model, out why!);
        }
    }

    /// <summary>A probe answered: the GPUs now, and the server is reachable.</summary>
    public void Probed(IReadOnlyList<GpuMemory> gpus, bool restarted)
    {
        lock (_gate)
        {
            _gpus = gpus;
            _unhealthy = "";
            if (restarted)
            {
                _loaded.Clear(); // a restarted server starts empty: every model is a cold load again
            }
        }

        _firstProbe.TrySetResult();
    }

    /// <summary>A probe or a call failed to reach the server.</summary>
    public void Unreachable(string reason)
    {
        lock (_gate)
        {
            _unhealthy = reason;
            _loaded.Clear();
        }

        _firstProbe.TrySetResult();
    }

    /// <summary>The server ran <paramref name="model"/> and holds it now (ComfyUI keeps the last models in memory).</summary>
    public void Loaded(string model)
    {
        lock (_gate)
        {
            _loaded.Remove(model);
            _loaded.Insert(0, model);
        }
    }

    /// <summary>The server cannot run <paramref name="model"/> (a missing node or model file): stop advertising it.</summary>
    public void Withhold(string model, string why)
    {
        lock (_gate)
        {
            _withheld.Add(model);
            _withheldWhy[model] = why;
            _loaded.Remove(model);
        }
    }

    /// <summary>Waits (bounded) for the first probe, so the worker joins with its GPUs known.</summary>
    public async Task WaitForFirstProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        try
        {
            await _firstProbe.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Join without GPUs; the next heartbeat carries them.
        }
    }

    /// <summary>The contract's view, sent with joins and heartbeats; an empty, unreported message when not enabled.</summary>
    public WorkerResources ToProto()
    {
        var resources = new WorkerResources();
        if (!Enabled)
        {
            return resources;
        }

        lock (_gate)
        {
            resources.Reported = true;
            resources.UnhealthyReason = _unhealthy;
            resources.LoadedModels.AddRange(_loaded);
            resources.WithheldModels.AddRange(_withheld.Order(StringComparer.Ordinal));
            resources.GpuDevices.AddRange(_gpus.Select(g => new GpuDevice
            {
                Name = g.Name,
                Index = g.Index,
                TotalMemoryBytes = (ulong)Math.Max(0, g.TotalBytes),
                FreeMemoryBytes = (ulong)Math.Max(0, g.FreeBytes),
            }));
        }

        return resources;
    }
}
