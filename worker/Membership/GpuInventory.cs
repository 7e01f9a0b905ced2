using System.ComponentModel;
using System.Diagnostics;

namespace VideoGen.Worker.Membership;

/// <summary>The GPUs of this machine from <c>nvidia-smi --query-gpu=name --format=csv,noheader</c>; empty when there is none.</summary>
public sealed class GpuInventory
{
    private readonly Lazy<Task<IReadOnlyList<string>>> _gpus = new(() => DetectAsync(CancellationToken.None));

    /// <summary>The GPU names, detected once.</summary>
    public Task<IReadOnlyList<string>> GetAsync(CancellationToken cancellationToken) => _gpus.Value.WaitAsync(cancellationToken);

    private static async Task<IReadOnlyList<string>> DetectAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return [];
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode != 0
                ? []
                : output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        catch (Exception ex) when (ex is Win32Exception or OperationCanceledException or InvalidOperationException)
        {
            return []; // No nvidia-smi (no NVIDIA GPU), or it hung.
        }
    }
}
