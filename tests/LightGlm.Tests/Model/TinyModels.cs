// Tiny GLM-style and LLaMA-style configs and batches shared by the model, training and generation tests.
using LightGlm.Model;

namespace LightGlm.Tests.Model;

internal static class TinyModels
{
    /// <summary>GLM-style: partial (half) interleaved rotary, qkv bias, GQA (H=4, KV=2), prefix LM.</summary>
    public static ModelConfig Glm(int vocab = 13) => new()
    {
        ModelType = "chatglm", VocabSize = vocab, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = 2, IntermediateSize = 24, PartialRotaryFactor = 0.5, RopeInterleaved = true,
        AttentionBias = true, PrefixLm = true, MaxPositionEmbeddings = 64, EosTokenId = 1, PadTokenId = 0,
    };

    /// <summary>LLaMA-style: full rotate_half rotary, no bias, multi-head, tied embeddings off.</summary>
    public static ModelConfig Llama(int vocab = 13) => new()
    {
        ModelType = "llama", VocabSize = vocab, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2,
        NumKeyValueHeads = 2, IntermediateSize = 20, MaxPositionEmbeddings = 64, EosTokenId = 1, PadTokenId = 0,
    };

    /// <summary>A random batch with a few ignored targets; deterministic in the seed.</summary>
    public static Batch RandomBatch(ModelConfig c, int b, int t, ulong seed, bool prefix = false)
    {
        var rng = new Rng(seed);
        var batch = new Batch(b, t);
        for (int i = 0; i < b * t; i++)
        {
            batch.Tokens[i] = rng.NextInt(c.V);
            batch.Targets[i] = rng.NextInt(5) == 0 ? -1 : rng.NextInt(c.V);
        }
        if (prefix) batch.PrefixLengths = Enumerable.Range(0, b).Select(i => 1 + (i * 2) % t).ToArray();
        batch.NormaliseByOwnCount();
        return batch;
    }
}
