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
    /// In place on N packed rows <paramref name="rowStride"/> apart: rotates the first <paramref name="heads"/> heads of
    /// each row at positions[n] (split over cores). The inverse rotation is the backward.
    /// </summary>
    public void ApplyRows(Span<float> rows, ReadOnlySpan<int> positions, int N, int heads, int D, int rowStride, bool inverse = false)
    {
        if (Table is null) return;
        KRotary.ApplyPacked(rows, positions, Table, N, heads, D, rowStride, Interleaved, inverse);
    }
}
