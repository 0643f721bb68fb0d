// Quantized checkpoints from the two writers — `import --quantize` on the Hugging Face fixtures (every layout: fused and
// per-head q|k|v, MQA/GQA, biases, tied heads, fp16/bf16/fp32 shards) and `export --quantize` on a model of ours — run
// through the commands that load models, with the logits and outputs of quantizing at load; training refuses them.
using LightGlm.Generation;
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Tests.Model;
using LightGlm.Tests.Translation;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Interop;

[Collection("Console")]
public sealed class QuantizedCheckpointInteropTests
{
    public static TheoryData<string, WeightFormat, TensorDType> Fixtures()
    {
        var d = new TheoryData<string, WeightFormat, TensorDType>();
        foreach (var name in HfGolden.All)
            foreach (var f in new[] { WeightFormat.Int8, WeightFormat.Int4 }) d.Add(name, f, TensorDType.F32);
        d.Add("llama", WeightFormat.Int8, TensorDType.BF16); // bf16 source, bf16 embedding: exact as well
        return d;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ImportQuantizedGivesTheLogitsOfQuantizingTheCheckpointAtLoad(string name, WeightFormat format, TensorDType embed)
    {
        using var tmp = HfGolden.Temp();
        string hf = HfGolden.DirOf(name), dir = tmp.Sub("q");
        var rep = HfImporter.Import(hf, dir, embed, quantize: QuantizationEntry.Create(format, 32));
        Assert.Contains(rep.WeightFiles, f => f.EndsWith(".safetensors"));
        using var mapped = MappedWeights.Open(hf);
        var atLoad = InferenceWeights.Quantize(MappedInferenceWeights.Create(mapped), format);
        using var loaded = QuantizedCheckpointWeights.Open(dir);
        Assert.Equal(QuantizedCheckpointTests.Logits(atLoad), QuantizedCheckpointTests.Logits(loaded));
        using var archive = CheckpointArchive.Open(dir);
        Assert.Equal(embed, archive[LightGlm.Model.TensorNames.Embed].DType);
    }

    [Fact]
    public void ImportAndBenchThroughTheCli()
    {
        using var tmp = HfGolden.Temp();
        string hf = HfGolden.DirOf("qwen2"), q = tmp.Sub("q");
        var (code, stdout, err) = ImportCliTests.Run("import", "--from", hf, "--out", q, "--quantize", "int4");
        Assert.True(code == 0, err);
        Assert.Contains("int4, group 32 quantized", stdout);
        Assert.True(File.Exists(Path.Combine(q, "tokenizer.json")));
        Assert.False(Directory.Exists(q + ".partial"));
        // bench mapped-decode: the stored quants decode to the greedy token of quantizing the HF checkpoint at load
        (code, var fromDir, err) = ImportCliTests.Run("bench", "mapped-decode", "--model", q, "--steps", "3");
        Assert.True(code == 0, err);
        Assert.Contains("quantized checkpoint: int4, group 32", fromDir);
        (code, var atLoad, err) = ImportCliTests.Run("bench", "mapped-decode", "--model", hf, "--steps", "3", "--quantize", "int4");
        Assert.True(code == 0, err);
        string Greedy(string o) => o.Split('\n').Single(l => l.StartsWith("greedy token after the last step:"));
        Assert.Equal(Greedy(atLoad), Greedy(fromDir));
        (code, _, err) = ImportCliTests.Run("bench", "mapped-decode", "--model", q, "--quantize", "int8");
        Assert.Equal(2, code);
        Assert.Contains("is stored as int4", err);
    }

    /// <summary>
    /// `bench large-decode --quantized-dir` on a one-layer Qwen2.5-0.5B stand-in (ours only): the int8 row from the quantized
    /// checkpoint it writes once to the cache has its own load time and decodes the tokens of quantizing at load.
    /// </summary>
    [Fact]
    public void LargeDecodeBenchMeasuresTheQuantizedDirectory()
    {
        using var tmp = HfGolden.Temp();
        string[] args = ["bench", "large-decode", "--shape", "qwen2.5-0.5b", "--layers", "1", "--formats", "int8", "--quantized-dir",
            "--prompt-tokens", "8", "--tokens", "3", "--reps", "1", "--threads", "1", "--json", "--cache", tmp.Path];
        var res = LightGlm.Tests.Evaluation.CliProcess.Run(TimeSpan.FromMinutes(8), null, args);
        Assert.True(res.ExitCode == 0, res.Stderr);
        var o = System.Text.Json.Nodes.JsonNode.Parse(res.Stdout)!;
        var fromDir = o["lightglm"]!["int8_quantized_dir"]!;
        foreach (var key in new[] { "decode_ms_per_token", "prefill_ms_8", "load_s", "peak_rss_mb" })
            Assert.True((double)fromDir[key]! > 0, $"{key} in {fromDir.ToJsonString()}");
        Assert.Equal(3, (int)o["greedy"]!["int8_quantized_dir_vs_int8"]!["leading_greedy_equal"]!);
        Assert.Contains("quantized checkpoint to", res.Stderr);
        Assert.True(QuantizedCheckpoint.Is(Path.Combine(tmp.Path, "qwen2.5-0.5b-L1", "lightglm-int8-g32")));
    }

    [Fact]
    public void ExportQuantizedRunsInEveryInferenceCommandAndTrainingRefusesIt()
    {
        string m = TranslatorTests.SaveTinyModel(); // byte tokenizer, fp32 arena
        string q = m + "-q8";
        try
        {
            var (code, stdout, err) = ImportCliTests.Run("export", "--model", m, "--quantize", "int8", "--out", q);
            Assert.True(code == 0, err);
            Assert.Contains("quantized (int8, group 32", stdout);
            Assert.True(QuantizedCheckpoint.Is(q));

            // translate: the quantized directory as stored = the fp32 directory quantized at load
            string[] texts = ["Cannot open file", "Permission denied"];
            (code, var fromDir, err) = ImportCliTests.Run(["translate", "--model", q, "--to", "zh", "--max-new-tokens", "12", .. texts]);
            Assert.True(code == 0, err);
            Assert.Contains("int8 weights (group 32) as stored", err);
            (code, var atLoad, err) = ImportCliTests.Run(["translate", "--model", m, "--to", "zh", "--max-new-tokens", "12", "--quantize", "int8", .. texts]);
            Assert.True(code == 0, err);
            Assert.Equal(atLoad, fromDir);
            (code, _, err) = ImportCliTests.Run(["translate", "--model", q, "--quantize", "int4", .. texts]);
            Assert.Equal(2, code);
            Assert.Contains("already stored as int8", err);

            // generate: the same continuation as the generator on the in-memory int8 weights
            (code, var generated, err) = ImportCliTests.Run("generate", "--model", q, "--prompt", "Open", "--max-new", "6");
            Assert.True(code == 0, err);
            var model = ModelDirectory.Load(m);
            var expected = Generator.GenerateText(InferenceWeights.Create(model, WeightFormat.Int8), ByteTokenizer.Instance, ["Open"],
                new GenerationOptions { MaxNewTokens = 6, Greedy = true, StopTokens = model.Config.EosTokenId is { } eos ? [eos] : [] });
            Assert.Equal("Open" + expected[0] + Environment.NewLine, generated);

            // bench student-decode: the stored format is the student's one row
            (code, stdout, err) = ImportCliTests.Run("bench", "student-decode", "--teacher", m, "--student", q, "--tokens", "3", "--reps", "1");
            Assert.True(code == 0, err);
            Assert.Contains("student int8 (stored, group 32)", stdout);

            // training it (a distilled student, train --init-from: both read the fp32 arena): refused, saying what and what
            // to do. (As a distillation teacher it runs streamed, and finetune --lora-rank trains adapters over it in place.)
            (code, _, err) = ImportCliTests.Run("distill", "--teacher", m, "--student", q, "--out", m + "-d");
            Assert.Equal(2, code);
            Assert.Contains($"{q}: a quantized inference checkpoint (int8, group 32", err);
            Assert.Contains("use the fp32/bf16 model directory it was made from", err);
            Assert.DoesNotContain("   at ", err);
            // and exporting it again to another format, likewise
            (code, _, err) = ImportCliTests.Run("export", "--model", q, "--format", "hf-llama", "--out", m + "-hf");
            Assert.Equal(2, code);
            Assert.Contains("quantized inference checkpoint", err);
        }
        finally
        {
            foreach (var d in new[] { m, q, m + "-d", m + "-hf" }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }
}
