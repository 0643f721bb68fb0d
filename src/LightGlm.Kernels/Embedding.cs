// Token embedding lookup: out[n] = table[token_n], and the scatter-add backward.
namespace LightGlm.Kernels;

public static unsafe class Embedding
{
    /// <summary>out (N, C) = table (V, C) rows at tokens (N); overwritten. Throws on a token outside [0, V).</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<int> tokens, ReadOnlySpan<float> table, int N, int V, int C)
    {
        const string k = "Embedding.Forward";
        Validate(k, tokens, N, V, C);
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, (long)N * C);
        Check.Len(k, nameof(table), table, (long)V * C);
        for (int n = 0; n < N; n++)
            table.Slice(tokens[n] * C, C).CopyTo(output.Slice(n * C, C));
    }

    /// <summary>dtable[token_n] += dout[n] for each n (repeated tokens add up, in order n = 0..N−1). dtable (V, C) is ACCUMULATED.</summary>
    public static void Backward(Span<float> dtable, ReadOnlySpan<float> doutput, ReadOnlySpan<int> tokens, int N, int V, int C)
    {
        const string k = "Embedding.Backward";
        Validate(k, tokens, N, V, C);
        Check.Len(k, nameof(dtable), (ReadOnlySpan<float>)dtable, (long)V * C);
        Check.Len(k, nameof(doutput), doutput, (long)N * C);
        for (int n = 0; n < N; n++)
            System.Numerics.Tensors.TensorPrimitives.Add(dtable.Slice(tokens[n] * C, C), doutput.Slice(n * C, C), dtable.Slice(tokens[n] * C, C));
    }

    static void Validate(string k, ReadOnlySpan<int> tokens, int N, int V, int C)
    {
        Check.Dims(k, (nameof(N), N), (nameof(V), V), (nameof(C), C));
        Check.Len(k, nameof(tokens), tokens, N);
        for (int n = 0; n < N; n++)
            if ((uint)tokens[n] >= (uint)V)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[n], $"{k}: tokens[{n}] = {tokens[n]} is outside the vocabulary [0, {V}).");
    }
}
