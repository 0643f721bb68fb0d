// Allocation-free products with an int8/int4 weight for the inference session: y (n, Rows) = X (n, PaddedCols)·Wᵀ,
// AVX-512 (one 16-lane convert + FMA per 16 quants) when present, the Vector256/scalar dot of QuantizedDot otherwise;
// and fast row dequantization so a prefill can run a real GEMM on a dequantized tile.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LightGlm.Kernels.Quantized;

public static unsafe class QuantizedMatVec
{
    /// <summary>True when the AVX-512 paths run (else QuantizedDot's Vector256 or scalar reference).</summary>
    public static bool UsesAvx512 => Avx512F.IsSupported && !ForceFallback;

    /// <summary>Tests set this to run the portable path on an AVX-512 machine.</summary>
    public static bool ForceFallback { get; set; }

    /// <summary>
    /// y[i·ldy + r] = Σ_c W[r, c]·x[i·PaddedCols + c] for r &lt; Rows, i &lt; n. X rows are PaddedCols long and must be 0
    /// beyond Cols (the padded quants are 0, but NaN·0 is NaN). n = 1 is decode (a fused dequantize-dot per row);
    /// n &gt; 1 dequantizes each weight row once into a per-thread buffer and dots it with the n inputs.
    /// Rows are split over at most <paramref name="maxThreads"/> threads (KernelParallel).
    /// </summary>
    public static void Forward(QuantizedMatrix w, ReadOnlySpan<float> xPadded, int n, Span<float> y, int ldy, int maxThreads)
    {
        const string name = "QuantizedMatVec.Forward";
        Check.Positive(name, nameof(n), n);
        if (ldy < w.Rows) throw new ArgumentOutOfRangeException(nameof(ldy), ldy, $"{name}: ldy must be >= Rows = {w.Rows}.");
        Check.Len(name, "x", xPadded, (long)n * w.PaddedCols);
        Check.Len(name, nameof(y), (ReadOnlySpan<float>)y, (long)(n - 1) * ldy + w.Rows);
        int pc = w.PaddedCols, blocks = w.BlocksPerRow, rb = w.RowBytes;
        var layout = w.Layout;
        bool avx = UsesAvx512;
        int grain = Math.Max(1, (1 << 15) / Math.Max(1, pc * n));
        fixed (byte* data = w.Data) fixed (float* xs = xPadded) fixed (float* ys = y)
        {
            // Serial work runs without a closure (decode calls this ~5 times per layer per token); the lambda lives in
            // its own method so its captured state is only allocated when threads are used.
            if (maxThreads <= 1 || w.Rows < 2 * grain || KernelParallel.IsInside)
                RowRange(data, xs, ys, n, ldy, 0, w.Rows, pc, blocks, rb, layout, avx);
            else
                ForwardParallel((nint)data, (nint)xs, (nint)ys, n, ldy, w.Rows, grain, pc, blocks, rb, layout, avx, maxThreads);
        }
    }

    static void ForwardParallel(nint dp, nint xp, nint yp, int n, int ldy, int rows, int grain, int pc, int blocks, int rb,
        QuantBlockLayout layout, bool avx, int maxThreads) =>
        KernelParallel.For(rows, grain, (r0, r1) =>
            RowRange((byte*)dp, (float*)xp, (float*)yp, n, ldy, r0, r1, pc, blocks, rb, layout, avx), maxThreads);

    static void RowRange(byte* d, float* x, float* y, int n, int ldy, int r0, int r1, int pc, int blocks, int rb, QuantBlockLayout layout, bool avx)
    {
        if (n == 1)
        {
            for (int r = r0; r < r1; r++) y[r] = Dot(d + (long)r * rb, x, blocks, layout, avx);
            return;
        }
        float* wrow = Scratch.Get(3, pc);
        for (int r = r0; r < r1; r++)
        {
            DequantizeRow(d + (long)r * rb, wrow, blocks, layout, avx);
            var ws = new ReadOnlySpan<float>(wrow, pc);
            for (int i = 0; i < n; i++)
                y[(long)i * ldy + r] = System.Numerics.Tensors.TensorPrimitives.Dot(ws, new ReadOnlySpan<float>(x + (long)i * pc, pc));
        }
    }

