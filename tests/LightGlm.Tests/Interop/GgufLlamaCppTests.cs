// llama.cpp (LLamaSharp 0.30.0) running our GGUF exports: logits and greedy tokens equal ours on the Hugging Face goldens
// and on our own configs (each graph and rotary pairing change), quantized files compute what their blocks say, and the
// bench's side procedure. Skipped with the loader's message when llama.cpp's native library cannot load here.
using System.Numerics.Tensors;
using LightGlm.Cli.LlamaCpp;
using LightGlm.Evaluation.Bench;
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

public sealed class GgufLlamaCppTests
{
    static string Export(HfGolden.TempDir tmp, string name, GgmlType type) => GgufTests.Export(tmp, name, type);

    /// <summary>Every golden llama.cpp has a graph for (llama: GQA, rotate_half, untied; qwen2: biases, tied; chatglm2, glm4:
    /// interleaved rotary over D/2, MQA); chatglm3-mha (q narrower than hidden) is refused (GgufTests).</summary>
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
        var peer = LlamaCppPeer.Run(path, "f32", 1, [16, 32], 8, 1, forced: ours.Greedy);
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

    /// <summary>
    /// `bench large-decode --json` on a one-layer Qwen2.5-0.5B stand-in: the random checkpoint and the GGUF are written once
    /// to the cache (a second run reuses them), and the output has the keys for both sides.
    /// </summary>
    [LlamaCppFact]
    public void LargeDecodeBenchPrintsBothSidesAsJson()
    {
        using var tmp = HfGolden.Temp();
        string[] args = ["bench", "large-decode", "--shape", "qwen2.5-0.5b", "--layers", "1", "--formats", "int8", "--vs-llamacpp",
            "--prompt-tokens", "8,16", "--tokens", "3", "--reps", "1", "--threads", "1", "--json", "--cache", tmp.Path];
        var res = LightGlm.Tests.Evaluation.CliProcess.Run(TimeSpan.FromMinutes(5), null, args);
        Assert.True(res.ExitCode == 0, res.Stderr);
        var o = System.Text.Json.Nodes.JsonNode.Parse(res.Stdout)!;
        Assert.Equal("qwen2.5-0.5b", (string?)o["shape"]);
        Assert.Equal(1, (int)o["threads"]!);
        foreach (var side in new[] { o["lightglm"]!["int8"]!, o["llamacpp"]!["q8_0"]! })
            foreach (var key in new[] { "decode_ms_per_token", "prefill_ms_8", "prefill_ms_16", "load_s", "peak_rss_mb" })
                Assert.True((double)side[key]! > 0, $"{key} in {side.ToJsonString()}");
        Assert.Contains("wrote qwen2.5-0.5b", res.Stderr);
        var again = LightGlm.Tests.Evaluation.CliProcess.Run(TimeSpan.FromMinutes(5), null, args);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.DoesNotContain("wrote", again.Stderr); // the cached checkpoint and GGUF are reused
        var bad = LightGlm.Tests.Evaluation.CliProcess.Run(TimeSpan.FromMinutes(1), null, "bench", "large-decode", "--shape", "gpt-9", "--formats", "int3");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--shape", bad.Stderr);
        Assert.Contains("'int3'", bad.Stderr); // every problem at once
    }
}
