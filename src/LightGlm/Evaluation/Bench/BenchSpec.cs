// The benchmark models of issue 2 (tiny, small) and the FLOP count that turns a step time into GFLOP/s.
using LightGlm.Model;

namespace LightGlm.Evaluation.Bench;

/// <summary>A benchmark model with its training batch shape and its decode lengths (batch 1).</summary>
public sealed record BenchSpec(string Name, ModelConfig Config, int Batch, int Seq, int PromptLength, int GenLength)
{
    public static IReadOnlyList<string> Names => ["tiny", "small"];

    /// <summary>tiny = V 4096, C 128, L 4, H 4, KV 2, F 344, (B, T) = (16, 64); small = V 8192, C 256, L 8, H 8, KV 2,
    /// F 688, (8, 128). Both LLaMA-style: untied head, RMSNorm, SwiGLU, full rotary, causal. Decode: a prompt of T/2
    /// tokens (prefill), then T/2 new tokens one at a time.</summary>
    public static BenchSpec Get(string name) => name switch
    {
        "tiny" => Make(name, v: 4096, c: 128, l: 4, h: 4, kv: 2, f: 344, b: 16, t: 64),
        "small" => Make(name, v: 8192, c: 256, l: 8, h: 8, kv: 2, f: 688, b: 8, t: 128),
        _ => throw new ArgumentException($"unknown bench config '{name}'; use one of: {string.Join(", ", Names)}"),
    };

    static BenchSpec Make(string name, int v, int c, int l, int h, int kv, int f, int b, int t) => new(name, new ModelConfig
    {
        ModelType = "llama", VocabSize = v, HiddenSize = c, NumHiddenLayers = l, NumAttentionHeads = h,
        NumKeyValueHeads = kv, IntermediateSize = f, RmsNormEps = 1e-5, RopeTheta = 10000, PartialRotaryFactor = 1.0,
        RopeInterleaved = false, AttentionBias = false, TieWordEmbeddings = false, PrefixLm = false,
        HiddenDropout = 0, MaxPositionEmbeddings = 2048,
    }, b, t, t / 2, t / 2);

    public int TokensPerStep => Batch * Seq;

    /// <summary>Parameters that multiply in a GEMM: every projection and the LM head (the embedding is a lookup).</summary>
    public static long MatmulParams(ModelConfig c)
    {
        long perLayer = (long)c.C * c.H * c.D + 2L * c.C * c.KV * c.D + (long)c.H * c.D * c.C + 3L * c.C * c.F;
        return c.L * perLayer + (long)c.V * c.C;
    }

    /// <summary>
    /// FLOPs of one training step (forward + backward) = tokens · (6·N + 12·L·H·D·T), N = <see cref="MatmulParams"/>:
    /// 2 FLOPs per multiply-add, backward = 2× forward; attention's q·kᵀ and p·v add 2·2·H·D·T per token and layer in
    /// forward, counted over the full T×T (PaLM's convention, as most MFU figures), not the causal half.
    /// </summary>
    public double TrainFlopsPerStep()
    {
        var c = Config;
        return (double)TokensPerStep * (6.0 * MatmulParams(c) + 12.0 * c.L * c.H * c.D * Seq);
    }
}
