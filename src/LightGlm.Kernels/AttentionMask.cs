// The visible key range of a query row: causal, GLM prefix, and left padding all reduce to one contiguous range.
namespace LightGlm.Kernels;

internal static class AttentionMask
{
    /// <summary>
    /// Keys visible to query i of sequence b: j ≥ S_b and (j ≤ i or j &lt; P_b)  ⇔  j ∈ [S_b, min(T, max(i+1, P_b))).
    /// P_b = prefix length (0 = causal), S_b = first valid key (left padding; 0 = none).
    /// </summary>
    public static (int Lo, int Hi) Range(int i, int T, int prefix, int start)
    {
        int hi = Math.Min(T, Math.Max(i + 1, prefix));
        return (start, Math.Max(start, hi));
    }

    public static void Validate(string k, ReadOnlySpan<int> prefixLengths, ReadOnlySpan<int> keyStarts, int B, int T)
    {
        if (!prefixLengths.IsEmpty)
        {
            Check.Len(k, nameof(prefixLengths), prefixLengths, B);
            for (int b = 0; b < B; b++)
                if ((uint)prefixLengths[b] > (uint)T)
                    throw new ArgumentOutOfRangeException(nameof(prefixLengths), prefixLengths[b], $"{k}: prefixLengths[{b}] = {prefixLengths[b]} is outside [0, T={T}].");
        }
        if (!keyStarts.IsEmpty)
        {
            Check.Len(k, nameof(keyStarts), keyStarts, B);
            for (int b = 0; b < B; b++)
                if ((uint)keyStarts[b] > (uint)T)
                    throw new ArgumentOutOfRangeException(nameof(keyStarts), keyStarts[b], $"{k}: keyStarts[{b}] = {keyStarts[b]} is outside [0, T={T}].");
        }
    }
}
