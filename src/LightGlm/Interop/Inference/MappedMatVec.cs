// y = W·x (+ b) with W read row-block by row-block from a memory-mapped checkpoint and widened to float32 per block.
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LightGlm.Model.Checkpoints;

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
            var xs = x.AsSpan(0, len);
            if (w.Entry.DType == TensorDType.BF16)
            {
                // fused: widen bf16 in registers inside the dot product (no float32 copy of the block)
                weights.ReadRowsRaw(w, r0, n, raw.AsSpan(0, n * len * 2));
                var u = MemoryMarshal.Cast<byte, ushort>(raw.AsSpan(0, n * len * 2));
                for (int i = 0; i < n; i++)
                    y[r0 + i] = DotBFloat16(u.Slice(i * len, len), xs) + (bias is null ? 0f : bias[r0 + i]);
                return;
            }
            weights.ReadRows(w, r0, n, buf.AsSpan(0, n * len), raw);
            for (int i = 0; i < n; i++)
                y[r0 + i] = TensorPrimitives.Dot(buf.AsSpan(i * len, len), xs) + (bias is null ? 0f : bias[r0 + i]);
        });
    }

    /// <summary>Σ_i bf16(w_i)·x_i with bf16 → f32 = bits &lt;&lt; 16 done in vector registers (16 weights per step, two accumulators).</summary>
    public static float DotBFloat16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && w.Length >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i + 16 <= w.Length; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(w.Slice(i, 16)));
                acc0 += Vector256.ShiftLeft(lo, 16).AsSingle() * Vector256.Create(x.Slice(i, 8));
                acc1 += Vector256.ShiftLeft(hi, 16).AsSingle() * Vector256.Create(x.Slice(i + 8, 8));
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < w.Length; i++) sum += BitConverter.Int32BitsToSingle(w[i] << 16) * x[i];
        return sum;
    }
}
