// One config validation on every load path (issue 18, class 2): an unsupported hidden_act is refused by name whether
// the directory is imported, exported, trained from or loaded with --model; absurd sizes are refused before any
// allocation with the memory they would need; a field of the wrong JSON kind is named with what was expected.
using System.Text.Json.Nodes;
using LightGlm.Interop;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Training;

namespace LightGlm.Tests.Model;

public sealed class ConfigValidationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-cfgval-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>A saved tiny model whose config.json then gets <paramref name="field"/> = <paramref name="value"/>.</summary>
    string ModelWith(string field, JsonNode? value)
    {
        string dir = Path.Combine(_dir, "m" + Guid.NewGuid().ToString("N")[..6]);
        ModelDirectory.Save(GlmModel.Create(TinyModels.Llama(), seed: 3), dir);
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        cfg["model_type"] = "lightglm";
        cfg[field] = value;
        File.WriteAllText(Path.Combine(dir, "config.json"), cfg.ToJsonString());
        return dir;
    }

    [Fact]
    public void AnUnsupportedHiddenActIsRefusedOnEveryLoadPath()
    {
        string dir = ModelWith("hidden_act", "gelu");
        string cfg = Path.Combine(dir, "config.json");
        // --model (generate, translate, eval, serve, prune, distill, bench): it used to run as SiLU
        Assert.Contains("hidden_act = 'gelu'", Assert.Throws<InvalidDataException>(() => ModelDirectory.Load(dir)).Message);
        // export (the contract config read by interop)
        Assert.Contains("hidden_act = 'gelu'", Assert.Throws<InvalidDataException>(() => ModelConfig.Load(cfg)).Message);
        // train from a run config's "model" section
        File.WriteAllText(Path.Combine(_dir, "t.txt"), "some text\n");
        File.WriteAllText(Path.Combine(_dir, "run.json"), """
            {"model": {"model_type": "lightglm", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
             "intermediate_size": 8, "hidden_act": "relu"}, "data": {"train": ["t.txt"]}, "steps": 1}
            """);
        Assert.Contains("hidden_act = 'relu'", Assert.Throws<InvalidDataException>(() => RunConfig.Load(Path.Combine(_dir, "run.json"))).Message);
        // import of an HF llama directory (the path that already refused it)
        var hf = new JsonObject { ["model_type"] = "llama", ["architectures"] = new JsonArray("LlamaForCausalLM"), ["hidden_act"] = "gelu_new" };
        Assert.Contains("hidden_act", Assert.Throws<InvalidDataException>(() => ConfigTranslation.FromHf(hf, "hf/config.json")).Message);
        // the CLI: a user error (exit 2), not a run with the wrong activation
        Assert.Equal(2, LightGlm.Cli.CliHost.Run(["translate", "--model", dir, "hello"]));
        // silu, given explicitly, is fine
        Assert.NotNull(ModelDirectory.Load(ModelWith("hidden_act", "silu")));
    }

    [Theory]
    [InlineData("num_hidden_layers", 2147483647, "parameters")]
    [InlineData("hidden_size", 1 << 30, "parameters")]
    [InlineData("vocab_size", 2000000000, "parameters")]
    [InlineData("intermediate_size", 2147483647, "parameters")]
    [InlineData("max_position_embeddings", 2147483647, "rotary table")]
    public void AbsurdSizesAreRefusedBeforeAllocatingWithTheMemoryNeeded(string field, int value, string expected)
    {
        var json = JsonNode.Parse(TinyModels.Llama().ToJson())!.AsObject();
        json[field] = value;
        if (field == "hidden_size") { json["num_attention_heads"] = 1 << 10; json["num_key_value_heads"] = 1 << 10; }
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json.ToJsonString(), "big.json"));
        Assert.Contains("big.json", e.Message);
        Assert.Contains(field + " = " + value, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Matches(@"\d(\.\d)? (GB|TB)", e.Message);
    }

    [Fact]
    public void AModelLargerThanMemoryIsRefusedSayingHowMuchItNeeds()
    {
        var c = TinyModels.Llama(vocab: 32000);
        c.HiddenSize = 1024; c.NumAttentionHeads = 8; c.NumKeyValueHeads = 8; c.IntermediateSize = 4096; c.NumHiddenLayers = 8;
        var e = Assert.Throws<InvalidDataException>(() => c.CheckFitsInMemory(available: 100_000_000, "m/config.json"));
        Assert.Contains("m/config.json", e.Message);
        Assert.Matches(@"needs \d+(\.\d)? MB of memory", e.Message);
        Assert.Contains("100 MB available", e.Message);
        c.CheckFitsInMemory(available: 2_000_000_000);
    }

    [Theory]
    [InlineData("hidden_size", "\"16\"", "hidden_size: expected an integer", "found a string \"16\"")]
    [InlineData("num_hidden_layers", "1.5", "num_hidden_layers: expected an integer", "found the number 1.5")]
    [InlineData("num_hidden_layers", "4294967296", "num_hidden_layers: expected an integer", "found the number 4294967296")]
    [InlineData("rope_theta", "\"1e4\"", "rope_theta: expected a finite number", "found a string")]
    [InlineData("rope_interleaved", "\"yes\"", "rope_interleaved: expected true or false", "found a string \"yes\"")]
    [InlineData("model_type", "5", "model_type: expected a string", "found the number 5")]
    [InlineData("eos_token_id", "\"2\"", "eos_token_id: expected an integer token id", "found a string")]
    [InlineData("eos_token_id", "[1, \"x\"]", "eos_token_id: expected an integer token id", "found an array")]
    [InlineData("pad_token_id", "[0, 1.5]", "pad_token_id: expected an integer token id", "found an array")]
    [InlineData("bos_token_id", "true", "bos_token_id: expected an integer token id", "found the boolean true")]
    [InlineData("vocab_size", "null", "vocab_size: expected a value", "found null")]
    [InlineData("intermediate_size", "{}", "intermediate_size: expected an integer", "found an object")]
    public void AFieldOfTheWrongJsonKindIsNamed(string field, string value, string expected, string found)
    {
        var json = JsonNode.Parse(TinyModels.Llama().ToJson())!.AsObject();
        json[field] = JsonNode.Parse(value);
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json.ToJsonString(), "k.json"));
        Assert.Contains("k.json", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains(found, e.Message);
        Assert.Contains("expected a JSON object of model fields, found array",
            Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson("[1]", "a.json")).Message);
    }

    [Fact]
    public void TheParameterEstimateEqualsTheLayout()
    {
        foreach (var c in new[] { TinyModels.Llama(), TinyModels.Glm() })
            foreach (bool tied in new[] { false, true })
            {
                c.TieWordEmbeddings = tied;
                Assert.Equal(ParameterLayout.Build(c).TotalLength, c.ParameterEstimate());
            }
    }
}
