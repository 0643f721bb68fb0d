// A student's config.json is its teacher's with the sizes changed: every field the engine does not model (Hugging Face
// keys, auto_map, ...) and the list-valued token ids come through structured pruning, in memory and streamed, unchanged.
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Tests.Model;

namespace LightGlm.Tests.Compression;

public class StudentConfigTests
{
    /// <summary>Fields of a Hugging Face GLM config that ModelConfig does not model, and bos/eos/pad as HF writes them.</summary>
    const string Extras = """
        , "architectures": ["ChatGLMModel"], "auto_map": {"AutoConfig": "configuration_chatglm.ChatGLMConfig", "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration"},
          "torch_dtype": "bfloat16", "layernorm_epsilon": 1e-05, "rope_scaling": null, "transformers_version": "4.44.0",
          "custom": {"nested": [1, 2.50, "x", true, null]}, "bos_token_id": 1, "eos_token_id": [3, 2, 36], "pad_token_id": [0]}
        """;

    static readonly string[] Sizes = ["hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
        "intermediate_size", "partial_rotary_factor"];

    [Fact]
    public void APrunedStudentKeepsEveryOtherFieldOfItsTeachersConfig()
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            string tDir = Path.Combine(dir, "t"), teacherConfig = Path.Combine(tDir, "config.json");
            TinyTeacher.Create(glm: true, seed: 12).Save(tDir);
            string text = File.ReadAllText(teacherConfig).TrimEnd().TrimEnd('}') + Extras; // the teacher's config.json as HF writes it
            File.WriteAllText(teacherConfig, text);
            var raw = JsonNode.Parse(text)!.AsObject();

            var teacher = ModelFiles.Load(tDir);
            Assert.Equal([3, 2, 36], teacher.Config.EosTokenIds!.Ids);
            var plan = PlanBuilder.Build(teacher.Config, WeightImportance.Magnitude(teacher), new PruningTargets { Layers = 2, HeadDim = 4, Ffn = 10, Hidden = 16 });
            StructuredPruner.Prune(teacher, plan).Save(Path.Combine(dir, "s"));
            using (var mapped = MappedTeacher.Open(tDir))
                StructuredPruner.PruneTo(mapped, ResolvedPlan.Resolve(plan, mapped.Config), Path.Combine(dir, "streamed"));
            foreach (var student in new[] { "s", "streamed" })
            {
                var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, student, "config.json")))!.AsObject();
                ModelConfigTests.AssertCarried(raw, saved, Sizes);
                Assert.Equal("[3,2,36]", saved["eos_token_id"]!.ToJsonString());
                Assert.Equal("[0]", saved["pad_token_id"]!.ToJsonString());
                Assert.Equal("{\"nested\":[1,2.50,\"x\",true,null]}", saved["custom"]!.ToJsonString());
                Assert.Equal((16, 2, 4), ((int)saved["hidden_size"]!, (int)saved["num_hidden_layers"]!, (int)saved["head_dim"]!));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AVocabularyPrunedStudentRenumbersTokenIdListsAndKeepsTheirForm()
    {
        var t = TinyTeacher.Create(glm: true, seed: 13);
        var json = JsonNode.Parse(t.Config.ToJson())!.AsObject();
        json["eos_token_id"] = new JsonArray(3, 2, 36);
        json["pad_token_id"] = new JsonArray(0);
        json["architectures"] = new JsonArray("ChatGLMModel");
        var teacher = new ModelFiles(LightGlm.Model.ModelConfig.FromJson(json.ToJsonString()), t.Weights);
        int[] kept = [0, 2, 3, 5, 8, 36];
        var pruned = VocabPruner.Prune(teacher, new VocabPlan(kept, teacher.Config.V, kept.Length, 0, 3, 0));
        var saved = JsonNode.Parse(pruned.Config.ToJson())!.AsObject();
        Assert.Equal(6, (int)saved["vocab_size"]!);
        Assert.Equal("[2,1,5]", saved["eos_token_id"]!.ToJsonString()); // old ids 3, 2, 36 → positions in kept
        Assert.Equal("[0]", saved["pad_token_id"]!.ToJsonString());
        Assert.Equal("[\"ChatGLMModel\"]", saved["architectures"]!.ToJsonString());
    }
}
