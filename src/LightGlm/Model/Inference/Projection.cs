// One linear map of the inference path, y (n, Out) = x (n, In)·Wᵀ (+ b), whatever holds W: fp32 views of the model's
// arena, weight-only int8/int4, or stacked row blocks read from any weight source (named fp32 tensors, memory-mapped
// bf16/fp16 checkpoints). One row (decode) is a matrix-vector product, never an M=1 GEMM; several rows (prefill) are
// a GEMM, over dequantized/widened tiles when W is not fp32 in memory.
using System.Numerics.Tensors;
using LightGlm.Kernels;
using LightGlm.Kernels.Quantized;

namespace LightGlm.Model.Inference;

/// <summary>Scratch the projections share inside one session (sized once, reused every call).</summary>
internal sealed class ProjectionScratch(int maxRows, int maxPaddedIn)
{
    /// <summary>Inputs copied to PaddedCols strides, zero tails: (maxRows, maxPaddedIn).</summary>
    public readonly float[] XPad = new float[(long)maxRows * maxPaddedIn];
    /// <summary>A dequantized/widened tile of weight rows for prefill GEMMs.</summary>
    public readonly float[] Tile = new float[TileFloats];
    public const int TileFloats = 1 << 18;
}

public abstract class Projection(int outDim, int inDim, ReadOnlyMemory<float> bias)
{
    /// <summary>Up to this many rows a projection runs matrix-vector products; more rows run a GEMM.</summary>
    public const int SmallRows = 8;
    public int Out { get; } = outDim;
    public int In { get; } = inDim;
    public ReadOnlyMemory<float> Bias { get; } = bias;
    /// <summary>Bytes of the weights as this projection stores them (quantization scales included; bias excluded).</summary>
    public abstract long Bytes { get; }

    /// <summary>y (n, Out) = x (n, In)·Wᵀ + b; both contiguous; y does not overlap x.</summary>
    internal void Forward(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
    {
        Multiply(y[..(n * Out)], x[..(n * In)], n, s);
        if (Bias.IsEmpty) return;
        var b = Bias.Span;
        for (int i = 0; i < n; i++) TensorPrimitives.Add(y.Slice(i * Out, Out), b, y.Slice(i * Out, Out));
    }

    /// <summary>Rows [r0, r0 + count) of W as fp32 (count, In): what quantizing or exporting a projection reads.</summary>
    public abstract void ReadRows(int r0, int count, Span<float> dst);

    internal abstract void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s);
}

/// <summary>fp32 weights (Out, In) contiguous in memory: sgemv for one row, sgemm (NT) for several.</summary>
public sealed class Fp32Projection(ReadOnlyMemory<float> w, int outDim, int inDim, ReadOnlyMemory<float> bias) : Projection(outDim, inDim, bias)
{
    public override long Bytes => (long)Out * In * sizeof(float);

    public override void ReadRows(int r0, int count, Span<float> dst) => w.Span.Slice(r0 * In, count * In).CopyTo(dst);

    internal override void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
    {
        var ws = w.Span[..(Out * In)];
        if (n == 1) Gemm.Sgemv(false, Out, In, 1f, ws, In, x, 0f, y);
        else Gemm.Sgemm(false, true, n, Out, In, 1f, x, In, ws, In, 0f, y, Out);
    }
}

/// <summary>
/// Group-wise int8/int4 weights. Up to <see cref="Projection.SmallRows"/> rows: the quantized matrix-vector kernel
/// (each weight row dequantized once per call, in registers). More rows (prefill): tiles of weight rows are
/// dequantized into scratch and multiplied by sgemm, so prefill keeps GEMM speed.
/// </summary>
public sealed class QuantizedProjection(QuantizedMatrix q, ReadOnlyMemory<float> bias) : Projection(q.Rows, q.Cols, bias)
{
    public QuantizedMatrix Matrix => q;
    public override long Bytes => q.ByteSize;

