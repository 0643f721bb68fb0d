// `lightglm init`: a random checkpoint with a real model's exact config and shapes, in its Hugging Face layout.
using LightGlm.Interop;
using LightGlm.Interop.Inference;
using LightGlm.Model.Inference;
using LightGlm.Tests.Evaluation;

namespace LightGlm.Tests.Interop;

public sealed class SyntheticCheckpointTests
{
    [Fact]
    public void InitWritesQwen25ShapesThatOpenMappedAndDecode()
    {
        using var tmp = HfGolden.Temp();
        string dir = Path.Combine(tmp.Path, "q");
        var r = CliProcess.Run(null, "init", "--shape", "qwen2.5-0.5b", "--layers", "1", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var w = MappedWeights.Open(dir);
        Assert.Equal(HfArchitecture.Qwen2, w.Architecture);
        var c = w.Config;
        Assert.Equal((151936, 896, 1, 14, 2, 64, 4864), (c.V, c.C, c.L, c.H, c.KV, c.D, c.F));
        Assert.True(c.AttentionBias && c.TieWordEmbeddings);
        Assert.Equal(1_000_000, c.RopeTheta);
        Assert.All(w.ReadAll("model.layers.0.input_layernorm.weight"), x => Assert.Equal(1f, x));
        var q = w.ReadAll("model.layers.0.self_attn.q_proj.weight");
        double std = Math.Sqrt(q.Average(x => (double)x * x));
        Assert.InRange(std, 0.018, 0.022);
        var dec = new SequenceDecoder(MappedInferenceWeights.Create(w), 16);
        var logits = dec.Forward([1, 2, 3]).ToArray();
        Assert.All(logits, x => Assert.True(float.IsFinite(x)));
        // Deterministic in the seed: a second init gives the same bytes.
        string again = Path.Combine(tmp.Path, "again");
        Assert.Equal(0, CliProcess.Run(null, "init", "--shape", "qwen2.5-0.5b", "--layers", "1", "--out", again).ExitCode);
        using var w2 = MappedWeights.Open(again);
        Assert.Equal(q, w2.ReadAll("model.layers.0.self_attn.q_proj.weight"));
        var bad = CliProcess.Run(null, "init", "--shape", "gpt-5", "--out", Path.Combine(tmp.Path, "x"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("chatglm2-6b", bad.Stderr);
    }

    /// <summary>A 6B model does not fit the engine's one fp32 arena, but used in place (mapped, quantized, GGUF) it has
    /// no such limit: only the arena's validation refuses it, saying so.</summary>
    [Fact]
    public void A6BConfigIsRefusedOnlyByTheArena()
    {
        var (c, _) = SyntheticCheckpoint.Shape("chatglm2-6b");
        Assert.Empty(c.Problems(arena: false));
        Assert.Contains(c.Problems(), p => p.Contains("at most") && p.Contains("6,24"));
    }
}