    /// <summary>Rows [r0, r1) → dst (r1 − r0, Cols) fp32, w = d·q (the padding is dropped). For prefill GEMMs.</summary>
    public static void Dequantize(QuantizedMatrix w, int r0, int r1, Span<float> dst, int maxThreads)
    {
        const string name = "QuantizedMatVec.Dequantize";
        if (r0 < 0 || r1 > w.Rows || r0 > r1) throw new ArgumentOutOfRangeException(nameof(r0), $"{name}: rows [{r0}, {r1}) outside [0, {w.Rows}).");
        Check.Len(name, nameof(dst), (ReadOnlySpan<float>)dst, (long)(r1 - r0) * w.Cols);
        int pc = w.PaddedCols, cols = w.Cols, blocks = w.BlocksPerRow, rb = w.RowBytes;
        var layout = w.Layout;
        bool avx = UsesAvx512;
        fixed (byte* data = w.Data) fixed (float* o = dst)
        {
            nint dp = (nint)data, op = (nint)o;
            KernelParallel.For(r1 - r0, Math.Max(1, (1 << 16) / pc), (a, b) =>
            {
                float* tmp = pc == cols ? null : Scratch.Get(3, pc);
                for (int i = a; i < b; i++)
                {
                    float* target = (float*)op + (long)i * cols;
                    DequantizeRow((byte*)dp + (long)(r0 + i) * rb, tmp is null ? target : tmp, blocks, layout, avx);
                    if (tmp is not null) new ReadOnlySpan<float>(tmp, cols).CopyTo(new Span<float>(target, cols));
                }
            }, maxThreads);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(byte* row, float* x, int blocks, QuantBlockLayout layout, bool avx)
    {
        if (!avx) return QuantizedDot.Row(row, x, blocks, layout);
        return layout.Format == QuantFormat.Int8 ? DotQ8Avx512(row, x, blocks, layout.GroupSize) : DotQ4Avx512(row, x, blocks, layout.GroupSize);
    }

    // Int8: 16 sbytes → 16 ints (vpmovsxbd) → 16 floats, FMA with x into the block's sum, then × d into the total.
    static float DotQ8Avx512(byte* row, float* x, int blocks, int G)
    {
        var acc = Vector512<float>.Zero;
        int bb = 4 + G;
        for (int b = 0; b < blocks; b++, row += bb, x += G)
        {
            var s = Vector512<float>.Zero;
            sbyte* qs = (sbyte*)(row + 4);
            for (int i = 0; i < G; i += 16)
            {
                var q = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(qs + i)));
                s = Avx512F.FusedMultiplyAdd(q, Vector512.Load(x + i), s);
            }
            acc = Avx512F.FusedMultiplyAdd(s, Vector512.Create(Unsafe.ReadUnaligned<float>(row)), acc);
        }
        return Vector512.Sum(acc);
    }

    // Int4: 16 packed bytes → 16 ints (vpmovzxbd); low nibble − 8 is weight i, high nibble − 8 is weight i + G/2.
    static float DotQ4Avx512(byte* row, float* x, int blocks, int G)
    {
        var acc = Vector512<float>.Zero;
        int half = G / 2, bb = 4 + half;
        var mask = Vector512.Create(0xF);
        var eight = Vector512.Create(8);
        for (int b = 0; b < blocks; b++, row += bb, x += G)
        {
            var s = Vector512<float>.Zero;
            byte* qs = row + 4;
            for (int i = 0; i < half; i += 16)
            {
                var p = Avx512F.ConvertToVector512Int32(Vector128.Load(qs + i));
                var lo = Avx512F.ConvertToVector512Single((p & mask) - eight);
                var hi = Avx512F.ConvertToVector512Single(Vector512.ShiftRightLogical(p, 4) - eight);
                s = Avx512F.FusedMultiplyAdd(lo, Vector512.Load(x + i), s);
                s = Avx512F.FusedMultiplyAdd(hi, Vector512.Load(x + half + i), s);
            }
            acc = Avx512F.FusedMultiplyAdd(s, Vector512.Create(Unsafe.ReadUnaligned<float>(row)), acc);
        }
        return Vector512.Sum(acc);
    }

    /// <summary>One row's blocks → dst (PaddedCols floats), w = d·q.</summary>
    static void DequantizeRow(byte* row, float* dst, int blocks, QuantBlockLayout layout, bool avx)
    {
        int G = layout.GroupSize, half = G / 2, bb = layout.BlockBytes;
        bool q8 = layout.Format == QuantFormat.Int8;
        for (int b = 0; b < blocks; b++, row += bb, dst += G)
        {
            float d = Unsafe.ReadUnaligned<float>(row);
            byte* qs = row + 4;
            if (avx)
            {
                var dv = Vector512.Create(d);
                if (q8)
                    for (int i = 0; i < G; i += 16)
                        Vector512.Store(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)qs + i))) * dv, dst + i);
                else
                    for (int i = 0; i < half; i += 16)
                    {
                        var p = Avx512F.ConvertToVector512Int32(Vector128.Load(qs + i));
                        Vector512.Store(Avx512F.ConvertToVector512Single((p & Vector512.Create(0xF)) - Vector512.Create(8)) * dv, dst + i);
                        Vector512.Store(Avx512F.ConvertToVector512Single(Vector512.ShiftRightLogical(p, 4) - Vector512.Create(8)) * dv, dst + half + i);
                    }
                continue;
            }
            if (q8)
                for (int i = 0; i < G; i++) dst[i] = d * (sbyte)qs[i];
            else
                for (int i = 0; i < half; i++)
                {
                    dst[i] = d * ((qs[i] & 0xF) - 8);
                    dst[i + half] = d * ((qs[i] >> 4) - 8);
                }
        }
    }
}
