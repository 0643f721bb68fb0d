// Matrix-vector (decode) and matrix-matrix (prefill) products with a quantized weight: y = x·Wᵀ, W (out, in) int8/int4.
using System.Buffers;

namespace LightGlm.Kernels.Quantized;

public static unsafe class QuantizedLinear
{
    /// <summary>Rows·Cols multiply-adds below which one thread does the whole product (threads cost more than they save).</summary>
    const long ParallelThreshold = 1 << 16;

    /// <summary>y[r] = Σ_c W[r,c]·x[c] (+ bias[r]) for one vector x (Cols) → y (Rows). Decode's hot path.</summary>
    public static void MatVec(QuantizedMatrix w, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> bias = default)
    {
        if (x.Length != w.Cols) throw new ArgumentException($"x has {x.Length} values, W is ({w.Rows}, {w.Cols})");
        if (y.Length != w.Rows) throw new ArgumentException($"y has {y.Length} values, W is ({w.Rows}, {w.Cols})");
        if (!bias.IsEmpty && bias.Length != w.Rows) throw new ArgumentException($"bias has {bias.Length} values, W has {w.Rows} rows");
        float[] xp = ArrayPool<float>.Shared.Rent(w.PaddedCols);
        float[] yb = ArrayPool<float>.Shared.Rent(w.Rows);
        try
        {
            x.CopyTo(xp);
            Array.Clear(xp, w.Cols, w.PaddedCols - w.Cols); // padded quants are 0, but x beyond Cols must not be NaN garbage
            RunRows(w, xp, yb, 1);
            for (int r = 0; r < w.Rows; r++) y[r] = yb[r] + (bias.IsEmpty ? 0f : bias[r]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xp);
            ArrayPool<float>.Shared.Return(yb);
        }
    }

    /// <summary>Y (N, Rows) = X (N, Cols) · Wᵀ (+ bias). Prefill: every weight row is read once for all N inputs.</summary>
    public static void MatMul(QuantizedMatrix w, ReadOnlySpan<float> x, int n, Span<float> y, ReadOnlySpan<float> bias = default)
    {
        if (n <= 0) throw new ArgumentException($"N = {n} must be positive");
        if (x.Length != (long)n * w.Cols) throw new ArgumentException($"X has {x.Length} values, expected N·Cols = {n}·{w.Cols}");
        if (y.Length != (long)n * w.Rows) throw new ArgumentException($"Y has {y.Length} values, expected N·Rows = {n}·{w.Rows}");
        if (!bias.IsEmpty && bias.Length != w.Rows) throw new ArgumentException($"bias has {bias.Length} values, W has {w.Rows} rows");
        int pc = w.PaddedCols;
        float[] xp = ArrayPool<float>.Shared.Rent(n * pc);
        float[] yt = ArrayPool<float>.Shared.Rent(n * w.Rows); // (Rows, N): each task writes its own rows
        try
        {
            for (int i = 0; i < n; i++)
            {
                x.Slice(i * w.Cols, w.Cols).CopyTo(xp.AsSpan(i * pc));
                Array.Clear(xp, i * pc + w.Cols, pc - w.Cols);
            }
            RunRows(w, xp, yt, n);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < w.Rows; r++)
                    y[i * w.Rows + r] = yt[r * n + i] + (bias.IsEmpty ? 0f : bias[r]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xp);
            ArrayPool<float>.Shared.Return(yt);
        }
    }

    /// <summary>yt[r·n + i] = row r · xp[i] for all rows, split over cores in contiguous row ranges.</summary>
    static void RunRows(QuantizedMatrix w, float[] xp, float[] yt, int n)
    {
        long work = (long)w.Rows * w.PaddedCols * n;
        int tasks = work < ParallelThreshold ? 1 : Math.Min(Environment.ProcessorCount, (w.Rows + 15) / 16);
        if (tasks <= 1) { RowRange(w, xp, yt, n, 0, w.Rows); return; }
        int chunk = (w.Rows + tasks - 1) / tasks;
        Parallel.For(0, tasks, t => RowRange(w, xp, yt, n, t * chunk, Math.Min(w.Rows, (t + 1) * chunk)));
    }

    static void RowRange(QuantizedMatrix w, float[] xp, float[] yt, int n, int r0, int r1)
    {
        int pc = w.PaddedCols, blocks = w.BlocksPerRow, rb = w.RowBytes;
        if (n >= 4)
        {
            // Prefill: dequantize the row once, then n fp32 dot products (the row stays in L1).
            float[] wrow = ArrayPool<float>.Shared.Rent(pc);
            try
            {
                for (int r = r0; r < r1; r++)
                {
                    DequantizeRowFast(w, r, wrow);
                    var wr = new ReadOnlySpan<float>(wrow, 0, pc);
                    for (int i = 0; i < n; i++) yt[r * n + i] = System.Numerics.Tensors.TensorPrimitives.Dot(wr, new ReadOnlySpan<float>(xp, i * pc, pc));
                }
            }
            finally { ArrayPool<float>.Shared.Return(wrow); }
            return;
        }
        fixed (byte* data = w.Data)
        fixed (float* xs = xp)
            for (int r = r0; r < r1; r++)
            {
                byte* row = data + (long)r * rb;
                for (int i = 0; i < n; i++) yt[r * n + i] = QuantizedDot.Row(row, xs + (long)i * pc, blocks, w.Layout);
            }
    }

    /// <summary>Row r → dst[0..PaddedCols) = d·q (padding included, it is 0).</summary>
    static void DequantizeRowFast(QuantizedMatrix w, int r, float[] dst)
    {
        int G = w.Layout.GroupSize, half = G / 2, bb = w.Layout.BlockBytes;
        fixed (byte* data = w.Data)
        fixed (float* o = dst)
        {
            byte* row = data + (long)r * w.RowBytes;
            for (int b = 0; b < w.BlocksPerRow; b++, row += bb)
            {
                float d = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<float>(row);
                float* ob = o + b * G;
                if (w.Layout.Format == QuantFormat.Int8)
                    for (int i = 0; i < G; i++) ob[i] = d * (sbyte)row[4 + i];
                else
                    for (int i = 0; i < half; i++)
                    {
                        byte p = row[4 + i];
                        ob[i] = d * ((p & 0xF) - 8);
                        ob[i + half] = d * ((p >> 4) - 8);
                    }
            }
        }
    }

    /// <summary>Scalar reference of MatVec (no SIMD, no threads), for tests and the DOTNET_EnableHWIntrinsic=0 path.</summary>
    public static void MatVecReference(QuantizedMatrix w, ReadOnlySpan<float> x, Span<float> y)
    {
        var xp = new float[w.PaddedCols];
        x.CopyTo(xp);
        fixed (byte* data = w.Data)
        fixed (float* xs = xp)
            for (int r = 0; r < w.Rows; r++)
                y[r] = QuantizedDot.RowScalar(data + (long)r * w.RowBytes, xs, w.BlocksPerRow, w.Layout);
    }
}
