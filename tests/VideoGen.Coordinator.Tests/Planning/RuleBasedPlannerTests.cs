using VideoGen.Catalog;
using VideoGen.Contracts.V1;
using VideoGen.Coordinator.Planning;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Planning;

public sealed class RuleBasedPlannerTests
{
    private static readonly RuleBasedPlanner Planner = new(TemplateCatalog.LoadDefault(), ModelCatalog.Embedded());

    // prompt, expected duration, expected template, expected chunks on the 5 s procedural model
    [Theory]
    [InlineData("A 30 second product showcase for a titanium smartwatch", 30, "product_showcase", 6)]
    [InlineData("Make a 45 second lifestyle ad for running shoes", 45, "lifestyle_ad", 9)]
    [InlineData("Announce our new store opening, 12 seconds", 12, "announcement", 3)]
    [InlineData("a 45-second spot for a coffee brand lifestyle", 45, "lifestyle_ad", 9)]
    [InlineData("product video for wireless headphones, 30s", 30, "product_showcase", 6)]
    [InlineData("half a minute showcase of our new phone", 30, "product_showcase", 6)]
    [InlineData("1 minute lifestyle film about summer travel", 60, "lifestyle_ad", 12)]
    [InlineData("90 sec product showcase for a camera", 90, "product_showcase", 18)]
    [InlineData("A 1.5 minute product demo of a drone", 90, "product_showcase", 18)]
    [InlineData("thirty seconds of people running at sunrise", 30, "lifestyle_ad", 6)]
    [InlineData("twenty-five second announcement of our grand opening", 25, "announcement", 5)]
    [InlineData("Announcing a summer sale", 15, "announcement", 3)]
    [InlineData("A showcase for a titanium smartwatch", 30, "product_showcase", 6)]
    [InlineData("lifestyle ad for running shoes", 30, "lifestyle_ad", 6)]
    [InlineData("a minute and a half of friends at a coffee shop", 90, "lifestyle_ad", 18)]
    [InlineData("a one minute product showcase for a laptop", 60, "product_showcase", 12)]
    [InlineData("10s teaser announcing an event", 10, "announcement", 2)]
    [InlineData("32 second product showcase for a smartwatch", 32, "product_showcase", 7)]
    [InlineData("an 8 second announcement: new store opening", 8, "announcement", 2)]
    [InlineData("7 seconds product feature video for earbuds", 7, "product_showcase", 2)]
    [InlineData("2 minutes lifestyle travel film", 120, "lifestyle_ad", 24)]
    [InlineData("A 5 second gadget showcase", 5, "product_showcase", 1)]
    [InlineData("15-sec announcement for our grand opening", 15, "announcement", 3)]
    [InlineData("20 secs of an outdoor adventure lifestyle", 20, "lifestyle_ad", 4)]
    [InlineData("Create a 600 second product showcase", 600, "product_showcase", 120)]
    [InlineData("show a titanium smartwatch", 30, "product_showcase", 6)]
    [InlineData("a 3 min showcase for headphones", 180, "product_showcase", 36)]
    [InlineData("new store opening news in 18 seconds", 18, "announcement", 4)]
    [InlineData("a forty second lifestyle ad for a fitness tracker", 40, "lifestyle_ad", 8)]
    [InlineData("sixty second showcase of a camera", 60, "product_showcase", 12)]
    // The phrasings in other places and forms.
    [InlineData("A product showcase for a smartwatch, 30 seconds", 30, "product_showcase", 6)]
    [InlineData("30s product demo for a phone", 30, "product_showcase", 6)]
    [InlineData("a 45-second spot about morning coffee with friends", 45, "lifestyle_ad", 9)]
    [InlineData("a half-minute lifestyle ad about friends", 30, "lifestyle_ad", 6)]
    [InlineData("Make it 1 minute: a showcase of headphones", 60, "product_showcase", 12)]
    [InlineData("a 1-minute product demo of a drone", 60, "product_showcase", 12)]
    [InlineData("90 sec lifestyle spot for a coffee brand", 90, "lifestyle_ad", 18)]
    [InlineData("30-sec teaser for the new store opening", 30, "announcement", 6)]
    [InlineData("In 12 seconds, announce the grand opening", 12, "announcement", 3)]
    [InlineData("A 12.5 second announcement for our summer sale", 12.5, "announcement", 3)]
    [InlineData("2.5 minutes of outdoor adventure travel", 150, "lifestyle_ad", 30)]
    [InlineData("Galaxy S24 phone showcase, 20 seconds", 20, "product_showcase", 4)]
    public void Plan_Prompt_PinsDurationTemplateAndChunkCount(string prompt, double duration, string template, int chunks)
    {
        // The model's arithmetic alone: hard cuts, no end card, every chunk from a reference (FinishPlanningTests covers what
        // transitions, end cards and the continuous chunks' repeated frame add).
        var plan = Planner.Plan(new JobRequest { Prompt = prompt, Transition = "cut", EndCard = false, Continuity = Continuity.None });

        Assert.Equal(duration, plan.Spec.DurationSeconds, 3);
        Assert.Equal(template, plan.Spec.Template);
        Assert.Equal(chunks, plan.Chunks.Count);
        Assert.Equal(duration, plan.Spec.Beats.Sum(b => b.LengthSeconds), 3);
        Assert.Equal(duration, plan.Chunks.Sum(c => c.UsedSeconds), 3); // the final cut is exactly the duration
    }

