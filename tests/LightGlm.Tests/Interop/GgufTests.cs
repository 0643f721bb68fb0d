// GGUF export: the file parses back (header, metadata, tensor table, alignment), tensors round-trip (f32 exactly,
// q8_0/q4_0 within their bounds, block layout pinned by hand), architectures follow the config, bad files and
// refused configs are named; the export command end to end. llama.cpp running the files: GgufLlamaCppTests.
using System.Numerics.Tensors;
using LightGlm.Interop;
using LightGlm.Interop.Gguf;

namespace LightGlm.Tests.Interop;

public sealed class GgufTests
{
    internal static string Export(HfGolden.TempDir tmp, string name, GgmlType type)
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
}

[Collection("Console")]
public sealed class GgufCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => ImportCliTests.Run(args);

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
