// GGUF export: the file parses back (header, metadata, tensor table, alignment), tensors round-trip (f32 exactly,
// q8_0/q4_0 within their bounds, block layout pinned by hand), bad files are named, and llama.cpp (LLamaSharp) running
// the export of each tiny Hugging Face golden checkpoint gives our logits and greedy tokens.
using System.Numerics.Tensors;
using LightGlm.Cli.LlamaCpp;
using LightGlm.Interop;
using LightGlm.Interop.Gguf;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;
using LightGlm.Tests.Model;

namespace LightGlm.Tests.Interop;

/// <summary>Skipped, with the reason, when llama.cpp's native library (LLamaSharp.Backend.Cpu) cannot load in this process.</summary>
public sealed class LlamaCppTheoryAttribute : TheoryAttribute
{
    static readonly string? Failure = Probe();

    static string? Probe()
    {
        try { LLama.Native.NativeApi.llama_empty_call(); return null; }
        catch (Exception e) { return $"llama.cpp's native library did not load here ({e.GetType().Name}: {e.Message})"; }
    }

    public LlamaCppTheoryAttribute() { if (Failure is not null) Skip = Failure; }

    internal static string? Why => Failure;
}

/// <summary>As <see cref="LlamaCppTheoryAttribute"/> for a fact.</summary>
public sealed class LlamaCppFactAttribute : FactAttribute
{
    public LlamaCppFactAttribute() { if (LlamaCppTheoryAttribute.Why is { } why) Skip = why; }
}

public sealed class GgufTests
{
    static string Export(HfGolden.TempDir tmp, string name, GgmlType type)
    {
        string path = tmp.Sub($"{name}-{GgmlQuant.Name(type)}.gguf");
        GgufExporter.Export(HfGolden.DirOf(name), path, type);
        return path;
    }

    static readonly string[] PerBlock = ["attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
        "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"];

    [Fact]
    public void F32ExportParsesBackWithTheLlamaCppLayout()
    {
        using var tmp = HfGolden.Temp();
        string path = Export(tmp, "llama", GgmlType.F32);
        var f = GgufFile.Read(path);
        using var w = MappedWeights.Open(HfGolden.DirOf("llama"));
        var c = w.Config; // llama golden: C 32, H 4, KV 2, D 8, F 64, L 2, V 128, untied, rotate_half, no bias
        Assert.Equal(3u, f.Version);
        Assert.Equal(32, f.Alignment);
        Assert.Equal("llama", f.Get<string>("general.architecture"));
        Assert.Equal((uint)c.L, f.Get<uint>("llama.block_count"));
        Assert.Equal((uint)c.C, f.Get<uint>("llama.embedding_length"));
        Assert.Equal((uint)c.F, f.Get<uint>("llama.feed_forward_length"));
        Assert.Equal((uint)c.H, f.Get<uint>("llama.attention.head_count"));
        Assert.Equal((uint)c.KV, f.Get<uint>("llama.attention.head_count_kv"));
        Assert.Equal((uint)c.D, f.Get<uint>("llama.rope.dimension_count"));
        Assert.Equal(500000f, f.Get<float>("llama.rope.freq_base"));
        Assert.Equal(1e-5f, f.Get<float>("llama.attention.layer_norm_rms_epsilon"));
        Assert.Equal(0u, f.Get<uint>("general.file_type"));
        var tokens = f.Get<string[]>("tokenizer.ggml.tokens");
        Assert.Equal(c.V, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], tokens[..4]);
        Assert.Equal(c.V, f.Get<float[]>("tokenizer.ggml.scores").Length);
        Assert.Equal(c.V, f.Get<int[]>("tokenizer.ggml.token_type").Length);
        Assert.Equal("llama", f.Get<string>("tokenizer.ggml.model"));