    /// <summary>
    /// Quantizes any projection (round to nearest, symmetric, one scale per group) a tile of rows at a time: rows are
    /// quantized independently, so the tiles' blocks laid end to end are the whole matrix's, and only one fp32 tile is
    /// ever held (a 6B model's projections would otherwise pass through the heap as fp32 copies).
    /// </summary>
    public static QuantizedProjection From(Projection p, QuantFormat format, int groupSize)
    {
        var layout = QuantBlockLayout.Create(format, groupSize);
        int padded = (p.In + groupSize - 1) / groupSize * groupSize, rowBytes = padded / groupSize * layout.BlockBytes;
        var data = new byte[checked((long)p.Out * rowBytes)];
        int tileRows = Math.Max(1, ProjectionScratch.TileFloats / p.In);
        var tile = new float[(long)Math.Min(tileRows, p.Out) * p.In];
        for (int r0 = 0; r0 < p.Out; r0 += tileRows)
        {
            int rows = Math.Min(tileRows, p.Out - r0);
            var w = tile.AsSpan(0, rows * p.In);
            p.ReadRows(r0, rows, w);
            QuantizedMatrix.Quantize(w, rows, p.In, format, groupSize).Data.CopyTo(data, (long)r0 * rowBytes);
        }
        return new QuantizedProjection(new QuantizedMatrix(layout, p.Out, p.In, data), p.Bias);
    }

    public override void ReadRows(int r0, int count, Span<float> dst) =>
        QuantizedMatVec.Dequantize(q, r0, r0 + count, dst[..(count * In)], KernelParallel.Degree);

    internal override void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
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

/// <summary>
/// A weight matrix (Rows, Cols) as some storage holds it: read rows as fp32 and multiply a vector by it. The unit a
/// weight source is made of (one named tensor of a checkpoint, in memory or memory-mapped).
/// </summary>
public abstract class WeightRows(int rows, int cols)
{
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;
    /// <summary>Bytes as stored.</summary>
    public abstract long Bytes { get; }
    /// <summary>Rows [r0, r0 + count) as fp32 into dst (count, Cols).</summary>
    public abstract void Read(int r0, int count, Span<float> dst);
    /// <summary>y (Rows) = W·x; y is a strided view: y[r] goes to y[r] of the span given.</summary>
    public abstract void MatVec(ReadOnlySpan<float> x, Span<float> y);
    /// <summary>The fp32 matrix in memory when the storage is one (GEMMs then run on it directly); else empty.</summary>
    public virtual ReadOnlyMemory<float> Fp32 => default;
}

/// <summary>fp32 rows in memory.</summary>
public sealed class ArrayRows(ReadOnlyMemory<float> data, int rows, int cols) : WeightRows(rows, cols)
{
    readonly ReadOnlyMemory<float> _data = data.Length >= (long)rows * cols ? data[..(rows * cols)]
        : throw new ArgumentException($"a ({rows}, {cols}) matrix needs {(long)rows * cols} values, got {data.Length}");
    public override long Bytes => (long)Rows * Cols * sizeof(float);
    public override ReadOnlyMemory<float> Fp32 => _data;
    public override void Read(int r0, int count, Span<float> dst) => _data.Span.Slice(r0 * Cols, count * Cols).CopyTo(dst);
    public override void MatVec(ReadOnlySpan<float> x, Span<float> y) => Gemm.Sgemv(false, Rows, Cols, 1f, _data.Span, Cols, x, 0f, y);
}

/// <summary>Group-wise int8/int4 rows (a quantized checkpoint's tensor): matrix-vector products by the quantized kernel,
/// rows dequantized for prefill tiles and embedding lookups.</summary>
public sealed class QuantizedRows(QuantizedMatrix q) : WeightRows(q.Rows, q.Cols)
{
    [ThreadStatic] static float[]? _xPad;
    public QuantizedMatrix Matrix => q;
    public override long Bytes => q.ByteSize;
    public override void Read(int r0, int count, Span<float> dst) =>
        QuantizedMatVec.Dequantize(q, r0, r0 + count, dst[..(count * Cols)], KernelParallel.Degree);
    public override void MatVec(ReadOnlySpan<float> x, Span<float> y)
    {
        var xp = _xPad is { } b && b.Length >= q.PaddedCols ? b : _xPad = new float[q.PaddedCols];
        x[..Cols].CopyTo(xp);
        xp.AsSpan(Cols, q.PaddedCols - Cols).Clear();
        QuantizedMatVec.Forward(q, xp.AsSpan(0, q.PaddedCols), 1, y[..Rows], Rows, KernelParallel.Degree);
    }
}

/// <summary>
/// W = the row blocks of several matrices stacked (q; k; v or gate; up as separate tensors of a checkpoint), all with
/// In columns: each block writes its own output columns. Decode: each block's matrix-vector product; prefill: GEMM
/// straight on fp32 blocks, over widened tiles of any other storage.
/// </summary>
public sealed class StackedProjection : Projection
{
    readonly WeightRows[] _parts;
    readonly int[] _offsets;

