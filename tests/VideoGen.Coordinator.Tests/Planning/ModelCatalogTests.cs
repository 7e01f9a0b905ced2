using System.Text;
using VideoGen.Catalog;

namespace VideoGen.Coordinator.Tests.Planning;

public sealed class ModelCatalogTests
{
    private static ModelCatalog Load(string json) => ModelCatalog.Load(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void CatalogFile_WithVideoModelsOnly_GetsTheEmbeddedSpeechAndMusicModels()
    {
        var file = Load("""{ "defaultModel": "m", "models": [ { "name": "m", "provider": "replicate", "kind": "video", "pricePerSecondUsd": 0.05 } ] }""");

        var catalog = ModelCatalog.WithBuiltIns(file);

        Assert.Equal("speech", catalog.Models[ModelCatalog.EmbeddedSpeechModel].Kind);
        Assert.Equal("music", catalog.Models[ModelCatalog.EmbeddedMusicModel].Kind);
        Assert.Equal(0.05, catalog.Models["m"].PricePerSecondUsd);
        Assert.Equal("m", catalog.DefaultModel);
    }

    [Fact]
    public void CatalogFile_ThatNamesABuiltIn_Wins()
    {
        var file = Load("""{ "defaultModel": "m", "models": [ { "name": "m", "kind": "video" }, { "name": "espeak-ng", "provider": "procedural", "kind": "speech", "pricePerSecondUsd": 0.5 } ] }""");

        var catalog = ModelCatalog.WithBuiltIns(file);

        Assert.Equal(0.5, catalog.Models[ModelCatalog.EmbeddedSpeechModel].PricePerSecondUsd);
        Assert.Equal("music", catalog.Models[ModelCatalog.EmbeddedMusicModel].Kind);
    }
}