        var expected = new List<string> { "token_embd.weight" };
        for (int l = 0; l < c.L; l++) expected.AddRange(PerBlock.Select(n => $"blk.{l}.{n}"));
        expected.AddRange(["output_norm.weight", "output.weight"]);
        Assert.Equal(expected, f.Tensors.Select(t => t.Name));
        Assert.Equal([c.V, c.C], f.Tensor("token_embd.weight").Shape);
        Assert.Equal([c.H * c.D, c.C], f.Tensor("blk.0.attn_q.weight").Shape);
        Assert.Equal([c.KV * c.D, c.C], f.Tensor("blk.1.attn_k.weight").Shape);
        Assert.Equal([c.C, c.F], f.Tensor("blk.0.ffn_down.weight").Shape);
        Assert.Equal([c.C], f.Tensor("output_norm.weight").Shape);
        Assert.All(f.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
        // data: aligned, in order, not overlapping, and the file ends with the last tensor's padding
        Assert.Equal(0, f.DataStart % 32);
        long end = 0;
        foreach (var t in f.Tensors)
        {
            Assert.Equal(0, t.Offset % 32);
            Assert.True(t.Offset >= end, $"{t.Name} at {t.Offset} overlaps the previous tensor ending at {end}");
            end = t.Offset + t.Bytes;
        }
        Assert.Equal(f.DataStart + (end + 31) / 32 * 32, new FileInfo(path).Length);

        // values: exact (bf16 widened to f32 both ways), unpermuted tensors as they are
        Assert.Equal(w.ReadAll("model.embed_tokens.weight"), f.ReadFloats("token_embd.weight"));
        Assert.Equal(w.ReadAll("model.layers.1.self_attn.v_proj.weight"), f.ReadFloats("blk.1.attn_v.weight"));
        Assert.Equal(w.ReadAll("model.layers.0.mlp.down_proj.weight"), f.ReadFloats("blk.0.ffn_down.weight"));
        Assert.Equal(w.ReadAll("lm_head.weight"), f.ReadFloats("output.weight"));
        // q/k: rotate_half pair j = rows (j, j + D/2) of a head become llama.cpp's interleaved rows (2j, 2j + 1)
        foreach (var (gguf, ours, heads) in new[] { ("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", c.H), ("blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight", c.KV) })
        {
            float[] g = f.ReadFloats(gguf), o = w.ReadAll(ours);
            int D = c.D, C = c.C;
            for (int h = 0; h < heads; h++)
                for (int j = 0; j < D / 2; j++)
                {
                    Assert.Equal(o.AsSpan((h * D + j) * C, C), g.AsSpan((h * D + 2 * j) * C, C));
                    Assert.Equal(o.AsSpan((h * D + j + D / 2) * C, C), g.AsSpan((h * D + 2 * j + 1) * C, C));
                }
        }
    }

    [Theory]
    [InlineData("qwen2", "qwen2")]  // q/k/v bias, tied head
    [InlineData("llama", "llama")]
    public void ArchitectureFollowsTheBias(string golden, string arch)
    {
        using var tmp = HfGolden.Temp();
        var f = GgufFile.Read(Export(tmp, golden, GgmlType.F16));
        using var w = MappedWeights.Open(HfGolden.DirOf(golden));
        Assert.Equal(arch, f.Get<string>("general.architecture"));
        Assert.Equal((uint)w.Config.D, f.Get<uint>($"{arch}.rope.dimension_count"));
        Assert.Equal(arch == "qwen2", f.Tensors.Any(t => t.Name == "blk.0.attn_q.bias"));
        Assert.Equal(!w.Config.TieWordEmbeddings, f.Tensors.Any(t => t.Name == "output.weight"));
        Assert.Equal(GgmlType.F16, f.Tensor("blk.0.ffn_up.weight").Type);
        Assert.Equal(GgmlType.F32, f.Tensor("blk.0.ffn_norm.weight").Type);
    }

