// Text generation over a KV cache: batched prompts of different lengths (each its own slot and positions), greedy or sampled.
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Generation;

/// <summary>One finished sequence: the new tokens (stop token excluded), why it ended, and (for beams) its score.</summary>
public sealed record GeneratedSequence(int[] Tokens, bool Stopped, double Score = double.NaN);

public static class Generator
{
    /// <summary>
    /// Continues each prompt. Each prompt is prefilled into its own cache slot from position 0 (no padding: positions are
    /// per sequence), then all unfinished sequences decode together, one token each per step.
    /// With <see cref="GenerationOptions.BeamWidth"/> &gt; 1, prompts are searched one after another by <see cref="BeamSearch"/>.
    /// </summary>
    public static IReadOnlyList<GeneratedSequence> Generate(GlmModel model, IReadOnlyList<int[]> prompts, GenerationOptions options,
        InferenceWeights? weights = null)
    {
        if (weights is not null && !InferenceSession.SameShape(weights.Config, model.Config))
            throw new ArgumentException("the inference weights were made from a model of another shape");
        return Generate(weights ?? InferenceWeights.Fp32(model), prompts, options);
    }

    /// <summary>The same over any weight source (a quantized checkpoint, a mapped one).</summary>
    public static IReadOnlyList<GeneratedSequence> Generate(InferenceWeights weights, IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        options.Validate();
        if (prompts.Count == 0) return [];
        var c = weights.Config;
        // In long: an int sum of a prompt and max new tokens near 2^31 wrapped negative and passed the check.
        long longest = prompts.Max(p => p.Length) + (long)options.MaxNewTokens;
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("every prompt needs at least one token (e.g. a BOS token)");
        if (longest > c.MaxPositionEmbeddings) // for beam search too, which sized its cache from the sum unchecked
            throw new ArgumentException($"prompt + max new tokens = {longest} exceeds max_position_embeddings = {c.MaxPositionEmbeddings}");
        if (options.BeamWidth > 1) return prompts.Select(p => BeamSearch.Run(weights, p, options)).ToList();
        int S = prompts.Count, V = c.V, maxLen = (int)longest;
        var session = new InferenceSession(weights, S, maxLen);
        var sampler = new Sampler(V);
        var rngs = Enumerable.Range(0, S).Select(_ => new Rng(options.Seed)).ToArray();
        var outputs = Enumerable.Range(0, S).Select(_ => new List<int>()).ToArray();
        var stopped = new bool[S];
        var logits = new float[S * V];
        var next = new int[S];
        var active = new List<int>(S);
        if (options.MaxNewTokens > 0)
        {
            // All prompts in one prefill (one GEMM per projection over their rows).
            session.Prefill(Enumerable.Range(0, S).ToArray(), prompts, logits, options.BidirectionalPrompt);
            options.MaskUnknownIds(logits, V);
            for (int s = 0; s < S; s++)
            {
                next[s] = sampler.Next(logits.AsSpan(s * V, V), options, ref rngs[s]);
                if (Accept(s)) active.Add(s);
            }
        }
        var slots = new int[S];
        var tokens = new int[S];
        while (active.Count > 0)
        {
            int n = active.Count;
            for (int i = 0; i < n; i++) { slots[i] = active[i]; tokens[i] = next[active[i]]; }
            session.Decode(slots.AsSpan(0, n), tokens.AsSpan(0, n), logits.AsSpan(0, n * V));
            options.MaskUnknownIds(logits.AsSpan(0, n * V), V);
            active.Clear();
            for (int i = 0; i < n; i++)
            {
                int s = slots[i];
                next[s] = sampler.Next(logits.AsSpan(i * V, V), options, ref rngs[s]);
                if (Accept(s)) active.Add(s);
            }
        }
        return Enumerable.Range(0, S).Select(s => new GeneratedSequence(outputs[s].ToArray(), stopped[s])).ToList();

        // Records next[s]; true when the sequence continues.
        bool Accept(int s)
        {
            if (options.StopTokens.Contains(next[s])) { stopped[s] = true; return false; }
            outputs[s].Add(next[s]);
            return outputs[s].Count < options.MaxNewTokens;
        }
    }

    /// <summary>Convenience: encode, generate, decode.</summary>
    public static IReadOnlyList<string> GenerateText(GlmModel model, ITokenizer tokenizer, IReadOnlyList<string> prompts, GenerationOptions options) =>
        GenerateText(InferenceWeights.Fp32(model), tokenizer, prompts, options);

    /// <summary>Convenience over any weight source: encode, generate, decode.</summary>
    public static IReadOnlyList<string> GenerateText(InferenceWeights weights, ITokenizer tokenizer, IReadOnlyList<string> prompts, GenerationOptions options)
    {
        var ids = prompts.Select(p =>
        {
            var e = tokenizer.EncodeText(p);
            return tokenizer.BosId is { } bos ? [bos, .. e] : e;
        }).ToList();
        // Never an id the tokenizer cannot decode (a padded embedding's spare rows).
        var o = options with { Vocabulary = options.Vocabulary > 0 ? Math.Min(options.Vocabulary, tokenizer.VocabSize) : tokenizer.VocabSize };
        return Generate(weights, ids, o).Select(g => tokenizer.DecodeText(g.Tokens)).ToList();
    }
}
