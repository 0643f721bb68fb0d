// The inner product of one quantized row with an fp32 vector: Σ_blocks d_b · Σ_i q_i·x_i, every quant widened to
// float. Scalar reference, Vector256 (AVX2) and AVX-512 (one 16-lane convert + FMA per 16 quants).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LightGlm.Kernels.Quantized;

internal static unsafe class QuantizedDot
{
    /// <summary>row · x over padded width (x has PaddedCols values, zero beyond Cols), on the kernel <paramref name="isa"/> names.</summary>
    public static float Row(byte* row, float* x, int blocks, QuantBlockLayout layout, QuantIsa isa)
    {
        bool q8 = layout.Format == QuantFormat.Int8;
        int G = layout.GroupSize;
        return isa switch
        {
            QuantIsa.Avx512 => q8 ? RowQ8Avx512(row, x, blocks, G) : RowQ4Avx512(row, x, blocks, G),
            QuantIsa.Avx2 => q8 ? RowQ8Simd(row, x, blocks, G) : RowQ4Simd(row, x, blocks, G),
            _ => RowScalar(row, x, blocks, layout),
        };
    }

    /// <summary>Scalar reference: the same formula, one weight at a time.</summary>
    public static float RowScalar(byte* row, float* x, int blocks, QuantBlockLayout layout)
    {
        int G = layout.GroupSize, bb = layout.BlockBytes;
        float sum = 0;
        for (int b = 0; b < blocks; b++, row += bb, x += G)
        {
            float d = Unsafe.ReadUnaligned<float>(row);
            byte* qs = row + 4;
            float s = 0;
            if (layout.Format == QuantFormat.Int8)
                for (int i = 0; i < G; i++) s += (sbyte)qs[i] * x[i];
            else
                for (int i = 0; i < G / 2; i++) s += ((qs[i] & 0xF) - 8) * x[i] + ((qs[i] >> 4) - 8) * x[i + G / 2];
            sum += d * s;
        }
        return sum;
    }

    // Int8: 32 quants per step, sbyte → short → int → float, four FMAs into one block accumulator.
    static float RowQ8Simd(byte* row, float* x, int blocks, int G)
    {
        var acc = Vector256<float>.Zero;
        int bb = 4 + G;
        for (int b = 0; b < blocks; b++, row += bb, x += G)
        {
            var blockAcc = Vector256<float>.Zero;
            sbyte* qs = (sbyte*)(row + 4);
            for (int i = 0; i < G; i += 32)
            {
                var q = Vector256.Load(qs + i);
                var (s0, s1) = Vector256.Widen(q);
                var (i0, i1) = Vector256.Widen(s0);
                var (i2, i3) = Vector256.Widen(s1);
                blockAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), Vector256.Load(x + i), blockAcc);
                blockAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1), Vector256.Load(x + i + 8), blockAcc);
                blockAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i2), Vector256.Load(x + i + 16), blockAcc);
                blockAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i3), Vector256.Load(x + i + 24), blockAcc);
            }
            acc = Vector256.FusedMultiplyAdd(blockAcc, Vector256.Create(Unsafe.ReadUnaligned<float>(row)), acc);
        }
        return Vector256.Sum(acc);
    }

    // Int4: 16 packed bytes give 16 low nibbles (weights i) and 16 high nibbles (weights i + G/2); minus 8, widen, FMA.
    static float RowQ4Simd(byte* row, float* x, int blocks, int G)
    {
        var acc = Vector256<float>.Zero;
        int bb = 4 + G / 2, half = G / 2;
        var mask = Vector128.Create((byte)0xF);
        var eight = Vector128.Create((sbyte)8);
        for (int b = 0; b < blocks; b++, row += bb, x += G)
        {
            var blockAcc = Vector256<float>.Zero;
            byte* qs = row + 4;
            for (int i = 0; i < half; i += 16)
            {
                var packed = Vector128.Load(qs + i);
                var lo = (packed & mask).AsSByte() - eight;
                var hi = Vector128.ShiftRightLogical(packed, 4).AsSByte() - eight;
                var (l0, l1) = Vector128.Widen(lo);
                var (h0, h1) = Vector128.Widen(hi);
                blockAcc = Fma4(blockAcc, l0, x + i);
                blockAcc = Fma4(blockAcc, l1, x + i + 8);
                blockAcc = Fma4(blockAcc, h0, x + half + i);
                blockAcc = Fma4(blockAcc, h1, x + half + i + 8);
            }
            acc = Vector256.FusedMultiplyAdd(blockAcc, Vector256.Create(Unsafe.ReadUnaligned<float>(row)), acc);
        }
        return Vector256.Sum(acc);
    }

    // 8 shorts → 8 floats, times x[0..8], added to acc.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma4(Vector256<float> acc, Vector128<short> q, float* x)
    {
        var wide = Vector256.WidenLower(Vector256.Create(q, q)); // lower 8 shorts → 8 ints
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(wide), Vector256.Load(x), acc);
    }

    // Int8: 16 sbytes → 16 ints (vpmovsxbd) → 16 floats, FMA with x into the block's sum, then × d into the total.
    static float RowQ8Avx512(byte* row, float* x, int blocks, int G)
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
    static float RowQ4Avx512(byte* row, float* x, int blocks, int G)
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
}