    /// <summary>GLM-style partial rotary (R = D/2) goes to llama.cpp's chatglm graph: rotary count R, gate|up fused in ffn_up.</summary>
    [Theory]
    [InlineData("chatglm2")] // MQA 2 groups, q/k/v bias
    [InlineData("glm4")]     // 1 group, no bias, rope_ratio 500
    public void PartialRotaryGoesToTheChatGlmGraph(string golden)
    {
        using var tmp = HfGolden.Temp();
        var f = GgufFile.Read(Export(tmp, golden, GgmlType.F32));
        using var w = MappedWeights.Open(HfGolden.DirOf(golden));
        var c = w.Config;
        Assert.Equal("chatglm", f.Get<string>("general.architecture"));
        Assert.Equal((uint)(c.D / 2), f.Get<uint>("chatglm.rope.dimension_count"));
        Assert.Equal([2 * c.F, c.C], f.Tensor("blk.1.ffn_up.weight").Shape);
        Assert.DoesNotContain(f.Tensors, t => t.Name.Contains("ffn_gate"));
        Assert.Equal(c.AttentionBias, f.Tensors.Any(t => t.Name == "blk.0.attn_q.bias"));
        var up = f.ReadFloats("blk.1.ffn_up.weight");
        Assert.Equal(w.ReadAll("model.layers.1.mlp.gate_proj.weight"), up[..(c.F * c.C)]);
        Assert.Equal(w.ReadAll("model.layers.1.mlp.up_proj.weight"), up[(c.F * c.C)..]);
    }

