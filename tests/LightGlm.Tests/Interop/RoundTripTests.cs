// Export -> re-import is bit-identical; exporting in the source dtype reproduces the source tensors byte for byte.
using LightGlm.Model;
using LightGlm.Interop;
using LightGlm.Model.Checkpoints;

namespace LightGlm.Tests.Interop;

public sealed class RoundTripTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "chatglm2", "hf-chatglm" }, { "glm4", "hf-chatglm" }, { "chatglm3-mha", "hf-chatglm" },
        { "llama", "hf-llama" }, { "qwen2", "hf-qwen2" }, { "qwen2", "hf-llama" },
    };

    static Dictionary<string, byte[]> RawTensors(string dir)
    {
        using var a = CheckpointArchive.Open(dir);
        return a.Tensors.Values.ToDictionary(e => e.Name, a.ReadRaw);
    }

    [Theory, MemberData(nameof(Cases))]
    public void ExportThenReimportIsBitIdentical(string name, string format)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Sub("ours"));
        HfExporter.Export(tmp.Sub("ours"), HfArchitectures.ParseFormat(format), tmp.Sub("hf"));
        HfImporter.Import(tmp.Sub("hf"), tmp.Sub("again"));
        var first = RawTensors(tmp.Sub("ours"));
        var second = RawTensors(tmp.Sub("again"));
        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        foreach (var (k, v) in first) Assert.True(v.AsSpan().SequenceEqual(second[k]), $"{k} differs after export -> import");
        // the config survives too (except provenance)
        var c1 = ModelConfig.Load(Path.Combine(tmp.Sub("ours"), "config.json"));
        var c2 = ModelConfig.Load(Path.Combine(tmp.Sub("again"), "config.json"));
        Assert.Equal(c1.ModelJson(), c2.ModelJson());
    }

    [Theory]
    [InlineData("chatglm2", "hf-chatglm", "fp16")]
    [InlineData("glm4", "hf-chatglm", "bf16")]
    [InlineData("llama", "hf-llama", "bf16")]
    [InlineData("qwen2", "hf-qwen2", "fp16")]
    public void ExportInSourceDTypeReproducesTheSourceTensors(string name, string format, string dtype)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Sub("ours"));
        HfExporter.Export(tmp.Sub("ours"), HfArchitectures.ParseFormat(format), tmp.Sub("hf"), TensorDTypes.Parse(dtype, "dtype"));
        var source = RawTensors(g.Dir);
        var exported = RawTensors(tmp.Sub("hf"));
        Assert.Equal(source.Keys.Order(), exported.Keys.Order());
        foreach (var (k, v) in source)
        {
            if (k.EndsWith("inv_freq")) // a derived buffer: same values up to the last bit of its dtype
            {
                using var a = CheckpointArchive.Open(g.Dir);
                using var b = CheckpointArchive.Open(tmp.Sub("hf"));
                var x = a.ReadAll(a[k]); var y = b.ReadAll(b[k]);
                for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-3f * Math.Abs(x[i]), $"{k}[{i}]: {x[i]} vs {y[i]}");
                continue;
            }
            Assert.True(v.AsSpan().SequenceEqual(exported[k]), $"{k}: exported bytes differ from the source checkpoint's");
        }
    }

    [Fact]
    public void LargeExportIsShardedWithAnIndexThatLoads()
    {
        var g = HfGolden.Load("llama");
        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Sub("ours"));
        var rep = HfExporter.Export(tmp.Sub("ours"), HfArchitecture.Llama, tmp.Sub("hf"), TensorDType.F32, maxShardBytes: 20_000);
        Assert.Contains(CheckpointArchive.IndexFile, rep.WeightFiles);
        Assert.True(rep.WeightFiles.Count(f => f.StartsWith("model-")) >= 3);
        Assert.False(File.Exists(Path.Combine(tmp.Sub("hf"), "model.safetensors")));
        using var w = MappedWeights.Open(tmp.Sub("hf"));
        var d = HfGoldenTests.Mapped(w);
        Assert.Equal(g.Greedy, d.Greedy(g.InputIds, g.Greedy.Length));
    }

    [Fact]
    public void ExportCarriesOurTokenizerJsonWithATokenizerConfig()
    {
        var g = HfGolden.Load("qwen2");
        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Sub("ours"));
        foreach (var f in Directory.GetFiles(tmp.Sub("ours"), "tokenizer*")) File.Delete(f);
        string ours = Path.Combine(tmp.Sub("ours"), "tokenizer.json");
        using (var fs = File.Create(ours))
            LightGlm.Text.Tokenizers.BpeTrainer.Train(["print the version and exit", "显示版本信息并退出"], new() { VocabSize = 280, MinFrequency = 1 }, fs);
        var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("ours"), "config.json")))!.AsObject();
        cfg["eos_token_id"] = 2; // our <|eos|>
        File.WriteAllText(Path.Combine(tmp.Sub("ours"), "config.json"), cfg.ToJsonString());
        var rep = HfExporter.Export(tmp.Sub("ours"), HfArchitecture.Qwen2, tmp.Sub("hf"));
        Assert.Equal(File.ReadAllBytes(ours), File.ReadAllBytes(Path.Combine(tmp.Sub("hf"), "tokenizer.json")));
        Assert.Contains(rep.TokenizerFiles, t => t.Name == "tokenizer_config.json");
        var tc = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("hf"), "tokenizer_config.json")))!;
        Assert.Equal("PreTrainedTokenizerFast", tc["tokenizer_class"]!.GetValue<string>());
        Assert.Equal("<|eos|>", tc["eos_token"]!.GetValue<string>());
        Assert.Equal("<|pad|>", tc["pad_token"]!.GetValue<string>());
        var a = LightGlm.Text.Tokenizers.HfTokenizer.Create(ours);
        var b = LightGlm.Text.Tokenizers.HfTokenizer.Create(Path.Combine(tmp.Sub("hf"), "tokenizer.json"));
        Assert.Equal(a.Encode("print the 版本"), b.Encode("print the 版本"));
        // A SentencePiece tokenizer.model (ChatGLM2) is copied through untouched, and no config is invented beside it.
        HfImporter.Import(HfGolden.DirOf("chatglm2"), tmp.Sub("glm"));
        HfExporter.Export(tmp.Sub("glm"), HfArchitecture.ChatGlm, tmp.Sub("glm-hf"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(HfGolden.DirOf("chatglm2"), "tokenizer.model")), File.ReadAllBytes(Path.Combine(tmp.Sub("glm-hf"), "tokenizer.model")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(HfGolden.DirOf("chatglm2"), "tokenizer_config.json")), File.ReadAllBytes(Path.Combine(tmp.Sub("glm-hf"), "tokenizer_config.json")));
    }

    [Fact]
    public void InterleavedRotaryModelIsPermutedOnExportToLlama()
    {
        // Re-express the imported LLaMA with interleaved rotary pairs (q/k rows of each head permuted so that pair
        // (2j, 2j+1) holds LLaMA's (j, j + D/2)): it must compute the same logits, and exporting it as hf-llama must
        // undo the permutation exactly (bf16 bytes equal to the source checkpoint's).
        var g = HfGolden.Load("llama");
        using var tmp = HfGolden.Temp();
        HfImporter.Import(g.Dir, tmp.Sub("ours"));
        var cfg = ModelConfig.Load(Path.Combine(tmp.Sub("ours"), "config.json"));
        var inter = cfg.Clone();
        inter.RopeInterleaved = true;
        var perm = ArchitectureMap.For(HfArchitecture.Llama, inter).Mappings.ToDictionary(m => m.Ours, m => m.HfRows);
        Directory.CreateDirectory(tmp.Sub("inter"));
        using (var src = CheckpointArchive.Open(tmp.Sub("ours")))
        {
            var list = src.Tensors.Values.OrderBy(e => e.Begin).Select(e => new TensorToWrite(e.Name, TensorDType.F32, e.Shape, (row, count, dst) =>
            {
                int len = (int)e.RowLength;
                for (int i = 0; i < count; i++) src.ReadRows(e, perm[e.Name][row + i], 1, dst.Slice(i * len, len), new byte[len * 4]);
            })).ToList();
            SafeTensorsWriter.WriteSharded(tmp.Sub("inter"), list, long.MaxValue);
        }
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("ours"), "config.json")))!;
        json["rope_interleaved"] = true;
        File.WriteAllText(Path.Combine(tmp.Sub("inter"), "config.json"), json.ToJsonString());
        var q0 = perm["model.layers.0.self_attn.q_proj.weight"];
        Assert.NotEqual(Enumerable.Range(0, q0.Length), q0); // really permuted

        using (var w = MappedWeights.Open(tmp.Sub("inter")))
        {
            Assert.True(w.Config.RopeInterleaved);
            var d = HfGoldenTests.Mapped(w);
            d.Reset();
            var logits = g.InputIds.Select(t => d.Step(t).ToArray()).ToArray();
            Assert.True(HfGolden.MaxDiff(g.Logits, logits) < 2e-4f);
        }
        HfExporter.Export(tmp.Sub("inter"), HfArchitecture.Llama, tmp.Sub("hf"), TensorDType.BF16);
        var source = RawTensors(g.Dir);
        var exported = RawTensors(tmp.Sub("hf"));
        foreach (var (k, v) in source) Assert.True(v.AsSpan().SequenceEqual(exported[k]), $"{k} differs");
    }
}
