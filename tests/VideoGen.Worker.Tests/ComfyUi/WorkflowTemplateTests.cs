using System.Text.Json.Nodes;
using VideoGen.Catalog;
using VideoGen.Worker.Models.ComfyUi;

namespace VideoGen.Worker.Tests.ComfyUi;

/// <summary>Workflows are data: placeholders filled by name and type, bad files refused at load.</summary>
public sealed class WorkflowTemplateTests
{
    private static readonly WorkflowValues Values = new("a watch on a desk", "blurry", "start.png", "end.png", 42, 81, 16, 832, 480);

    [Fact]
    public void Fill_WholeValuePlaceholders_TakeTypedValues_AndInlineOnesTheirText()
    {
        var template = WorkflowTemplate.Parse("t.json", """
            {
              "1": { "class_type": "KSampler", "inputs": { "seed": "{{seed}}", "steps": 20, "model": ["2", 0] } },
              "2": { "class_type": "WanImageToVideo", "inputs": { "width": "{{width}}", "height": "{{height}}", "length": "{{frames}}" } },
              "3": { "class_type": "CLIPTextEncode", "inputs": { "text": "cinematic, {{prompt}}, {{fps}} fps" } },
              "4": { "class_type": "LoadImage", "inputs": { "image": "{{image}}" } },
              "5": { "class_type": "SaveVideo", "inputs": { "filename_prefix": "out" } }
            }
            """, "5");

        var filled = template.Fill(Values);

        Assert.Equal(42L, filled["1"]!["inputs"]!["seed"]!.GetValue<long>());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, JsonValueKindOf(filled["1"]!["inputs"]!["seed"]));
        Assert.Equal((832, 480, 81), (filled["2"]!["inputs"]!["width"]!.GetValue<int>(), filled["2"]!["inputs"]!["height"]!.GetValue<int>(), filled["2"]!["inputs"]!["length"]!.GetValue<int>()));
        Assert.Equal("cinematic, a watch on a desk, 16 fps", filled["3"]!["inputs"]!["text"]!.GetValue<string>());
        Assert.Equal("start.png", filled["4"]!["inputs"]!["image"]!.GetValue<string>());
        Assert.Equal("[\"2\",0]", filled["1"]!["inputs"]!["model"]!.ToJsonString()); // links untouched
        Assert.Equal(new HashSet<string> { "seed", "width", "height", "frames", "prompt", "fps", "image" }, template.Placeholders);
    }

    [Fact]
    public void Fill_LeavesTheTemplateUnchanged_SoEveryChunkStartsFromTheFile()
    {
        var template = WorkflowTemplate.Parse("t.json", """{ "1": { "class_type": "KSampler", "inputs": { "seed": "{{seed}}" } } }""", "1");

        template.Fill(Values);
        var second = template.Fill(Values with { Seed = 7 });

        Assert.Equal(7L, second["1"]!["inputs"]!["seed"]!.GetValue<long>());
    }

    [Fact]
    public void Fill_PlaceholderTheChunkLacks_ThrowsNamingIt()
    {
        var template = WorkflowTemplate.Parse("flf.json", """{ "1": { "class_type": "LoadImage", "inputs": { "image": "{{end_image}}" } } }""", "1");

        var error = Assert.Throws<ArgumentException>(() => template.Fill(Values with { EndImage = null }));

        Assert.Contains("{{end_image}}", error.Message);
        Assert.Contains("flf.json", error.Message);
    }

    [Theory]
    [InlineData("""{ "1": { "class_type": "X", "inputs": { "a": "{{colour}}" } } }""", "1", "unknown placeholder {{colour}}")]
    [InlineData("""{ "1": { "class_type": "X", "inputs": {} } }""", "9", "output node '9'")]
    [InlineData("""{ "1": { "inputs": {} } }""", "1", "Save (API format)")]
    [InlineData("""{ "1": """, "1", "not valid JSON")]
    public void Parse_BadWorkflow_IsRefusedWithTheReason(string json, string outputNode, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => WorkflowTemplate.Parse("bad.json", json, outputNode));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void EveryCatalogWorkflow_Loads_WithItsOutputNode_AndFillsForItsModel()
    {
        var catalog = ModelCatalog.Embedded();
        var workflows = catalog.Models.Values.Where(m => m.Provider == ComfyUiModelProvider.ProviderName).ToList();
        Assert.NotEmpty(workflows);
        foreach (var spec in workflows)
        {
            var template = WorkflowTemplate.Load(Path.Combine(AppContext.BaseDirectory, "workflows", spec.Workflow), spec.OutputNode);
            var filled = template.Fill(Values with { Frames = spec.FramesPerClip, Fps = spec.Fps });
            Assert.Contains("image", template.Placeholders);
            Assert.DoesNotContain("{{", filled.ToJsonString());
            Assert.True(spec.VramGb > 0, $"{spec.Name} names no VRAM need");
            Assert.Equal(81, spec.FramesPerClip);
        }
    }

    private static System.Text.Json.JsonValueKind JsonValueKindOf(JsonNode? node) => node!.GetValueKind();
}
