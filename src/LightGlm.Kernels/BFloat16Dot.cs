// Σ bf16(w)·x with bf16 → f32 = bits << 16 done in vector registers (AVX-512 when present, else Vector256, else scalar):
// decode over bf16 weights left in their memory map — rows read in place, no copy, no widened tile.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LightGlm.Kernels;

public static unsafe class BFloat16Dot
{
    /// <summary>Tests set this to run the Vector256 path on an AVX-512 machine.</summary>
    public static bool ForceVector256 { get; set; }

    /// <summary>Σ_i bf16(w_i)·x_i over min(w, x) values.</summary>
    public static float Dot(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x)
    {
        Check.Len("BFloat16Dot.Dot", nameof(x), x, w.Length);
        fixed (ushort* wp = w) fixed (float* xp = x) return Dot(wp, xp, w.Length);
    }

    /// <summary>
    /// y[r] = Σ_c bf16(W[rows[r], c])·x[c] for r &lt; y.Length, where row k of W is the <paramref name="cols"/> bf16 values at
    /// <paramref name="weights"/> + k·cols·2 (e.g. a tensor inside a memory-mapped safetensors file, which must stay mapped
    /// for the call). Rows split over at most <paramref name="maxThreads"/> threads (KernelParallel).
    /// </summary>
    public static void Rows(nint weights, int[] rows, int cols, ReadOnlySpan<float> x, Span<float> y, int maxThreads)
    {
        const string name = "BFloat16Dot.Rows";
        if (weights == 0) throw new ArgumentNullException(nameof(weights), $"{name}: no weights address");
        if (rows.Length < y.Length) throw new ArgumentException($"{name}: {rows.Length} row indices for {y.Length} outputs", nameof(rows));
        Check.Len(name, nameof(x), x, cols);
        int n = y.Length;
        fixed (float* xp = x) fixed (float* yp = y)
        {
            nint xa = (nint)xp, ya = (nint)yp;
            int grain = Math.Max(1, (1 << 15) / Math.Max(1, cols));
            if (maxThreads <= 1 || n < 2 * grain || KernelParallel.IsInside) RowRange(weights, rows, cols, xa, ya, 0, n);
            else KernelParallel.For(n, grain, (r0, r1) => RowRange(weights, rows, cols, xa, ya, r0, r1), maxThreads);
        }
    }

    static void RowRange(nint w, int[] rows, int cols, nint x, nint y, int r0, int r1)
    {
        long stride = (long)cols * 2;
        for (int r = r0; r < r1; r++) ((float*)y)[r] = Dot((ushort*)(w + rows[r] * stride), (float*)x, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(ushort* w, float* x, int n)
    {
        int i = 0;
        float sum = 0;
        if (Avx512F.IsSupported && !ForceVector256 && n >= 32)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(w + i));
                acc0 = Avx512F.FusedMultiplyAdd(Vector512.ShiftLeft(lo, 16).AsSingle(), Vector512.Load(x + i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Vector512.ShiftLeft(hi, 16).AsSingle(), Vector512.Load(x + i + 16), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(w + i));
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(lo, 16).AsSingle(), Vector256.Load(x + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(hi, 16).AsSingle(), Vector256.Load(x + i + 8), acc1);
            }
            sum += Vector256.Sum(acc0 + acc1);
        }
        for (; i < n; i++) sum += BitConverter.Int32BitsToSingle(w[i] << 16) * x[i];
        return sum;
    }
}
