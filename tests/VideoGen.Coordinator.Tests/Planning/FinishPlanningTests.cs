using VideoGen.Contracts;
using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Scheduling;
using VideoGen.Errors;
using TaskStatus = VideoGen.Contracts.V1.TaskStatus;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>The finish step as planned: transitions' overlap in the chunk plan, the finish task and its request, validation.</summary>
public sealed class FinishPlanningTests
{
    private static readonly RuleBasedPlanner Planner = new(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded());

    private static readonly Template Showcase = TemplateCatalog.LoadDefault().Templates["product_showcase"];

    private static Plan PlanFor(double duration, Continuity continuity, string transition = "dissolve", double seconds = 0.5)
    {
        var spec = RuleBasedPlanner.BuildSpec(Showcase, "watch", duration, "request");
        var finish = new FinishPlan { Transition = transition, TransitionSeconds = FinishCatalog.Transitions[transition] ? seconds : 0, WidthPixels = 1280, HeightPixels = 720, Fps = 24, Look = "none", Titles = true };
        return ChunkPlanner.Build(spec, Model, continuity, finish);
    }

    private static readonly ModelSpec Model = new() { Name = "m", ClipSeconds = 5, Fps = 24 };

    /// <summary>
    /// Where the takes' material ends in the final timeline once every transition has consumed its overlap and every
    /// continuous chunk has lost its repeated first frame: each chunk whole but the last, which counts its used part.
    /// </summary>
    private static double FinalLength(Plan plan) =>
        plan.Chunks.Take(plan.Chunks.Count - 1).Sum(c => c.GeneratedSeconds - (c.IsReference ? 0 : 1.0 / 24))
        + plan.Chunks[^1].UsedSeconds - plan.Chunks.Sum(c => c.TransitionInSeconds);

    [Theory]
    [InlineData(30, 0.5)]
    [InlineData(30, 2.0)]
    [InlineData(12, 0.5)]
    [InlineData(47.3, 1.0)]
    [InlineData(600, 0.5)]
    public void Overlap_KeepsTheFinishedLengthExact(double duration, double seconds)
    {
        var plan = PlanFor(duration, Continuity.Beat, "dissolve", seconds);

        Assert.Equal(duration, FinalLength(plan), 3);
        Assert.Equal(duration, plan.Chunks[^1].StartSeconds + plan.Chunks[^1].UsedSeconds, 3);
    }

    [Fact]
    public void Overlap_OnlyAtReferenceChunksAfterTheFirst_NeverInsideATake()
    {
        var plan = PlanFor(30, Continuity.Beat);

        Assert.All(plan.Chunks, c => Assert.Equal(c.IsReference && c.Index > 0 ? 0.5 : 0, c.TransitionInSeconds, 3));
        Assert.Contains(plan.Chunks, c => c.TransitionInSeconds > 0);
        Assert.All(PlanFor(30, Continuity.Strict).Chunks, c => Assert.Equal(0, c.TransitionInSeconds));
    }

    [Fact]
    public void Overlap_NeedsOneMoreChunkWhenTheTakesNoLongerCoverTheDuration()
    {
        // 30 s in 5 s clips is 6 chunks when every chunk starts from a reference and cuts are hard; the dissolves'
        // overlap makes the sixth chunk end before 30 s, and so do the frames continuous chunks repeat.
        Assert.Equal(6, PlanFor(30, Continuity.None, "cut").Chunks.Count);
        Assert.Equal(7, PlanFor(30, Continuity.None).Chunks.Count);
        Assert.Equal(7, PlanFor(30, Continuity.Beat, "cut").Chunks.Count);
    }

    [Fact]
    public void Cut_AddsNoOverlapAndKeepsTheOldPlan()
    {
        var plan = PlanFor(32, Continuity.None, "cut");

        Assert.Equal([0, 5, 10, 15, 20, 25, 30], plan.Chunks.Select(c => c.StartSeconds).ToArray());
        Assert.All(plan.Chunks, c => Assert.Equal(0, c.TransitionInSeconds));
    }

    [Fact]
    public void ContinuousChunk_StartsOneModelFrameEarlier_ItsRepeatedFrameIsDropped()
    {
        // Strict continuity: one take, every chunk after the first continues the one before it.
        var plan = PlanFor(20, Continuity.Strict, "cut");

        var frame = 1.0 / 24;
        Assert.Equal([0, 5, 10 - frame, 15 - 2 * frame, 20 - 3 * frame], plan.Chunks.Select(c => c.StartSeconds).ToArray(), new Tolerance(0.001));
        Assert.Equal(20, plan.Chunks[^1].StartSeconds + plan.Chunks[^1].UsedSeconds, 3);
        Assert.Equal(20, FinalLength(plan), 3);
    }

