using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Tests;

/// <summary><c>videogen workers</c> shows GPU workers' GPUs, free memory, loaded and withheld models (issue #18).</summary>
public class GpuWorkersRenderingTests
{
    [Fact]
    public void Workers_WithGpuReports_AddsAGpuTable_OneLinePerGpu()
    {
        var gpu = new WorkerInfo { WorkerId = "worker-1", State = "ready", Address = "http://a", Slots = 2, Models = { "wan-2.1-i2v-480p-comfyui" } };
        gpu.Resources = new WorkerResources
        {
            Reported = true,
            GpuDevices =
            {
                new GpuDevice { Index = 0, Name = "cuda:0 RTX 4090", TotalMemoryBytes = 24UL << 30, FreeMemoryBytes = 22UL << 30 },
                new GpuDevice { Index = 1, Name = "cuda:1 RTX 4090", TotalMemoryBytes = 24UL << 30, FreeMemoryBytes = 3UL << 29 },
            },
            LoadedModels = { "wan-2.1-i2v-480p-comfyui" },
        };
        var down = new WorkerInfo { WorkerId = "worker-2", State = "unhealthy", Address = "http://b", Slots = 2 };
        down.Resources = new WorkerResources { Reported = true, UnhealthyReason = "ComfyUI does not answer", WithheldModels = { "wan-2.1-flf2v-720p-comfyui" } };

        var lines = Tables.Workers([gpu, down, new WorkerInfo { WorkerId = "cpu", State = "ready" }]).ReplaceLineEndings("\n").Split('\n');

        Assert.Contains("WORKER    GPU              FREE           LOADED                    WITHHELD                    SERVER", lines);
        Assert.Contains("worker-1  cuda:0 RTX 4090  22.0/24.0 GiB  wan-2.1-i2v-480p-comfyui  -                           ok", lines);
        Assert.Contains("worker-1  cuda:1 RTX 4090  1.5/24.0 GiB   wan-2.1-i2v-480p-comfyui  -                           ok", lines);
        Assert.Contains("worker-2  -                -              -                         wan-2.1-flf2v-720p-comfyui  unhealthy: ComfyUI does not answer", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("cpu  ", StringComparison.Ordinal) && l.Contains("GiB"));
    }

    [Fact]
    public void Workers_WithoutGpuReports_IsTheOneTable()
    {
        var text = Tables.Workers([new WorkerInfo { WorkerId = "w", State = "ready" }]);

        Assert.DoesNotContain("GPU", text);
    }

    [Fact]
    public void Job_TaskThatWaitsForAGpu_ShowsWhy()
    {
        var job = new Job { JobId = "j", Tasks = { new VideoGen.Contracts.V1.TaskStatus { TaskId = "chunk-0", State = TaskState.Ready, WaitingReason = "m needs 40 GiB of GPU memory; the largest GPU of a worker serving it has 24 GiB" } } };

        Assert.Contains("waiting: m needs 40 GiB of GPU memory; the largest GPU of a worker serving it has 24 GiB", Tables.Job(job));
    }

    [Fact]
    public void Watch_TaskThatWaitsForAGpu_SaysWhyOnItsLine()
    {
        var line = EventLines.Format(new JobEvent { TaskUpdated = new TaskUpdated { Task = new VideoGen.Contracts.V1.TaskStatus { TaskId = "chunk-0", State = TaskState.Ready, WaitingReason = "no free GPU with 20 GiB of free memory for m yet" } } });

        Assert.EndsWith("chunk-0 ready, waiting: no free GPU with 20 GiB of free memory for m yet", line);
    }
}
