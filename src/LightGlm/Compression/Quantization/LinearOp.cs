// A linear map y = W·x (+ b) for inference, fp32 or weight-only int8/int4: the decoder runs either without knowing which.
using System.Numerics.Tensors;
using LightGlm.Kernels.Quantized;

namespace LightGlm.Compression.Quantization;

public abstract class LinearOp(int rows, int cols, float[]? bias)
{
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;
    public float[]? Bias { get; } = bias;
    /// <summary>Bytes of the stored weights (scales included), bias excluded.</summary>
    public abstract long Bytes { get; }
    /// <summary>y (Rows) = W x (Cols) + b.</summary>
    public abstract void MatVec(ReadOnlySpan<float> x, Span<float> y);
    /// <summary>Y (n, Rows) = X (n, Cols) Wᵀ + b.</summary>
    public abstract void MatMul(float[] x, int n, float[] y);
}

/// <summary>fp32 weights, rows split over cores; the baseline the quantized op is measured against.</summary>
public sealed class Fp32Linear(float[] w, int rows, int cols, float[]? bias) : LinearOp(rows, cols, bias)
{
    public override long Bytes => (long)w.Length * 4;

    public override void MatVec(ReadOnlySpan<float> x, Span<float> y)
    {
        var xs = x.ToArray();
        var ys = new float[Rows];
        int tasks = (long)Rows * Cols < 1 << 16 ? 1 : Environment.ProcessorCount;
        int chunk = (Rows + tasks - 1) / tasks;
        Parallel.For(0, tasks, t =>
        {
            for (int r = t * chunk; r < Math.Min(Rows, (t + 1) * chunk); r++)
                ys[r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(w, r * Cols, Cols), xs) + (Bias?[r] ?? 0f);
        });
        ys.CopyTo(y);
    }

    public override void MatMul(float[] x, int n, float[] y)
    {
        Parallel.For(0, Rows, r =>
        {
            var wr = new ReadOnlySpan<float>(w, r * Cols, Cols);
            for (int i = 0; i < n; i++) y[i * Rows + r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(x, i * Cols, Cols), wr) + (Bias?[r] ?? 0f);
        });
    }
}

/// <summary>int8/int4 group-wise weights through the kernels of LightGlm.Kernels.Quantized.</summary>
public sealed class QuantizedLinearOp(QuantizedMatrix q, float[]? bias) : LinearOp(q.Rows, q.Cols, bias)
{
    public QuantizedMatrix Matrix { get; } = q;
    public override long Bytes => q.ByteSize;
    public override void MatVec(ReadOnlySpan<float> x, Span<float> y) => QuantizedLinear.MatVec(q, x, y, Bias);
    public override void MatMul(float[] x, int n, float[] y) => QuantizedLinear.MatMul(q, x.AsSpan(0, n * Cols), n, y.AsSpan(0, n * Rows), Bias);
}
