// One linear map of the inference path, y (n, Out) = x (n, In)·Wᵀ (+ b): fp32 views of the model's arena, or
// weight-only int8/int4. One row (decode) is a matrix-vector product, never an M=1 GEMM.
using System.Numerics.Tensors;
using LightGlm.Kernels;
using LightGlm.Kernels.Quantized;

namespace LightGlm.Model.Inference;

/// <summary>Scratch the quantized projections share inside one session (sized once, reused every call).</summary>
internal sealed class ProjectionScratch(int maxRows, int maxPaddedIn)
{
    /// <summary>Inputs copied to PaddedCols strides, zero tails: (maxRows, maxPaddedIn).</summary>
    public readonly float[] XPad = new float[(long)maxRows * maxPaddedIn];
    /// <summary>A dequantized tile of weight rows for prefill GEMMs.</summary>
    public readonly float[] Tile = new float[TileFloats];
    public const int TileFloats = 1 << 18;
}

internal abstract class Projection(int outDim, int inDim, TensorView bias)
{
    public int Out { get; } = outDim;
    public int In { get; } = inDim;
    public TensorView Bias { get; } = bias;
    /// <summary>Bytes of the weights as this projection stores them (quantization scales included; bias excluded).</summary>
    public abstract long Bytes { get; }

    /// <summary>y (n, Out) = x (n, In)·Wᵀ + b; both contiguous; y does not overlap x.</summary>
    public void Forward(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
    {
        Multiply(y[..(n * Out)], x[..(n * In)], n, s);
        if (Bias.IsEmpty) return;
        var b = Bias.Span;
        for (int i = 0; i < n; i++) TensorPrimitives.Add(y.Slice(i * Out, Out), b, y.Slice(i * Out, Out));
    }

    protected abstract void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s);
}

/// <summary>fp32 weights (Out, In) in the model's arena: sgemv for one row, sgemm (NT) for several.</summary>
internal sealed class Fp32Projection(TensorView w, int outDim, int inDim, TensorView bias) : Projection(outDim, inDim, bias)
{
    public override long Bytes => (long)Out * In * sizeof(float);

    protected override void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
    {
        var ws = w.Data.AsSpan(w.Offset, Out * In);
        if (n == 1) Gemm.Sgemv(false, Out, In, 1f, ws, In, x, 0f, y);
        else Gemm.Sgemm(false, true, n, Out, In, 1f, x, In, ws, In, 0f, y, Out);
    }
}

/// <summary>
/// Group-wise int8/int4 weights. Up to <see cref="SmallRows"/> rows: the quantized matrix-vector kernel (each weight
/// row dequantized once per call, in registers for one row). More rows (prefill): tiles of weight rows are
/// dequantized into scratch and multiplied by sgemm, so prefill keeps GEMM speed.
/// </summary>
internal sealed class QuantizedProjection(QuantizedMatrix q, TensorView bias) : Projection(q.Rows, q.Cols, bias)
{
    public const int SmallRows = 8;
    public QuantizedMatrix Matrix { get; } = q;
    public override long Bytes => q.ByteSize;

    protected override void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
    {
        int threads = KernelParallel.Degree;
        if (n <= SmallRows)
        {
            int pc = q.PaddedCols;
            var xp = s.XPad.AsSpan(0, n * pc);
            for (int i = 0; i < n; i++)
            {
                x.Slice(i * In, In).CopyTo(xp.Slice(i * pc, In));
                xp.Slice(i * pc + In, pc - In).Clear();
            }
            QuantizedMatVec.Forward(q, xp, n, y, Out, threads);
            return;
        }
        int tileRows = Math.Max(1, ProjectionScratch.TileFloats / In);
        for (int r0 = 0; r0 < Out; r0 += tileRows)
        {
            int rows = Math.Min(tileRows, Out - r0);
            var tile = s.Tile.AsSpan(0, rows * In);
            QuantizedMatVec.Dequantize(q, r0, r0 + rows, tile, threads);
            Gemm.Sgemm(false, true, n, rows, In, 1f, x, In, tile, In, 0f, y[r0..], Out);
        }
    }
}
