// Picks the next token from logits: argmax, or temperature → top-k → top-p (nucleus) sampling with a seeded RNG.
using System.Numerics.Tensors;
using LightGlm.Model;

namespace LightGlm.Generation;

/// <summary>Holds its scratch (V floats and V ints) so sampling does not allocate per token.</summary>
public sealed class Sampler(int vocabSize)
{
    readonly float[] _probs = new float[vocabSize];
    readonly int[] _order = new int[vocabSize];

    public static int ArgMax(ReadOnlySpan<float> logits) => TensorPrimitives.IndexOfMax(logits);

    public int Next(ReadOnlySpan<float> logits, GenerationOptions o, ref Rng rng)
    {
        if (o.Greedy) return ArgMax(logits);
        int V = logits.Length;
        var p = _probs.AsSpan(0, V);
        // softmax(logits / T)
        TensorPrimitives.Multiply(logits, 1f / o.Temperature, p);
        float max = TensorPrimitives.Max(p);
        TensorPrimitives.Subtract(p, max, p);
        TensorPrimitives.Exp(p, p);
        TensorPrimitives.Divide(p, TensorPrimitives.Sum(p), p);
        int keep = V;
        var order = _order.AsSpan(0, V);
        if (o.TopK > 0 || o.TopP < 1)
        {
            for (int i = 0; i < V; i++) order[i] = i;
            // Sort by probability descending, ties by id (deterministic).
            var probs = _probs;
            order.Sort((a, b) => probs[b] != probs[a] ? probs[b].CompareTo(probs[a]) : a.CompareTo(b));
            if (o.TopK > 0) keep = Math.Min(keep, o.TopK);
            if (o.TopP < 1)
            {
                double cum = 0;
                for (int i = 0; i < keep; i++) { cum += p[order[i]]; if (cum >= o.TopP) { keep = i + 1; break; } }
            }
        }
        else for (int i = 0; i < V; i++) order[i] = i;
        double total = 0;
        for (int i = 0; i < keep; i++) total += p[order[i]];
        double u = rng.NextDouble() * total, acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += p[order[i]];
            if (u < acc) return order[i];
        }
        return order[keep - 1];
    }
}