    [Fact]
    public void EndCard_TheChunksEndWhereItIsFullyIn()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a titanium watch" });

        var card = plan.Finish.EndCard;
        Assert.Equal((2.5, "Titanium watch\nAvailable now", "0F1620"), (card.Seconds, card.Text, card.Background));
        // Video until 27.5 s plus the 0.5 s dissolve the card comes in with.
        Assert.Equal(28, plan.Chunks[^1].StartSeconds + plan.Chunks[^1].UsedSeconds, 3);
        Assert.Null(Planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a titanium watch", EndCard = false }).Finish.EndCard);
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= epsilon;

        public int GetHashCode(double obj) => 0;
    }

    [Fact]
    public void TaskGraph_FinishWaitsForTheStitch_AndEndsTheJob()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 30 second product showcase for a watch" });
        var tasks = TaskGraph.Build(plan);

        var finish = tasks[^1];
        Assert.Equal(TaskKind.Finish, finish.Kind);
        Assert.Equal([TaskGraph.StitchTaskId, TaskGraph.SoundtrackTaskId], finish.DependsOn.ToArray());
        Assert.Equal(TaskGraph.FinishTaskId, TaskGraph.FinalTaskId(plan));
    }

    [Fact]
    public void TaskGraph_PlanWithoutFinish_EndsWithTheStitchIntoTheFinalKey()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a 12 second product showcase for a watch" });
        plan.Finish = null;
        var job = new Job { JobId = "j", Plan = plan };
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);

        Assert.DoesNotContain(tasks.Values, t => t.Kind == TaskKind.Finish);
        Assert.Equal(TaskGraph.StitchTaskId, TaskGraph.FinalTaskId(plan));
        var stitch = TaskGraph.BuildRequest(job, tasks[TaskGraph.StitchTaskId], tasks, ModelCatalog.Embedded()).Stitch;
        Assert.Equal(ArtifactKeys.Final("j"), stitch.OutputKey);
        Assert.Equal(12, stitch.DurationSeconds, 3);
    }

    [Fact]
    public void FinishRequest_CutsAtTakeStartsInTheRawCut_TitlesInsideTheirBeats_Deliverables()
    {
        var request = new JobRequest { Prompt = "a 30 second product showcase for a titanium watch", Resolution = Resolution._1080P, Look = "mono" };
        request.AspectRatios.Add("9:16");
        var plan = Planner.Plan(request);
        var job = new Job { JobId = "j", Plan = plan };
        var tasks = TaskGraph.Build(plan).ToDictionary(t => t.TaskId);
        foreach (var t in tasks.Values)
        {
            t.OutputUri = $"file:///a/{t.TaskId}";
        }

        var stitch = TaskGraph.BuildRequest(job, tasks[TaskGraph.StitchTaskId], tasks, ModelCatalog.Embedded()).Stitch;
        var finish = TaskGraph.BuildRequest(job, tasks[TaskGraph.FinishTaskId], tasks, ModelCatalog.Embedded()).Finish;

        Assert.Equal(ArtifactKeys.Stitched("j"), stitch.OutputKey);
        Assert.Equal(ChunkPlanner.RawSeconds(plan), stitch.DurationSeconds, 3);
        Assert.Equal("file:///a/stitch", finish.VideoUri);
        Assert.Equal(30, finish.DurationSeconds, 3);
        Assert.Equal((1920, 1080, 24), (finish.WidthPixels, finish.HeightPixels, finish.Fps));
        Assert.Equal("mono", finish.Look);
        var references = plan.Chunks.Where(c => c.IsReference && c.Index > 0).ToList();
        Assert.Equal(references.Select(c => c.Index * 5.0), finish.Cuts.Select(c => c.AtSeconds));
        Assert.All(finish.Cuts, c => Assert.Equal(("dissolve", 0.5), (c.Transition, c.Seconds)));
        // Each beat's text shows only while that beat's chunks are on screen, clear of the transitions.
        Assert.Equal(plan.Spec.Beats.Count(b => b.OnScreenText.Length > 0), finish.Titles.Count);
        foreach (var title in finish.Titles)
        {
            var beat = plan.Spec.Beats.Single(b => b.OnScreenText == title.Text);
            var chunks = plan.Chunks.Where(c => c.BeatIndex == beat.Index).ToList();
            var next = plan.Chunks.FirstOrDefault(c => c.Index > chunks[^1].Index);
            Assert.True(title.StartSeconds >= chunks[0].StartSeconds + chunks[0].TransitionInSeconds, $"{title.Text} starts before its take");
            Assert.True(title.EndSeconds <= (next?.StartSeconds ?? 27.5), $"{title.Text} runs into the next take or the end card");
        }

        Assert.Equal("Titanium watch", finish.Titles[0].Text);
        Assert.Equal([("9:16", ArtifactKeys.Deliverable("j", "9:16"))], finish.Deliverables.Select(d => (d.AspectRatio, d.OutputKey)).ToArray());
    }

    [Fact]
    public void Defaults_ComeFromTheTemplate_AndTheCoordinatorResolution()
    {
        var plan = new RuleBasedPlanner(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded(), Resolution._480P)
            .Plan(new JobRequest { Prompt = "a lifestyle ad for running shoes" });

        Assert.Equal("lifestyle_ad", plan.Spec.Template);
        Assert.Equal(("fade_black", 0.5, "warm"), (plan.Finish.Transition, plan.Finish.TransitionSeconds, plan.Finish.Look));
        Assert.Equal((854, 480, Resolution._480P), (plan.Finish.WidthPixels, plan.Finish.HeightPixels, plan.Finish.Resolution));
    }

    [Fact]
    public void RequestOptions_OverrideTheTemplate()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "a lifestyle ad for running shoes", Transition = "zoom", TransitionSeconds = 1, Look = "none" });

        Assert.Equal(("zoom", 1.0, "none"), (plan.Finish.Transition, plan.Finish.TransitionSeconds, plan.Finish.Look));
    }

    public static TheoryData<string, Action<JobRequest>> BadOptions => new()
    {
        { "job.transition", r => r.Transition = "star_wipe" },
        { "job.transition_seconds", r => r.TransitionSeconds = 0 },
        { "job.transition_seconds", r => r.TransitionSeconds = 2.6 },
        { "job.transition_seconds", r => r.TransitionSeconds = double.NaN },
        { "job.look", r => r.Look = "sepia" },
        { "job.resolution", r => r.Resolution = (Resolution)7 },
        { "job.aspect_ratios[0]", r => r.AspectRatios.Add("4:3") },
        { "job.aspect_ratios[1]", r => r.AspectRatios.AddRange(["9:16", "9:16"]) },
        { "job.aspect_ratios", r => r.AspectRatios.AddRange(["9:16", "1:1", "9:16"]) },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadFinishingOption_IsRefusedNamingTheField(string field, Action<JobRequest> change)
    {
        var request = new JobRequest { Prompt = "a product showcase for a watch" };
        change(request);

        var error = Assert.Throws<RequestValidationException>(() => Planner.Plan(request));

        Assert.Contains(error.Violations, v => v.Field == field);
    }

    [Theory]
    [InlineData("{Subject}", "titanium smartwatch", "Titanium smartwatch")]
    [InlineData("Discover {subject}", "a watch", "Discover a watch")]
    [InlineData("", "watch", "")]
    [InlineData("{Subject}", "an extraordinarily long subject name that will never fit one title line", "An extraordinarily long subject")]
    public void OnScreenText_FillsTheSubjectAndFitsOneLine(string template, string subject, string expected)
    {
        var text = RuleBasedPlanner.OnScreenText(template, subject);

        Assert.Equal(expected, text);
        Assert.True(text.Length <= RuleBasedPlanner.MaxOnScreenTextLength);
    }

    [Fact]
    public void Estimate_IncludesTheFinish_GrowingWithResolutionAndDeliverables()
    {
        var model = ModelCatalog.Embedded().Models["procedural-i2v"];
        var at720 = Planner.Plan(new JobRequest { Prompt = "a 30 second showcase for a watch" });
        var at1080 = Planner.Plan(new JobRequest { Prompt = "a 30 second showcase for a watch", Resolution = Resolution._1080P, AspectRatios = { "9:16" } });

        Assert.True(WallTimeEstimator.FinishSeconds(at720) > 0);
        Assert.True(WallTimeEstimator.FinishSeconds(at1080) > WallTimeEstimator.FinishSeconds(at720));
        Assert.True(WallTimeEstimator.Estimate(at1080, model, 0.3, 4) > WallTimeEstimator.Estimate(at720, model, 0.3, 4));
    }
}
