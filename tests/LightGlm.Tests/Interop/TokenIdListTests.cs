// List-valued token ids (GLM-4's eos_token_id: [2, 7, 8], as LLaMA-3's and Qwen2's instruct configs): import keeps the
// whole list in our config, export writes it back from the config, and a directory imported before (the list only in
// imported_from.token_ids) reads as the list.
using System.Text.Json.Nodes;
using LightGlm.Interop;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Tests.Interop;

public sealed class TokenIdListTests
{
    static JsonObject Json(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public void ImportKeepsTheListInTheConfig()
    {
        using var tmp = HfGolden.Temp();
        HfImporter.Import(HfGolden.DirOf("glm4"), tmp.Sub("ours"));
        var c = ModelConfig.Load(Path.Combine(tmp.Sub("ours"), "config.json"));
        Assert.Equal([2, 7, 8], c.EosTokenIds!.Ids);
        Assert.True(c.EosTokenIds.IsList);
        Assert.Equal(2, c.EosTokenId);
        Assert.Equal([2], c.PadTokenIds!.Ids);
        Assert.False(c.PadTokenIds.IsList); // a number stays a number
        var raw = Json(Path.Combine(tmp.Sub("ours"), "config.json"));
        Assert.Equal("[2,7,8]", raw["eos_token_id"]!.ToJsonString());
        Assert.Null(raw["imported_from"]!["token_ids"]); // the config itself holds the list now
    }

    [Theory]
    [InlineData("glm4", "hf-chatglm")]
    [InlineData("llama", "hf-llama")]
    [InlineData("qwen2", "hf-qwen2")]
    public void ExportRoundTripGivesTheOriginalIds(string name, string format)
    {
        using var tmp = HfGolden.Temp();
        HfImporter.Import(HfGolden.DirOf(name), tmp.Sub("ours"));
        HfExporter.Export(tmp.Sub("ours"), HfArchitectures.ParseFormat(format), tmp.Sub("hf"));
        var source = Json(Path.Combine(HfGolden.DirOf(name), "config.json"));
        var exported = Json(Path.Combine(tmp.Sub("hf"), "config.json"));
        foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
            Assert.Equal(source[key]?.ToJsonString(), exported[key]?.ToJsonString());
    }

    /// <summary>A directory imported before this change: eos_token_id 2 in the config, [2, 7, 8] only in imported_from.</summary>
    static string LegacyImport(HfGolden.TempDir tmp, int eos)
    {
        HfImporter.Import(HfGolden.DirOf("glm4"), tmp.Sub("old"));
        string path = Path.Combine(tmp.Sub("old"), "config.json");
        var raw = Json(path);
        raw["eos_token_id"] = eos;
        raw["imported_from"]!["token_ids"] = new JsonObject { ["eos_token_id"] = new JsonArray(2, 7, 8), ["pad_token_id"] = 2 };
        File.WriteAllText(path, raw.ToJsonString());
        return tmp.Sub("old");
    }

    [Fact]
    public void AnOldImportReadsItsListFromImportedFrom()
    {
        using var tmp = HfGolden.Temp();
        string dir = LegacyImport(tmp, eos: 2);
        var c = ModelConfig.Load(Path.Combine(dir, "config.json"));
        Assert.Equal([2, 7, 8], c.EosTokenIds!.Ids);
        using (var w = MappedWeights.Open(dir)) Assert.Equal([2, 7, 8], w.Config.EosTokenIds!.Ids);
        HfExporter.Export(dir, HfArchitecture.ChatGlm, tmp.Sub("hf"));
        Assert.Equal("[2,7,8]", Json(Path.Combine(tmp.Sub("hf"), "config.json"))["eos_token_id"]!.ToJsonString());
    }

    [Fact]
    public void AStaleListIsNotTakenBack()
    {   // the config's id was renumbered since (vocab-prune): the note no longer describes this vocabulary
        using var tmp = HfGolden.Temp();
        string dir = LegacyImport(tmp, eos: 5);
        var c = ModelConfig.Load(Path.Combine(dir, "config.json"));
        Assert.Equal([5], c.EosTokenIds!.Ids);
        Assert.False(c.EosTokenIds.IsList);
    }
}