    [Fact]
    public void Plan_ExplicitDuration_BeatsThePromptsDuration()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "A 30 second product showcase for a titanium smartwatch", DurationSeconds = 12, Transition = "cut", EndCard = false, Continuity = Continuity.None });

        Assert.Equal(12, plan.Spec.DurationSeconds);
        Assert.Equal("request", plan.Spec.DurationSource);
        Assert.Equal(3, plan.Chunks.Count);
        Assert.Equal(2, plan.Chunks[^1].UsedSeconds, 3);
    }

    [Fact]
    public void Plan_DurationInPrompt_IsRecordedAsPromptSource()
    {
        var plan = Planner.Plan(new JobRequest { Prompt = "A 30 second product showcase for a titanium smartwatch" });

        Assert.Equal("prompt", plan.Spec.DurationSource);
        Assert.Equal("titanium smartwatch", plan.Spec.Subject);
        Assert.Equal("rules", plan.Spec.Planner);
    }

    [Theory]
    [InlineData("", null, "", "", 0, "job.prompt")]
    [InlineData("   ", null, "", "", 0, "job.prompt")]
    [InlineData("a showcase", 0.0, "", "", 0, "job.duration_seconds")]
    [InlineData("a showcase", -5.0, "", "", 0, "job.duration_seconds")]
    [InlineData("a showcase", 601.0, "", "", 0, "job.duration_seconds")]
    [InlineData("a showcase", null, "cooking_show", "", 0, "job.template")]
    [InlineData("a showcase", null, "", "sora-9000", 0, "job.model")]
    [InlineData("a showcase", null, "", "procedural-image", 0, "job.model")]
    [InlineData("a showcase", null, "", "", 42, "job.continuity")]
    [InlineData("a 700 second showcase", null, "", "", 0, "job.prompt")]
    [InlineData("a showcase", 1e9, "", "", 0, "job.duration_seconds")]
    [InlineData("a showcase", double.NaN, "", "", 0, "job.duration_seconds")]
    [InlineData("a showcase", double.PositiveInfinity, "", "", 0, "job.duration_seconds")]
    [InlineData("a 3 hour showcase, 90000 seconds", null, "", "", 0, "job.prompt")]
    [InlineData("a showcase", null, "", "", -1, "job.continuity")]
    public void Plan_BadInput_NamesTheField(string prompt, double? duration, string template, string model, int continuity, string field)
    {
        var request = new JobRequest { Prompt = prompt, Template = template, Model = model, Continuity = (Continuity)continuity };
        if (duration is { } d)
        {
            request.DurationSeconds = d;
        }

        var error = Assert.Throws<RequestValidationException>(() => Planner.Plan(request));

        Assert.Contains(error.Violations, v => v.Field == field);
    }

    [Theory]
    [InlineData("A 10 second announcement", "announcement")]
    [InlineData("Make a 45 second lifestyle ad for running shoes", "running shoes")]
    [InlineData("a product showcase of our new phone, 20 seconds", "new phone")]
    public void ExtractSubject_DropsArticlesVerbsAndTheDuration(string prompt, string subject)
    {
        Assert.Equal(subject, RuleBasedPlanner.ExtractSubject(prompt, DurationParser.Find(prompt)?.Text));
    }

    [Fact]
    public void Plan_PromptOverTheLimit_IsRefused()
    {
        var error = Assert.Throws<RequestValidationException>(() => Planner.Plan(new JobRequest { Prompt = new string('x', 10_000) }));

        Assert.Equal("job.prompt", Assert.Single(error.Violations).Field);
    }

    [Fact]
    public void TemplateCatalog_ListsEveryTemplateFile()
    {
        Assert.Equal(["announcement", "lifestyle_ad", "product_showcase"], Planner.Templates.Templates.Keys.Order().ToArray());
    }

    [Theory]
    [InlineData("acme", true)]
    [InlineData("a", true)]
    [InlineData("team-7_x", true)]
    [InlineData("Acme", false)]
    [InlineData("-acme", false)]
    [InlineData("_acme", false)]
    [InlineData("ac me", false)]
    [InlineData("acme\n", false)]
    [InlineData("ac\0me", false)]
    [InlineData("../acme", false)]
    [InlineData("acmé", false)]
    public void TenantNames_AreLowercaseLettersDigitsDashAndUnderscore(string tenant, bool valid)
    {
        Assert.Equal(valid, PlanningLimits.IsTenantName(tenant));
        var request = new JobRequest { Prompt = "a 10 second showcase for a watch", Tenant = tenant };
        if (valid)
        {
            Planner.Plan(request);
        }
        else
        {
            Assert.Contains(Assert.Throws<RequestValidationException>(() => Planner.Plan(request)).Violations, v => v.Field == "job.tenant");
        }

        Assert.False(PlanningLimits.IsTenantName(new string('a', 65)));
    }

    [Theory]
    [InlineData("\0\0\0")]
    [InlineData("\u200B\u200B")]
    [InlineData("watch\u0007 showcase")]
    public void Prompt_NeedsVisibleCharacters_AndNoControlCharacters(string prompt)
    {
        var error = Assert.Throws<RequestValidationException>(() => Planner.Plan(new JobRequest { Prompt = prompt }));
        Assert.Contains(error.Violations, v => v.Field == "job.prompt");
    }

    [Theory]
    [InlineData(1e-300)]
    [InlineData(0.04)]
    public void Duration_IsAtLeastOneFrameOfTheModel(double seconds)
    {
        var error = Assert.Throws<RequestValidationException>(() => Planner.Plan(new JobRequest { Prompt = "a showcase for a watch", DurationSeconds = seconds }));
        Assert.Contains(error.Violations, v => v.Field == "job.duration_seconds");
        Planner.Plan(new JobRequest { Prompt = "a showcase for a watch", DurationSeconds = 1.0 / 24 });
    }
}