    public StackedProjection(IReadOnlyList<WeightRows> parts, ReadOnlyMemory<float> bias)
        : base(parts.Sum(p => p.Rows), parts.Count > 0 ? parts[0].Cols : 0, bias)
    {
        if (parts.Count == 0) throw new ArgumentException("a projection needs at least one weight matrix");
        if (parts.Any(p => p.Cols != In)) throw new ArgumentException($"stacked matrices must have the same input width ({string.Join(", ", parts.Select(p => p.Cols))})");
        if (!bias.IsEmpty && bias.Length != Out) throw new ArgumentException($"bias has {bias.Length} values for {Out} outputs");
        _parts = parts.ToArray();
        _offsets = new int[_parts.Length];
        for (int i = 1; i < _parts.Length; i++) _offsets[i] = _offsets[i - 1] + _parts[i - 1].Rows;
    }

    public override long Bytes => _parts.Sum(p => p.Bytes);

    public override void ReadRows(int r0, int count, Span<float> dst)
    {
        for (int i = 0; i < _parts.Length && count > 0; i++)
        {
            var p = _parts[i];
            int local = r0 - _offsets[i];
            if (local >= p.Rows) continue;
            int take = Math.Min(count, p.Rows - local);
            p.Read(local, take, dst[..(take * In)]);
            dst = dst[(take * In)..]; r0 += take; count -= take;
        }
    }

    internal override void Multiply(Span<float> y, ReadOnlySpan<float> x, int n, ProjectionScratch s)
    {
        for (int i = 0; i < _parts.Length; i++)
        {
            var p = _parts[i];
            int off = _offsets[i];
            if (!p.Fp32.IsEmpty)
            {
                if (n == 1) Gemm.Sgemv(false, p.Rows, In, 1f, p.Fp32.Span, In, x, 0f, y.Slice(off, p.Rows));
                else Gemm.Sgemm(false, true, n, p.Rows, In, 1f, x, In, p.Fp32.Span, In, 0f, y[off..], Out);
                continue;
            }
            if (n <= SmallRows)
            {
                for (int r = 0; r < n; r++) p.MatVec(x.Slice(r * In, In), y.Slice(r * Out + off, p.Rows));
                continue;
            }
            int tileRows = Math.Max(1, ProjectionScratch.TileFloats / In);
            for (int r0 = 0; r0 < p.Rows; r0 += tileRows)
            {
                int rows = Math.Min(tileRows, p.Rows - r0);
                var tile = s.Tile.AsSpan(0, rows * In);
                p.Read(r0, rows, tile);
                Gemm.Sgemm(false, true, n, rows, In, 1f, x, In, tile, In, 0f, y[(off + r0)..], Out);
            }
        }
    }
}
