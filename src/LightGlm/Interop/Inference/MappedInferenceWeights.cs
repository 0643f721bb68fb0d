// A memory-mapped checkpoint (ours or Hugging Face's, any stored dtype, fused or not) as an inference weight source:
// the one forward pass (InferenceSession) runs over it with the weights left in the page cache.
using System.Numerics.Tensors;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Inference;

namespace LightGlm.Interop.Inference;

public static class MappedInferenceWeights
{
    /// <summary>
    /// Inference weights read from <paramref name="weights"/> on demand: decode widens each weight row in registers
    /// (bf16) or a block at a time (fp16/fp32) inside the matrix-vector product; prefill widens tiles of rows and runs
    /// GEMMs on them. Norms and biases are read once (small). Resident memory: the page cache of the weights, one tile
    /// per session and the KV cache.
    /// </summary>
    public static InferenceWeights Create(MappedWeights weights)
    {
        return InferenceWeights.Named(weights.Config,
            name => weights.Has(name) ? new MappedRows(weights, weights[name]) : null,
            name => weights.Has(name) ? weights.ReadAll(name) : null);
    }
}

/// <summary>One mapped tensor as weight rows: read as fp32 through the row map, multiplied in its stored dtype.</summary>
public sealed class MappedRows(MappedWeights weights, MappedTensor tensor)
    : WeightRows(tensor.Map.HfRows.Length, (int)tensor.Map.RowLength)
{
    const int BlockValues = 1 << 16;
    [ThreadStatic] static float[]? _rows;
    [ThreadStatic] static byte[]? _raw;

    public override long Bytes => (long)Rows * Cols * tensor.Entry.DType.Size();

    public override void Read(int r0, int count, Span<float> dst)
    {
        int need = count * Cols * 4;
        var raw = _raw is { } b && b.Length >= need ? b : _raw = new byte[need];
        weights.ReadRows(tensor, r0, count, dst[..(count * Cols)], raw);
    }

    /// <summary>y = W·x, rows split over the cores: bf16 rows are read in place from the map and widened inside the dot
    /// product (BFloat16Dot); other dtypes are widened a block of ≈64K values at a time.</summary>
    public override void MatVec(ReadOnlySpan<float> x, Span<float> y)
    {
        int rows = Rows, len = Cols;
        if (tensor.Entry.DType == TensorDType.BF16)
        {
            Kernels.BFloat16Dot.Rows(weights.Archive.FileOf(tensor.Entry).DataAddress(tensor.Entry), tensor.Map.HfRows, len, x[..len], y[..rows],
                Kernels.KernelParallel.Degree);
            return;
        }
        int block = Math.Max(1, BlockValues / len);
        var xs = x[..len].ToArray();
        var ys = new float[rows];
        Kernels.KernelParallel.For((rows + block - 1) / block, 1, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                int r0 = b * block, n = Math.Min(block, rows - r0);
                var raw = _raw is { } rb && rb.Length >= n * len * 4 ? rb : _raw = new byte[Math.Max(BlockValues, n * len) * 4];
                var buf = _rows is { } fb && fb.Length >= n * len ? fb : _rows = new float[Math.Max(BlockValues, n * len)];
                weights.ReadRows(tensor, r0, n, buf.AsSpan(0, n * len), raw);
                for (int i = 0; i < n; i++) ys[r0 + i] = TensorPrimitives.Dot(buf.AsSpan(i * len, len), xs);
            }
        });
        ys.CopyTo(y);
    }
}
