using VideoGen.Cli.Rendering;
using VideoGen.Contracts.V1;

namespace VideoGen.Cli.Tests;

public class RenderingTests
{
    [Fact]
    public void Estimate_WithAnUpscaler_NamesItsShareOfTheCost_WithoutOne_TheCostAlone()
    {
        var upscaled = new EstimateJobResponse { Plan = new Plan { Finish = new FinishPlan { Upscaler = "real-esrgan-video" } }, CostUsd = 0.7, UpscaleCostUsd = 0.7 };
        var scaled = new EstimateJobResponse { Plan = new Plan { Finish = new FinishPlan() }, CostUsd = 2.7 };

        Assert.Contains("cost       $0.700 (of which upscaler real-esrgan-video $0.700)\n", Tables.Estimate(upscaled).ReplaceLineEndings("\n"));
        Assert.Contains("cost       $2.700\n", Tables.Estimate(scaled).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void EventLines_RunningChunk_ShowsWorkerAttemptAndProgress()
    {
        var line = EventLines.Format(Events.Chunk(12, 3, TaskState.Running, "worker-2", 1, 0.4));

        Assert.Equal("[seq 12] chunk-3 running on worker-2 (attempt 1) 40%", line);
    }

    [Fact]
    public void EventLines_Planned_SummarisesThePlan()
    {
        var line = EventLines.Format(Events.Planned(2, 6));

        Assert.Equal("[seq 2] planned 30.0 s product_showcase: 6 chunks of 5.0 s on wan-2.1-480p, 0 beats, continuity beat, est $1.500", line);
    }

    [Fact]
    public void FinalLine_Succeeded_ShowsDurationAndUri()
    {
        var model = new ProgressModel("job-1");
        model.Apply(Events.State(40, JobState.Succeeded, 1.5, "file:///tmp/final.mp4", 30));

        Assert.Equal("job succeeded 30.0 s -> file:///tmp/final.mp4", EventLines.FinalLine(model));
    }

    [Fact]
    public void FinalLine_Failed_ShowsTheReason()
    {
        var model = new ProgressModel("job-1");
        model.Apply(Events.State(9, JobState.Failed, error: "chunk-2: content policy"));

        Assert.Equal("job failed: chunk-2: content policy", EventLines.FinalLine(model));
    }

    [Fact]
    public void ProgressModel_RepeatedOrOldSequence_IsIgnored()
    {
        var model = new ProgressModel("job-1");

        Assert.True(model.Apply(Events.State(1, JobState.Queued)));
        Assert.True(model.Apply(Events.State(2, JobState.Planning)));
        Assert.False(model.Apply(Events.State(2, JobState.Planning)));
        Assert.False(model.Apply(Events.State(1, JobState.Queued)));
        Assert.Equal(2, model.LastSequence);
        Assert.Equal(JobState.Planning, model.State);
    }

    [Fact]
    public void ProgressModel_TracksTasksCostAndProgress()
    {
        var model = new ProgressModel("job-1");
        model.Apply(Events.Planned(1, 2));
        model.Apply(Events.Chunk(2, 1, TaskState.Running, "worker-1", 1, 0.5));
        model.Apply(Events.Chunk(3, 0, TaskState.Succeeded, "worker-2", 2, 1, jobCost: 0.25));

        Assert.Equal(["chunk-0", "chunk-1"], model.Tasks.Select(t => t.TaskId));
        Assert.Equal(0.25, model.CostUsd);
        // 2 chunks + the stitch: (1 + 0.5 + 0) / 3.
        Assert.Equal(0.5, model.Progress, 3);
    }

    [Fact]
    public void LiveProgressView_ShowsABarPerTaskWithWorkerAndAttempt_AndOneForTheJob()
    {
        var model = new ProgressModel("job-1");
        model.Apply(Events.State(1, JobState.Rendering));
        model.Apply(Events.Chunk(2, 0, TaskState.Running, "worker-2", 3, 0.5));

        var lines = LiveProgressView.Lines(model, TimeSpan.FromSeconds(4.2));

        Assert.Equal(3, lines.Count);
        Assert.StartsWith("job job-1  rendering  cost $0.000  4.2s", lines[0]);
        Assert.Contains("chunk-0", lines[1]);
        Assert.Contains("[############............]", lines[1]);
        Assert.Contains("50%", lines[1]);
        Assert.Contains("running", lines[1]);
        Assert.Contains("worker-2 #3", lines[1]);
        Assert.StartsWith("  job ", lines[2]);
    }

    [Fact]
    public void PlainWatchOutput_WritesOneLinePerEventThenTheFinalLine()
    {
        var output = new StringWriter();
        var watch = new PlainWatchOutput(output, TextWriter.Null);
        var model = new ProgressModel("job-1");
        foreach (var e in new[] { Events.State(1, JobState.Rendering), Events.State(2, JobState.Cancelled) })
        {
            model.Apply(e);
            watch.OnEvent(e, model);
        }
        watch.Complete(model);

        Assert.Equal(
            ["[seq 1] job rendering cost $0.000", "[seq 2] job cancelled cost $0.000", "job cancelled"],
            output.ToString().TrimEnd().Split(Environment.NewLine));
    }

    [Fact]
    public void Names_ParseJobState_AcceptsShortAndProtoNames()
    {
        Assert.Equal(JobState.Succeeded, Names.ParseJobState("succeeded"));
        Assert.Equal(JobState.Failed, Names.ParseJobState("JOB_STATE_FAILED"));
        Assert.Null(Names.ParseJobState("sleeping"));
    }
}
