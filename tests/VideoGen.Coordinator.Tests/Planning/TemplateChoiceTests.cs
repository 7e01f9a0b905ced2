using VideoGen.Coordinator.Planning;

namespace VideoGen.Coordinator.Tests.Planning;

/// <summary>The rules choose templates by meaning: word forms, synonyms and phrases, as people write prompts.</summary>
public sealed class TemplateChoiceTests
{
    private static readonly TemplateCatalog Templates = TemplateCatalog.LoadDefault();

    [Theory]
    [InlineData("Announcing our summer collection", "announcement")]
    [InlineData("we're launching a new coffee subscription next week", "announcement")]
    [InlineData("the grand opening of our second bakery", "announcement")]
    [InlineData("a teaser for the album release on Friday", "announcement")]
    [InlineData("Unveiling the 2027 catalogue, save the date", "announcement")]
    [InlineData("promo for our Black Friday discounts", "announcement")]
    [InlineData("introduce our new head of design to customers", "announcement")]
    [InlineData("show off the new noise-cancelling headphones", "product_showcase")]
    [InlineData("featuring the titanium case and sapphire glass of our watch", "product_showcase")]
    [InlineData("highlights of the X200 drone, close up", "product_showcase")]
    [InlineData("a spotlight on our reusable bottle", "product_showcase")]
    [InlineData("showcasing the camera's low-light performance", "product_showcase")]
    [InlineData("friends on a weekend road trip, feeling free", "lifestyle_ad")]
    [InlineData("a morning workout routine for busy runners", "lifestyle_ad")]
    [InlineData("families on vacation by the sea", "lifestyle_ad")]
    [InlineData("the everyday journey of a city cyclist", "lifestyle_ad")]
    [InlineData("something nice", "product_showcase")]
    public void Choose_ByMeaning(string prompt, string expected)
    {
        Assert.Equal(expected, Templates.Choose(prompt).Name);
    }

    [Theory]
    [InlineData("announcing", "announc")]
    [InlineData("announced", "announc")]
    [InlineData("announcement", "announc")]
    [InlineData("launches", "launch")]
    [InlineData("showcasing", "showcas")]
    [InlineData("showcase", "showcas")]
    [InlineData("shopping", "shop")]
    [InlineData("features", "featur")]
    [InlineData("running", "run")]
    [InlineData("bus", "bus")]
    public void Stem_ReducesWordFormsToOneStem(string word, string stem)
    {
        Assert.Equal(stem, PromptText.Stem(word));
    }
}
