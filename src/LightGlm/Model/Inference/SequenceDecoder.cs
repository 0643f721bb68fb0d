// One causal sequence through an InferenceSession: what measuring a model token by token needs (compression's size /
// speed / quality table, the import benchmarks, parity tests against Hugging Face), without a second forward pass.
using System.Numerics.Tensors;

namespace LightGlm.Model.Inference;

/// <summary>A one-slot <see cref="InferenceSession"/> fed causally: append tokens, read the logits of the last one.</summary>
public sealed class SequenceDecoder : ICausalDecoder
{
    readonly float[] _logits;

    public SequenceDecoder(InferenceWeights weights, int maxTokens)
    {
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "a decoder needs room for at least one token");
        Session = new InferenceSession(weights, 1, maxTokens);
        _logits = new float[weights.Config.V];
    }

    public InferenceSession Session { get; }
    public InferenceWeights Weights => Session.Weights;
    public int MaxTokens => Session.Cache.MaxLength;
    public int VocabSize => _logits.Length;
    /// <summary>Tokens fed since the last <see cref="Reset"/>.</summary>
    public int Length => Session.Cache.Length[0];

    public void Reset() => Session.Cache.Reset(0);

    /// <summary>Appends <paramref name="tokens"/> (one GEMM per projection for several) and returns the logits of the last
    /// one (V; a view valid until the next call).</summary>
    public ReadOnlySpan<float> Forward(scoped ReadOnlySpan<int> tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens to feed");
        if (Length + tokens.Length > MaxTokens) throw new ArgumentException($"{tokens.Length} tokens after {Length} exceed the decoder's {MaxTokens} positions");
        Session.Prefill(0, tokens, _logits);
        return _logits;
    }

    /// <summary>Feeds one token; the logits for the token after it (a view, valid until the next call).</summary>
    public ReadOnlySpan<float> Step(int token) => Forward([token]);

    /// <summary>Greedy continuation from an empty sequence: feeds <paramref name="prompt"/>, then <paramref name="count"/> argmax tokens.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count)
    {
        Reset();
        var logits = Forward(prompt.ToArray());
        var output = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int next = TensorPrimitives.IndexOfMax(logits);
            output.Add(next);
            if (i + 1 < count) logits = Step(next);
        }
        return output;
    }
}
