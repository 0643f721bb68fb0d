// y = W·x (+ b) with W read row-block by row-block from a memory-mapped checkpoint and widened to float32 per block.
using System.Numerics.Tensors;

namespace LightGlm.Interop.Inference;

/// <summary>
/// Matrix-vector products over weights that stay in their stored dtype (bf16/fp16/fp32) in the page cache: each
/// worker widens a block of rows (≈64K values) into its own float32 buffer and takes dot products, so the resident
/// float32 copy of a weight matrix is one block per core, never the matrix.
/// </summary>
public static class MappedMatVec
{
    const int BlockValues = 1 << 16;
    [ThreadStatic] static float[]? _rows;
    [ThreadStatic] static byte[]? _raw;

    /// <summary>y[r] = Σ_c W[r, c]·x[c] (+ bias[r]) for every row r of <paramref name="w"/>.</summary>
    public static void Run(MappedWeights weights, MappedTensor w, float[] x, float[] y, float[]? bias = null)
    {
        int rows = w.Map.HfRows.Length, len = (int)w.Map.RowLength;
        if (x.Length < len || y.Length < rows) throw new ArgumentException($"{w.Map.Ours}: x has {x.Length} (need {len}), y has {y.Length} (need {rows})");
        int block = Math.Max(1, BlockValues / len);
        int blocks = (rows + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, b =>
        {
            int r0 = b * block, n = Math.Min(block, rows - r0);
            var buf = _rows ??= new float[Math.Max(BlockValues, len)];
            if (buf.Length < n * len) buf = _rows = new float[n * len];
            var raw = _raw ??= new byte[buf.Length * 2];
            if (raw.Length < n * len * 2) raw = _raw = new byte[n * len * 2];
            weights.ReadRows(w, r0, n, buf.AsSpan(0, n * len), raw);
            var xs = x.AsSpan(0, len);
            for (int i = 0; i < n; i++)
                y[r0 + i] = TensorPrimitives.Dot(buf.AsSpan(i * len, len), xs) + (bias is null ? 0f : bias[r0 + i]);
        });
    }
}
