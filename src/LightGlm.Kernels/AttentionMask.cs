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

/// <summary>
/// Packed sequences: each row of T holds several examples back to back, and no query may see another example's keys.
/// Per query position n = b·T + i: Starts[n] = the first position of i's example in the row, PrefixEnds[n] = the
/// position where that example's bidirectional prefix ends (= Starts[n] for a causal example). Query i then sees keys
/// [Starts[n], min(T, max(i+1, PrefixEnds[n]))) — <see cref="AttentionMask.Range"/> with per-query P and S — so each
/// example attends only to itself, as if it were alone in the row at positions 0.. (the caller also restarts the rotary
/// positions at each example). Empty = not packed.
/// </summary>
public readonly ref struct AttentionSegments(ReadOnlySpan<int> starts, ReadOnlySpan<int> prefixEnds)
{
    public ReadOnlySpan<int> Starts { get; } = starts;
    public ReadOnlySpan<int> PrefixEnds { get; } = prefixEnds;
    public bool IsEmpty => Starts.IsEmpty;

    /// <summary>
    /// Checks lengths (B·T each) and that the examples of a row follow each other: at every position either the example
    /// goes on (same start and prefix end as the position before) or a new one starts (Starts[n] = i), and no example's
    /// prefix reaches into the next example. Then each query sees only its own example, and visible ends never
    /// decrease along a row, which the attention kernels rely on to skip keys no query of a block can see.
    /// </summary>
    public void Validate(string k, int B, int T)
    {
        if (IsEmpty && PrefixEnds.IsEmpty) return;
        Check.Len(k, "segments.Starts", Starts, (long)B * T);
        Check.Len(k, "segments.PrefixEnds", PrefixEnds, (long)B * T);
        for (int b = 0; b < B; b++)
        {
            for (int i = 0; i < T; i++)
            {
                int n = b * T + i, s = Starts[n], p = PrefixEnds[n];
                bool goesOn = i > 0 && s == Starts[n - 1] && p == PrefixEnds[n - 1];
                if (!goesOn && s != i)
                    throw new ArgumentException($"{k}: packed row {b}, position {i}: segments.Starts = {s} neither continues the example before it nor starts a new one here (= {i}).");
                if (p < s || p > T)
                    throw new ArgumentOutOfRangeException(nameof(PrefixEnds), p, $"{k}: packed row {b}, position {i}: segments.PrefixEnds = {p} must be in [Starts = {s}, T = {T}].");
                if (!goesOn && i > 0 && PrefixEnds[n - 1] > i)
                    throw new ArgumentException($"{k}: packed row {b}: the example ending at position {i - 1} has its prefix end at {PrefixEnds[n - 1]}, inside the next example.");
            }
        }
    }
}
