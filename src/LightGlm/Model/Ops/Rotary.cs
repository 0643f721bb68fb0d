// Rotary position embeddings of a model (partial or full; interleaved pairs as ChatGLM, or rotate_half as LLaMA),
// over the kernels' cos/sin table and rotary kernel.
using KRotary = LightGlm.Kernels.Rotary;
using KRotaryTable = LightGlm.Kernels.RotaryTable;

namespace LightGlm.Model.Ops;

/// <summary>cos/sin of t·inv_freq_j for t &lt; maxPositions, j &lt; R/2, inv_freq_j = θ^(−2j/R) (LightGlm.Kernels.RotaryTable).</summary>
public sealed class RotaryTable
{
    public int R { get; }
    public bool Interleaved { get; }
    public int MaxPositions { get; }
    /// <summary>The kernels' table; null when R = 0 (no rotary dims).</summary>
    public KRotaryTable? Table { get; }

    public RotaryTable(ModelConfig c) : this(c.R, c.RopeTheta, c.RopeInterleaved, c.MaxPositionEmbeddings) { }

    public RotaryTable(int r, double theta, bool interleaved, int maxPositions)
    {
        R = r; Interleaved = interleaved; MaxPositions = maxPositions;
        Table = r == 0 ? null : new KRotaryTable(maxPositions, r, theta);
    }

    /// <summary>
    /// Rotates the first R dims of each of <paramref name="heads"/> head vectors (length D) in <paramref name="v"/> at position pos.
    /// Forward: (a, b) → (a·cos − b·sin, a·sin + b·cos). Backward (inverse = transpose): sign = −1.
    /// </summary>
    public void Apply(Span<float> v, int heads, int D, int pos, bool inverse = false)
    {
        if (Table is null) return;
        if ((uint)pos >= (uint)MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(pos), $"position {pos} is beyond max_position_embeddings = {MaxPositions}");
        int half = R / 2;
        var cos = Table.Cos.AsSpan(pos * half, half);
        var sin = Table.Sin.AsSpan(pos * half, half);
        float sign = inverse ? -1f : 1f;
        for (int h = 0; h < heads; h++)
        {
            var x = v.Slice(h * D, D);
            for (int j = 0; j < half; j++)
            {
                int i0 = Interleaved ? 2 * j : j;
                int i1 = Interleaved ? 2 * j + 1 : j + half;
                float c = cos[j], s = sign * sin[j];
                float a = x[i0], b = x[i1];
                x[i0] = a * c - b * s;
                x[i1] = a * s + b * c;
            }
        }
    }

    /// <summary>
    /// In place on N packed rows <paramref name="rowStride"/> apart: rotates the first <paramref name="heads"/> heads of
    /// each row at positions[n] (split over cores). The inverse rotation is the backward.
    /// </summary>
    public void ApplyRows(Span<float> rows, ReadOnlySpan<int> positions, int N, int heads, int D, int rowStride, bool inverse = false)
    {
        if (Table is null) return;
        KRotary.ApplyPacked(rows, positions, Table, N, heads, D, rowStride, Interleaved, inverse);
    }
}
