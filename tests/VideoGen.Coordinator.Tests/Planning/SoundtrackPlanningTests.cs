using VideoGen.Contracts;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Errors;

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
    public void VoiceoverAndMusic_DependOnNothing_TheMixWaitsForBoth_TheFinishForTheMix_AndMuxesIt()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a watch" });
        var job = new Job { JobId = "j", Plan = plan };
        var graph = TaskGraph.Build(plan);
        var tasks = graph.ToDictionary(t => t.TaskId);

        // First in the task order (placement starts them before the storyboards), ready from the start; the mix right
        // after them, so the first slot freed once both are done goes to it, not to a chunk.
        Assert.Equal([TaskGraph.VoiceoverTaskId, TaskGraph.MusicTaskId, TaskGraph.SoundtrackTaskId], graph.Take(3).Select(t => t.TaskId).ToArray());
        Assert.All(graph.Take(2), t => Assert.Equal((TaskState.Ready, 0), (t.State, t.DependsOn.Count)));
        Assert.Equal((TaskKind.Voiceover, TaskKind.Music), (tasks[TaskGraph.VoiceoverTaskId].Kind, tasks[TaskGraph.MusicTaskId].Kind));
        var mix = tasks[TaskGraph.SoundtrackTaskId];
        Assert.Equal((TaskState.Waiting, TaskKind.Soundtrack), (mix.State, mix.Kind));
        Assert.Equal([TaskGraph.VoiceoverTaskId, TaskGraph.MusicTaskId], mix.DependsOn.ToArray());
        Assert.Equal([TaskGraph.StitchTaskId, TaskGraph.SoundtrackTaskId], tasks[TaskGraph.FinishTaskId].DependsOn.ToArray());

        tasks[TaskGraph.VoiceoverTaskId].OutputUri = "file:///a/voiceover.wav";
        tasks[TaskGraph.MusicTaskId].OutputUri = "file:///a/music.wav";
        var request = TaskGraph.BuildRequest(job, mix, tasks, ModelCatalog.Embedded()).Soundtrack;
        Assert.Equal(30, request.DurationSeconds);
        Assert.Equal(ArtifactKeys.Soundtrack("j"), request.OutputKey);
        Assert.Equal(("file:///a/voiceover.wav", "file:///a/music.wav"), (request.VoiceoverUri, request.MusicUri));
        Assert.Equal(-14, request.Plan.LoudnessLufs);

        mix.OutputUri = "file:///a/soundtrack.m4a";
        tasks[TaskGraph.StitchTaskId].OutputUri = "file:///a/stitched.mp4";
        Assert.Equal("file:///a/soundtrack.m4a", TaskGraph.BuildFinish(job, tasks).SoundtrackUri);
    }

    [Fact]
    public void EmbeddedModels_ByDefault_AreFree()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a watch" });

        Assert.Equal(("espeak-ng", "ffmpeg-bed", 0.0, 0.0),
            (plan.Spec.Soundtrack.VoiceModel, plan.Spec.Soundtrack.MusicModel, plan.Spec.Soundtrack.VoiceCostUsd, plan.Spec.Soundtrack.MusicCostUsd));
        Assert.Equal(0, ChunkPlanner.Cost(plan));
    }

    [Fact]
    public void ConfiguredModels_ArePricedIntoThePlan_PerCharacterAndPerSecond()
    {
        var catalog = ModelCatalog.Embedded();
        var planner = new RuleBasedPlanner(TemplateCatalog.LoadDefault(), catalog, soundtrackModels: new("tts-1", "musicgen"));
        var plan = planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a watch" });

        var characters = plan.Spec.Beats.Sum(b => b.VoiceoverLine.Length);
        Assert.InRange(characters, 50, 400);
        Assert.Equal(("tts-1", "musicgen"), (plan.Spec.Soundtrack.VoiceModel, plan.Spec.Soundtrack.MusicModel));
        Assert.Equal(Math.Round(characters * catalog.Models["tts-1"].PricePerCharacterUsd, 6), plan.Spec.Soundtrack.VoiceCostUsd, 9);
        Assert.Equal(30 * catalog.Models["musicgen"].PricePerSecondUsd, plan.Spec.Soundtrack.MusicCostUsd, 9);
        // The plan's cost (what EstimateJob answers and the budget checks) counts them beside the chunks'.
        Assert.Equal(plan.Chunks.Sum(c => c.CostUsd) + plan.Spec.Soundtrack.VoiceCostUsd + plan.Spec.Soundtrack.MusicCostUsd, ChunkPlanner.Cost(plan), 6);
    }

    [Fact]
    public void VoiceoverAndMusicRequests_CarryTheModelThePriceTheKeyAndTheBeats()
    {
        var catalog = ModelCatalog.Embedded();
        var planner = new RuleBasedPlanner(TemplateCatalog.LoadDefault(), catalog, soundtrackModels: new("tts-1", "musicgen"));
        var plan = planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a watch", Voice = "bright", MusicStyle = "upbeat" });
        var job = new Job { JobId = "j", Plan = plan };
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);

        var voiceover = TaskGraph.BuildRequest(job, tasks[TaskGraph.VoiceoverTaskId], tasks, catalog).Voiceover;
        Assert.Equal(("tts-1", "bright", "jobs/j/voiceover.wav", 30.0), (voiceover.Model, voiceover.Voice, voiceover.OutputKey, voiceover.DurationSeconds));
        Assert.Equal((0.000015, 0.0), (voiceover.PricePerCharacterUsd, voiceover.PricePerSecondUsd));
        Assert.Equal(plan.Spec.Beats.Select(b => (b.StartSeconds, b.LengthSeconds, b.VoiceoverLine)), voiceover.Beats.Select(b => (b.StartSeconds, b.LengthSeconds, b.VoiceoverLine)));

        var music = TaskGraph.BuildRequest(job, tasks[TaskGraph.MusicTaskId], tasks, catalog).Music;
        Assert.Equal(("musicgen", "upbeat", "jobs/j/music.wav", 30.0, 0.002), (music.Model, music.Style, music.OutputKey, music.DurationSeconds, music.PricePerSecondUsd));
        Assert.Equal(plan.Spec.Beats.Select(b => b.StartSeconds), music.BeatStartsSeconds);
        Assert.Equal(plan.Spec.Subject, music.Subject);
    }

    [Fact]
    public void PlanStoredBeforeTheModelsWereRecorded_UsesTheEmbeddedOnes()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 10 second product showcase for a watch" });
        plan.Spec.Soundtrack.VoiceModel = "";
        plan.Spec.Soundtrack.MusicModel = "";
        var job = new Job { JobId = "j", Plan = plan };
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);

        Assert.Equal("espeak-ng", TaskGraph.BuildRequest(job, tasks[TaskGraph.VoiceoverTaskId], tasks, ModelCatalog.Embedded()).Voiceover.Model);
        Assert.Equal("ffmpeg-bed", TaskGraph.BuildRequest(job, tasks[TaskGraph.MusicTaskId], tasks, ModelCatalog.Embedded()).Music.Model);
    }

    [Fact]
    public void ConfiguredModels_OfTheWrongKindOrUnknown_AreRefusedNamingTheKey()
    {
        var failures = SoundtrackPlanner.ValidateModels(new("musicgen", "no-such-model"), ModelCatalog.Embedded());

        Assert.Equal(2, failures.Count);
        Assert.StartsWith("Soundtrack:VoiceModel must name a speech model of the model catalog (espeak-ng, tts-1), got 'musicgen'", failures[0], StringComparison.Ordinal);
        Assert.StartsWith("Soundtrack:MusicModel must name a music model of the model catalog (ffmpeg-bed, musicgen), got 'no-such-model'", failures[1], StringComparison.Ordinal);
        Assert.Empty(SoundtrackPlanner.ValidateModels(SoundtrackModels.Embedded, ModelCatalog.Embedded()));
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
