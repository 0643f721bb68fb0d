// ModelConfig as the one model description: fields it does not model and list-valued token ids survive load and save,
// Resized gives a student's config (head_dim explicit, partial_rotary_factor adjusted), and the parameter count is exact.
using System.Text.Json.Nodes;
using LightGlm.Model;

namespace LightGlm.Tests.Model;

public sealed class ModelConfigTests
{
    /// <summary>A Hugging Face-style GLM config with fields we do not model and list-valued token ids.</summary>
    internal const string HfStyle = """
        {"architectures": ["ChatGLMModel"], "auto_map": {"AutoConfig": "configuration_chatglm.ChatGLMConfig"},
         "model_type": "chatglm", "vocab_size": 40, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "intermediate_size": 24, "partial_rotary_factor": 0.5, "rope_interleaved": true,
         "attention_bias": true, "max_position_embeddings": 64, "torch_dtype": "bfloat16", "layernorm_epsilon": 1e-05,
         "rope_scaling": null, "transformers_version": "4.44.0", "custom": {"nested": [1, 2.50, "x", true, null]},
         "bos_token_id": 1, "eos_token_id": [3, 2, 39], "pad_token_id": [0]}
        """;

    static readonly string[] Modelled = ["model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "intermediate_size", "partial_rotary_factor", "rope_interleaved", "attention_bias", "max_position_embeddings"];

    /// <summary>Every field of <paramref name="teacher"/> but the sizes is in <paramref name="student"/> with the same JSON text.</summary>
    internal static void AssertCarried(JsonObject teacher, JsonObject student, params string[] resized)
    {
        foreach (var (key, value) in teacher)
        {
            if (resized.Contains(key)) continue;
            Assert.True(student.ContainsKey(key), $"{key} is missing from the saved config");
            Assert.Equal(value?.ToJsonString() ?? "null", student[key]?.ToJsonString() ?? "null");
        }
    }

    [Fact]
    public void FieldsItDoesNotModelAndTokenIdListsRoundTripUnchanged()
    {
        var c = ModelConfig.FromJson(HfStyle, "hf.json");
        Assert.Equal((1, 3, 0), (c.BosTokenId, c.EosTokenId, c.PadTokenId)); // the engine's first ids
        Assert.Equal([3, 2, 39], c.EosTokenIds!.Ids);
        var saved = JsonNode.Parse(c.ToJson())!.AsObject();
        AssertCarried(JsonNode.Parse(HfStyle)!.AsObject(), saved);
        Assert.Equal("[0]", saved["pad_token_id"]!.ToJsonString()); // a one-id list stays a list
        Assert.Equal("1", saved["bos_token_id"]!.ToJsonString());    // a number stays a number
        Assert.Equal(c.ToJson(), c.Clone().ToJson());
        Assert.DoesNotContain("architectures", c.ModelJson()); // the modelled fields only: what makes two configs one model
        Assert.Equal(ModelConfig.FromJson(c.ModelJson()).ToJson(), c.ModelJson());
        Assert.Equal(c.ToJson(), ModelConfig.FromJson(c.ToJson()).ToJson());
        // Setting the first id writes one number (the engine's own configs)
        c.EosTokenId = 7;
        Assert.Equal("7", JsonNode.Parse(c.ToJson())!["eos_token_id"]!.ToJsonString());
    }

    [Fact]
    public void EveryIdOfATokenListMustBeInTheVocabulary()
    {
        var json = JsonNode.Parse(HfStyle)!.AsObject();
        json["eos_token_id"] = new JsonArray(3, 40);
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json.ToJsonString(), "hf.json"));
        Assert.Contains("eos_token_id = 40 is outside the vocabulary [0, 40)", e.Message);
    }

    [Fact]
    public void ResizedWritesHeadDimAndTheRotaryFactorAndKeepsEveryOtherField()
    {
        var t = ModelConfig.FromJson(HfStyle); // D = 8, R = 4
        Assert.Equal((8, 4), (t.D, t.R));
        var s = t.Resized(c: 16, l: 1, h: 2, kv: 1, d: 6, f: 12);
        Assert.Equal((16, 1, 2, 1, 6, 12, 4), (s.C, s.L, s.H, s.KV, s.D, s.F, s.R)); // R' = min(R, D')
        Assert.Equal(4 / 6.0, s.PartialRotaryFactor);
        Assert.Equal((2, 2), (t.Resized(d: 2).D, t.Resized(d: 2).R));
        Assert.Equal(0, t.Resized(r: 0).R);
        var saved = JsonNode.Parse(s.ToJson())!.AsObject();
        Assert.Equal(6, (int)saved["head_dim"]!); // always explicit
        AssertCarried(JsonNode.Parse(HfStyle)!.AsObject(), saved,
            "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size", "partial_rotary_factor");
        Assert.Equal(8, t.D); // the teacher is not changed
    }

    [Theory]
    [InlineData(8, 3)] // odd rotary dims: pairs only
    [InlineData(6, 5)]
    public void ResizedRefusesARotarySizeTheFactorCannotExpress(int d, int r)
    {
        var t = ModelConfig.FromJson(HfStyle);
        var e = Assert.Throws<InvalidOperationException>(() => t.Resized(d: d, r: r));
        Assert.Contains($"rotary dims {r} of head_dim {d} cannot be expressed by partial_rotary_factor", e.Message);
    }

    [Fact]
    public void ResizedRefusesAnInvalidStudent()
    {
        var t = ModelConfig.FromJson(HfStyle);
        Assert.Contains("num_key_value_heads = 3", Assert.Throws<InvalidDataException>(() => t.Resized(kv: 3)).Message);
        Assert.Contains("eos_token_id = 39 is outside the vocabulary [0, 20)", Assert.Throws<InvalidDataException>(() => t.Resized(v: 20)).Message);
    }

    [Fact]
    public void TheParameterCountIsTheLayoutsAndCountsTeachersBeyondOneArena()
    {
        foreach (var c in new[] { TinyModels.Llama(), TinyModels.Glm(), ModelConfig.FromJson(HfStyle) })
            foreach (bool tied in new[] { false, true })
            {
                c.TieWordEmbeddings = tied;
                Assert.Equal(ParameterLayout.Build(c).TotalLength, c.ParameterCount());
            }
        // ChatGLM2-6B: more parameters than an int holds, counted exactly (the layout cannot be built for it)
        Assert.Equal(6_243_584_000, LightGlm.Interop.SyntheticCheckpoint.Shape("chatglm2-6b").Config.ParameterCount());
    }
}