    /// <summary>A partial-rotary model whose q is not hidden × hidden (chatglm3-mha: kv_channels 12 ≠ 32/4) has no llama.cpp graph: refused with the reason, no file left.</summary>
    [Fact]
    public void PartialRotaryWithNarrowHeadsIsRefusedWithTheReason()
    {
        using var tmp = HfGolden.Temp();
        string path = tmp.Sub("glm.gguf");
        var e = Assert.Throws<NotSupportedException>(() => GgufExporter.Export(HfGolden.DirOf("chatglm3-mha"), path, GgmlType.F32));
        Assert.Contains("partial_rotary_factor 0.5", e.Message);
        Assert.Contains("hidden × hidden", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void QuantizedTensorsDequantizeWithinTheirBlockBound(GgmlType type)
    {
        using var tmp = HfGolden.Temp();
        var f = GgufFile.Read(Export(tmp, "llama", type));
        using var w = MappedWeights.Open(HfGolden.DirOf("llama"));
        Assert.Equal(type == GgmlType.Q8_0 ? 7u : 2u, f.Get<uint>("general.file_type"));
        Assert.Equal(2u, f.Get<uint>("general.quantization_version"));
        foreach (var (gguf, ours) in new[] { ("token_embd.weight", "model.embed_tokens.weight"), ("blk.1.ffn_down.weight", "model.layers.1.mlp.down_proj.weight"),
                                             ("blk.0.attn_v.weight", "model.layers.0.self_attn.v_proj.weight"), ("output.weight", "lm_head.weight") })
        {
            Assert.Equal(type, f.Tensor(gguf).Type);
            float[] x = w.ReadAll(ours), y = f.ReadFloats(gguf);
            Assert.Equal(x.Length, y.Length);
            for (int b = 0; b < x.Length / 32; b++)
            {
                float amax = MathF.Abs(TensorPrimitives.MaxMagnitude(x.AsSpan(b * 32, 32)));
                // q8_0: |x − d·q| ≤ d/2 with d = amax/127; q4_0: ≤ |d| = amax/8 (the grid is [−8d, 7d], the end opposite the
                // largest value is clamped); plus d's fp16 rounding (2^−11 relative, times |q| ≤ 127 or 8)
                float bound = type == GgmlType.Q8_0 ? amax / 127 / 2 + amax * 1e-3f : amax / 8 + amax * 1e-3f;
                for (int j = b * 32; j < b * 32 + 32; j++)
                    Assert.True(Math.Abs(x[j] - y[j]) <= bound, $"{gguf}[{j}]: {x[j]} -> {y[j]}, bound {bound}");
            }
            Assert.True(TensorPrimitives.Distance(x, y) > 0, $"{gguf}: identical after {type}; was it quantized?");
        }
        Assert.Equal(w.ReadAll("model.norm.weight"), f.ReadFloats("output_norm.weight")); // 1-D stays f32
    }

    /// <summary>The block layouts byte for byte (ggml-common.h block_q8_0 / block_q4_0) on x_j = j − 16.</summary>
    [Fact]
    public void BlockLayoutsMatchGgml()
    {
        var x = Enumerable.Range(0, 32).Select(j => (float)(j - 16)).ToArray();
        var q8 = new byte[34];
        GgmlQuant.Encode(GgmlType.Q8_0, x, q8);
        Assert.Equal((Half)(16f / 127), BitConverter.ToHalf(q8, 0));       // d = amax / 127
        Assert.Equal(-127, (sbyte)q8[2]);                                   // x_0 = −16 -> −127
        Assert.Equal(0, (sbyte)q8[2 + 16]);                                 // x_16 = 0
        Assert.Equal((sbyte)Math.Round(15 * 127 / 16.0, MidpointRounding.AwayFromZero), (sbyte)q8[2 + 31]);
        var q4 = new byte[18];
        GgmlQuant.Encode(GgmlType.Q4_0, x, q4);
        Assert.Equal((Half)2f, BitConverter.ToHalf(q4, 0));                 // largest magnitude −16 -> d = −16 / −8 = 2
        Assert.Equal(0x80, q4[2]);                                          // low nibble x_0: −16/2 + 8.5 -> 0; high nibble x_16: 0 + 8.5 -> 8
        Assert.Equal(0xF8, q4[2 + 15]);                                     // x_15 = −1 -> (int)(−0.5 + 8.5) = 8; x_31 = 15 -> min(15, 16) = 15
        var back = new float[32];
        GgmlQuant.Decode(GgmlType.Q4_0, q4, back);
        Assert.Equal(-16f, back[0]);
        Assert.Equal(14f, back[31]);                                         // the clamped end of the grid: 2·(15 − 8)
    }

    [Fact]
    public void TruncatedOrForeignFilesAreNamed()
    {
        using var tmp = HfGolden.Temp();
        string path = Export(tmp, "qwen2", GgmlType.F32);
        var bytes = File.ReadAllBytes(path);
        string cut = tmp.Sub("cut.gguf"), header = tmp.Sub("header.gguf"), foreign = tmp.Sub("foreign.gguf");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 100)]);
        File.WriteAllBytes(header, bytes[..1000]);
        File.WriteAllBytes(foreign, [.. "GGML"u8, .. bytes[4..]]);
        var e1 = Assert.Throws<InvalidDataException>(() => GgufFile.Read(cut));
        Assert.Contains("truncated", e1.Message);
        Assert.Contains("output_norm.weight", e1.Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => GgufFile.Read(header)).Message);
        Assert.Contains("not a GGUF file", Assert.Throws<InvalidDataException>(() => GgufFile.Read(foreign)).Message);
    }

    /// <summary>Every golden llama.cpp has a graph for (llama: GQA, rotate_half, untied; qwen2: biases, tied; chatglm2, glm4:
    /// interleaved rotary over D/2, MQA); chatglm3-mha (q narrower than hidden) is refused, tested above.</summary>
    public static TheoryData<string> Goldens() => new("llama", "qwen2", "chatglm2", "glm4");

    /// <summary>
    /// llama.cpp (f32 weights, f32 K/V cache) on the F32 export of each golden checkpoint: every prompt position's logits
    /// equal ours (the one forward pass on the same mapped weights) within 1e-3 of the largest logit, and 10 greedy
    /// tokens equal ours and the PyTorch golden's. A wrong q/k permutation, rope type or rope.dimension_count fails it.
    /// </summary>
    [LlamaCppTheory, MemberData(nameof(Goldens))]
    public void LlamaCppOnTheExportGivesOurLogitsAndGreedyTokens(string name)
    {
        var g = HfGolden.Load(name);
        using var tmp = HfGolden.Temp();
        string path = Export(tmp, name, GgmlType.F32);
        using var w = MappedWeights.Open(g.Dir);
        var ours = new SequenceDecoder(MappedInferenceWeightsFor(w), 32);
        var expected = g.InputIds.Select(t => ours.Step(t).ToArray()).ToArray();
        var oursGreedy = ours.Greedy(g.InputIds, 10);

        using var peer = new LlamaCppSession(path, 32, threads: 1, fp32Cache: true);
        var every = new float[g.InputIds.Length][];
        peer.Forward(g.InputIds, every);
        float scale = expected.Max(r => MathF.Abs(TensorPrimitives.MaxMagnitude(r)));
        float diff = HfGolden.MaxDiff(expected, every);
        Assert.True(diff <= 1e-3f * scale, $"{name}: max |llama.cpp − ours| = {diff} over logits up to {scale}");
        peer.Reset();
        var logits = peer.Forward(g.InputIds);
        var greedy = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            greedy.Add(TensorPrimitives.IndexOfMax(logits));
            if (i < 9) logits = peer.Forward([greedy[^1]]);
        }
        Assert.Equal(g.Greedy, oursGreedy);
        Assert.Equal(oursGreedy, greedy);
    }

    /// <summary>Our own configs covering each graph and pairing change (weights N(0, 0.3²) so logits are O(1)).</summary>
    public static TheoryData<string> OurConfigs() => ["glm-prefix-bias", "interleaved-full-tied", "interleaved-full-bias-mqa", "halfsplit-partial"];

    static ModelConfig OurConfig(string name)
    {
        var c = name == "glm-prefix-bias" ? TinyModels.Glm(vocab: 29) : TinyModels.Llama(vocab: 31); // GLM: H 4 · D 4 = C 16, R 2 interleaved
        switch (name)
        {
            case "interleaved-full-tied": c.RopeInterleaved = true; c.TieWordEmbeddings = true; break;          // llama, no permutation
            case "interleaved-full-bias-mqa": c.RopeInterleaved = true; c.AttentionBias = true; c.NumKeyValueHeads = 1; break; // qwen2, interleaved -> rotate_half
            case "halfsplit-partial": c.PartialRotaryFactor = 0.5; c.RopeTheta = 500; break;                   // chatglm, rotate_half -> interleaved over R = 4
        }
        return c;
    }

    [LlamaCppTheory, MemberData(nameof(OurConfigs))]
    public void LlamaCppOnOurModelsGivesOurLogits(string name)
    {
        using var tmp = HfGolden.Temp();
        var m = GlmModel.Create(OurConfig(name), seed: 7, std: 0.3);
        ModelDirectory.Save(m, tmp.Sub("model"));
        string path = tmp.Sub("m.gguf");
        var rep = GgufExporter.Export(tmp.Sub("model"), path, GgmlType.F32);
        Assert.Equal(name switch { "interleaved-full-tied" => "llama", "interleaved-full-bias-mqa" => "qwen2", _ => "chatglm" }, rep.Architecture);
        int[] prompt = [3, 7, 1, 12, 5, 9];
        var ours = new SequenceDecoder(InferenceWeights.Fp32(m), 32);
        var expected = prompt.Select(t => ours.Step(t).ToArray()).ToArray();
        var oursGreedy = ours.Greedy(prompt, 8);
        using var peer = new LlamaCppSession(path, 32, threads: 1, fp32Cache: true);
        var every = new float[prompt.Length][];
        peer.Forward(prompt, every);
        float scale = expected.Max(r => MathF.Abs(TensorPrimitives.MaxMagnitude(r)));
        float diff = HfGolden.MaxDiff(expected, every);
        Assert.True(diff <= 1e-3f * scale, $"{name}: max |llama.cpp − ours| = {diff} over logits up to {scale}");
        peer.Reset();
        var logits = peer.Forward(prompt);
        var greedy = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            greedy.Add(TensorPrimitives.IndexOfMax(logits));
            if (i < 7) logits = peer.Forward([greedy[^1]]);
        }
        Assert.Equal(oursGreedy, greedy);
        if (name == "glm-prefix-bias") Assert.Contains(rep.Notes, n => n.Contains("prefix"));
    }

    /// <summary>
    /// The quantized exports compute what their blocks say: llama.cpp on the Q8_0/Q4_0 file equals our fp32 engine on the
    /// same weights dequantized from that file, up to llama.cpp's 8-bit activations (its quantized matmuls quantize x to
    /// Q8_0 blocks: measured 4% of the largest logit here) — closer than the unquantized model is (Q4_0: 5x closer). A wrong
    /// nibble order, scale or block layout would land at the unquantized distance or far beyond. Interleaved full rotary, no bias → llama, no permutation.
    /// </summary>
    [LlamaCppTheory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void LlamaCppOnAQuantizedExportEqualsOurEngineOnItsDequantizedWeights(GgmlType type)
    {
        var c = TinyModels.Llama(vocab: 64);
        c.HiddenSize = 64; c.NumAttentionHeads = 4; c.NumKeyValueHeads = 2; c.IntermediateSize = 96; c.RopeInterleaved = true;
        var m = GlmModel.Create(c, seed: 11, std: 0.3);
        using var tmp = HfGolden.Temp();
        ModelDirectory.Save(m, tmp.Sub("model"));
        string path = tmp.Sub("q.gguf");
        Assert.Equal("llama", GgufExporter.Export(tmp.Sub("model"), path, type).Architecture);
        int[] prompt = [3, 7, 1, 12, 5, 9, 40, 2];
        var original = Logits(new SequenceDecoder(InferenceWeights.Fp32(m), 32), prompt);

        var f = GgufFile.Read(path);
        foreach (var (gguf, ours) in GgufNames(c.NumHiddenLayers))
            f.ReadFloats(gguf).CopyTo(m.Parameter(ours));
        var expected = Logits(new SequenceDecoder(InferenceWeights.Fp32(m), 32), prompt);
        using var peer = new LlamaCppSession(path, 32, threads: 1, fp32Cache: true);
        var every = new float[prompt.Length][];
        peer.Forward(prompt, every);
        float scale = expected.Max(r => MathF.Abs(TensorPrimitives.MaxMagnitude(r)));
        float diff = HfGolden.MaxDiff(expected, every), quantization = HfGolden.MaxDiff(original, expected);
        Assert.True(diff <= 0.06f * scale && diff > 0, $"{type}: max |llama.cpp − ours on the dequantized weights| = {diff} over logits up to {scale} (quantization moved them {quantization})");
        // Q8_0 activations are as coarse as Q8_0 weights, so there the two distances are alike; Q4_0 weights are 16x coarser
        Assert.True(diff * (type == GgmlType.Q4_0 ? 5 : 1) < quantization, $"{type}: llama.cpp is {diff} from ours on the file's weights but the file's weights are only {quantization} from the original");
    }

    static float[][] Logits(SequenceDecoder d, int[] prompt) => prompt.Select(t => d.Step(t).ToArray()).ToArray();

    /// <summary>GGUF name → ours for a llama-graph export without biases (the exporter's table, read backwards).</summary>
    static IEnumerable<(string Gguf, string Ours)> GgufNames(int layers)
    {
        yield return ("token_embd.weight", "model.embed_tokens.weight");
        for (int l = 0; l < layers; l++)
        {
            string b = $"blk.{l}.", p = $"model.layers.{l}.";
            yield return (b + "attn_norm.weight", p + "input_layernorm.weight");
            yield return (b + "attn_q.weight", p + "self_attn.q_proj.weight");
            yield return (b + "attn_k.weight", p + "self_attn.k_proj.weight");
            yield return (b + "attn_v.weight", p + "self_attn.v_proj.weight");
            yield return (b + "attn_output.weight", p + "self_attn.o_proj.weight");
            yield return (b + "ffn_norm.weight", p + "post_attention_layernorm.weight");
            yield return (b + "ffn_gate.weight", p + "mlp.gate_proj.weight");
            yield return (b + "ffn_up.weight", p + "mlp.up_proj.weight");
            yield return (b + "ffn_down.weight", p + "mlp.down_proj.weight");
        }
        yield return ("output_norm.weight", "model.norm.weight");
        yield return ("output.weight", "lm_head.weight");
    }

    static InferenceWeights MappedInferenceWeightsFor(MappedWeights w) => LightGlm.Interop.Inference.MappedInferenceWeights.Create(w);

    /// <summary>
    /// `bench llama-cpp`'s procedure (what each child process runs) on the llama golden: both sides report every prompt
    /// length and a positive time, the result line round-trips, and in f32 llama.cpp's greedy tokens equal ours.
    /// </summary>
    [LlamaCppFact]
    public void BenchSidesMeasureTheSameTokens()
    {
        using var tmp = HfGolden.Temp();
        string path = Export(tmp, "llama", GgmlType.F32);
        var ours = PeerRun.Ours(HfGolden.DirOf("llama"), WeightFormat.Fp32, 1, [16, 32], 8, 1);
        var peer = PeerRun.LlamaCpp(path, "f32", 1, [16, 32], 8, 1, forced: ours.Greedy);
        foreach (var x in new[] { ours, peer })
        {
            Assert.Equal([16, 32], x.PrefillMs.Keys.Order());
            Assert.True(x.DecodeMsPerToken > 0 && x.LoadS > 0 && x.PeakRssMb > 0, $"{x.Engine}: {x}");
            Assert.Equal(8, x.Greedy.Length);
            var back = PeerResult.FromOutput("llama.cpp noise\n" + x.ToLine() + "\n")!;
            Assert.Equal(x.Greedy, back.Greedy);
            Assert.Equal(x.PrefillMs[32], back.PrefillMs[32]);
        }
        Assert.Equal(ours.Greedy, peer.Greedy);
        Assert.Equal(ours.Greedy, peer.ForcedArgmax);
    }
}

