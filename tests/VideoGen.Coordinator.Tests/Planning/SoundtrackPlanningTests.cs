using VideoGen.Contracts;
using VideoGen.Contracts.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>The soundtrack as planned: the script per beat, the request options, the soundtrack task and its request.</summary>
public sealed class SoundtrackPlanningTests
{
    private static readonly RuleBasedPlanner Planner = new(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded());

    [Theory]
    [InlineData("A 30 second product showcase for a titanium smartwatch")]
    [InlineData("Announce our new store opening, 12 seconds")]
    [InlineData("a 6 second lifestyle ad for running shoes")]
    public void Script_HasALinePerBeat_AtMost2point5WordsPerSecond(string prompt)
    {
        var plan = Planner.Plan(new JobRequest { Prompt = prompt });

        Assert.NotNull(plan.Spec.Soundtrack);
        Assert.All(plan.Spec.Beats, beat =>
        {
            var words = beat.VoiceoverLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.InRange(words, 1, Math.Max(1, Math.Floor(beat.LengthSeconds * SoundtrackPlanner.WordsPerSecond)));
        });
        Assert.StartsWith("Introducing the", plan.Spec.Beats[0].VoiceoverLine, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_NarratorWebLoudnessTemplateMusic_OptionsOverride()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a product showcase for a watch" });
        Assert.Equal(("narrator", "cinematic", -14.0), (plan.Spec.Soundtrack.Voice, plan.Spec.Soundtrack.MusicStyle, plan.Spec.Soundtrack.LoudnessLufs));

        var asked = Planner.Plan(new JobRequest { Prompt = "a product showcase for a watch", Voice = "warm", MusicStyle = "upbeat", LoudnessTarget = "broadcast" });
        Assert.Equal(("warm", "upbeat", -23.0), (asked.Spec.Soundtrack.Voice, asked.Spec.Soundtrack.MusicStyle, asked.Spec.Soundtrack.LoudnessLufs));
    }

    [Fact]
    public void AudioOff_NoSoundtrackNoTask_FinishHasNoSoundtrackUri()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 10 second product showcase for a watch", Audio = false });
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);

        Assert.Null(plan.Spec.Soundtrack);
        Assert.DoesNotContain(TaskGraph.SoundtrackTaskId, tasks.Keys);
        Assert.Equal("", TaskGraph.BuildFinish(new Job { JobId = "j", Plan = plan }, tasks).SoundtrackUri);
    }

    [Fact]
    public void SoundtrackTask_DependsOnNothing_FinishWaitsForIt_AndMuxesItsOutput()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a watch" });
        var job = new Job { JobId = "j", Plan = plan };
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);

        var soundtrack = tasks[TaskGraph.SoundtrackTaskId];
        Assert.Empty(soundtrack.DependsOn);
        Assert.Equal(TaskState.Ready, soundtrack.State);
        Assert.Contains(TaskGraph.SoundtrackTaskId, tasks[TaskGraph.FinishTaskId].DependsOn);

        var request = TaskGraph.BuildRequest(job, soundtrack, tasks, ModelCatalog.Embedded()).Soundtrack;
        Assert.Equal(30, request.DurationSeconds);
        Assert.Equal(ArtifactKeys.Soundtrack("j"), request.OutputKey);
        Assert.Equal(plan.Spec.Beats.Select(b => b.VoiceoverLine), request.Beats.Select(b => b.VoiceoverLine));

        soundtrack.OutputUri = "file:///a/soundtrack.m4a";
        tasks[TaskGraph.StitchTaskId].OutputUri = "file:///a/stitched.mp4";
        Assert.Equal("file:///a/soundtrack.m4a", TaskGraph.BuildFinish(job, tasks).SoundtrackUri);
    }

    public static TheoryData<string, Action<JobRequest>> BadOptions => new()
    {
        { "job.voice", r => r.Voice = "robot" },
        { "job.music_style", r => r.MusicStyle = "polka" },
        { "job.loudness_target", r => r.LoudnessTarget = "-16" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadAudioOption_IsRefusedNamingTheField(string field, Action<JobRequest> change)
    {
        var request = new JobRequest { Prompt = "a product showcase for a watch" };
        change(request);

        var error = Assert.Throws<RequestValidationException>(() => Planner.Plan(request));

        Assert.Contains(error.Violations, v => v.Field == field);
    }
}