[Collection("Console")]
public sealed class GgufCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (Console.Out, Console.Error);
        var so = new StringWriter(); var se = new StringWriter();
        Console.SetOut(so); Console.SetError(se);
        try { return (LightGlm.Cli.CliHost.Run(args), so.ToString(), se.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }

    [Fact]
    public void ExportGgufThroughTheCliAndItsUserErrors()
    {
        using var tmp = HfGolden.Temp();
        string file = tmp.Sub("q.gguf");
        var (code, stdout, err) = Run("export", "--model", HfGolden.DirOf("qwen2"), "--format", "gguf", "--out", file, "--dtype", "q4_0");
        Assert.True(code == 0, err);
        Assert.Contains("arch qwen2, q4_0", stdout);
        Assert.Equal(GgmlType.Q4_0, GgufFile.Read(file).Tensor("blk.0.ffn_up.weight").Type);

        (code, _, err) = Run("export", "--model", HfGolden.DirOf("chatglm3-mha"), "--format", "gguf", "--out", tmp.Sub("g.gguf"));
        Assert.Equal(2, code);
        Assert.Contains("partial_rotary_factor", err);
        (code, _, err) = Run("export", "--model", HfGolden.DirOf("llama"), "--format", "gguf", "--out", tmp.Sub("x.gguf"), "--dtype", "q5_k");
        Assert.Equal(2, code);
        Assert.Contains("q5_k", err);
        (code, _, err) = Run("export", "--model", HfGolden.DirOf("llama"), "--format", "gguf", "--out", tmp.Path);
        Assert.Equal(2, code);
        Assert.Contains("is a directory", err);
        Assert.False(File.Exists(tmp.Sub("g.gguf")));
    }
}
