// The inner product of one quantized weight row with a quantized activation row (QuantizedActivations), each block's
// dot in int32: Σ_b (d_w,b·d_x,b)·Σ_i q_i·p_i, as llama.cpp's Q8_0/Q4_0 × Q8_0. Scalar reference, AVX2, AVX-512.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LightGlm.Kernels.Quantized;

internal static unsafe class QuantizedIntDot
{
    /// <summary>
    /// row · (p, d) over the padded width: p (blocks·G int8), d (blocks scales), s (blocks sums Σp). AVX-512 covers
    /// G = 32 (the default, ggml's block size) two blocks per instruction; other group sizes run the AVX2 kernel.
    /// </summary>
    public static float Row(byte* row, sbyte* p, float* d, int* s, int blocks, QuantBlockLayout layout, QuantIsa isa)
    {
        bool q8 = layout.Format == QuantFormat.Int8;
        int G = layout.GroupSize;
        if (isa == QuantIsa.Avx512 && G == 32)
            return q8 ? RowQ8Avx512(row, p, d, blocks) : RowQ4Avx512(row, p, d, s, blocks);
        if (isa != QuantIsa.Scalar)
            return q8 ? RowQ8Avx2(row, p, d, blocks, G) : RowQ4Avx2(row, p, d, s, blocks, G);
        return RowScalar(row, p, d, blocks, layout);
    }

    /// <summary>Scalar reference: the integer sum of each block, q as stored (int4: nibble − 8), times d_w·d_x.</summary>
    public static float RowScalar(byte* row, sbyte* p, float* d, int blocks, QuantBlockLayout layout)
    {
        int G = layout.GroupSize, half = G / 2, bb = layout.BlockBytes;
        float sum = 0;
        for (int b = 0; b < blocks; b++, row += bb, p += G)
        {
            byte* qs = row + 4;
            int s = 0;
            if (layout.Format == QuantFormat.Int8)
                for (int i = 0; i < G; i++) s += (sbyte)qs[i] * p[i];
            else
                for (int i = 0; i < half; i++) s += ((qs[i] & 0xF) - 8) * p[i] + ((qs[i] >> 4) - 8) * p[i + half];
            sum += Unsafe.ReadUnaligned<float>(row) * d[b] * s;
        }
        return sum;
    }

    // Int8, AVX2: per block 8 int32 partial sums, converted once and FMA'd with d_w·d_x.
    static float RowQ8Avx2(byte* row, sbyte* p, float* d, int blocks, int G)
    {
        var acc = Vector256<float>.Zero;
        int bb = 4 + G;
        for (int b = 0; b < blocks; b++, row += bb, p += G)
        {
            var s = Vector256<int>.Zero;
            for (int i = 0; i < G; i += 32) s += DotQ8x32(Vector256.Load((sbyte*)row + 4 + i), Vector256.Load(p + i));
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s), Vector256.Create(Unsafe.ReadUnaligned<float>(row) * d[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    // Int4, AVX2: nibbles stay unsigned (u = q + 8), so Σ q·p = Σ u·p − 8·Σp; the block's Σp comes with the activations.
    static float RowQ4Avx2(byte* row, sbyte* p, float* d, int* sp, int blocks, int G)
    {
        var acc = Vector256<float>.Zero;
        int half = G / 2, bb = 4 + half;
        for (int b = 0; b < blocks; b++, row += bb, p += G)
        {
            var s = Vector256.CreateScalar(-8 * sp[b]);
            for (int j = 0; j < half; j += 16)
                s += DotU4x32(Vector128.Load(row + 4 + j), Vector256.Create(Vector128.Load(p + j), Vector128.Load(p + half + j)));
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s), Vector256.Create(Unsafe.ReadUnaligned<float>(row) * d[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>
    /// 32 int8 weights · 32 int8 activations → 8 int32 partial sums. vpmaddubsw multiplies unsigned by signed bytes, so
    /// |w| meets p with w's sign moved onto it (ggml's trick); |w|, |p| ≤ 127 keeps each pair sum ≤ 2·127² = 32258,
    /// under the int16 saturation. vpmaddwd with ones then adds pairs of those into int32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> DotQ8x32(Vector256<sbyte> w, Vector256<sbyte> p) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(p, w)), Vector256<short>.One);

    /// <summary>16 packed bytes (low nibbles: 16 weights; high: the 16 weights G/2 later) as u ∈ [0, 15] · the 32
    /// matching activations → 8 int32 sums of u·p (pair sums ≤ 2·15·127, no saturation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> DotU4x32(Vector128<byte> packed, Vector256<sbyte> p)
    {
        var mask = Vector128.Create((byte)0xF);
        var u = Vector256.Create(packed & mask, Vector128.ShiftRightLogical(packed, 4) & mask);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, p), Vector256<short>.One);
    }

    // Int8, AVX-512, G = 32: two 36-byte blocks per step (lanes 0–7 block b, 8–15 block b + 1). Without an EVEX
    // vpsignb the sign moves onto p by a compare and a masked negate. An odd last block runs the AVX2 kernel.
    static float RowQ8Avx512(byte* row, sbyte* p, float* d, int blocks)
    {
        const int bb = 36;
        var acc = Vector512<float>.Zero;
        int b = 0;
        for (; b + 2 <= blocks; b += 2, row += 2 * bb, p += 64)
        {
            var w = Vector512.Create(Vector256.Load((sbyte*)row + 4), Vector256.Load((sbyte*)row + bb + 4));
            var x = Vector512.Load(p);
            var signed = Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - x, x);
            var s = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(w).AsByte(), signed), Vector512<short>.One);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s), PairScale(row, bb, d + b), acc);
        }
        float sum = Vector512.Sum(acc);
        return b < blocks ? sum + RowQ8Avx2(row, p, d + b, 1, 32) : sum;
    }

    // Int4, AVX-512, G = 32: the 16 packed bytes of blocks b and b + 1 give [lo b | lo b+1 | hi b | hi b+1] (128-bit
    // lanes); one lane shuffle puts them in p's order [lo b | hi b | lo b+1 | hi b+1]. Then as RowQ4Avx2.
    static float RowQ4Avx512(byte* row, sbyte* p, float* d, int* sp, int blocks)
    {
        const int bb = 20;
        var acc = Vector512<float>.Zero;
        var mask = Vector256.Create((byte)0xF);
        int b = 0;
        for (; b + 2 <= blocks; b += 2, row += 2 * bb, p += 64)
        {
            var packed = Vector256.Create(Vector128.Load(row + 4), Vector128.Load(row + bb + 4));
            var u = Vector512.Create(packed & mask, Vector256.ShiftRightLogical(packed, 4) & mask).AsInt32();
            u = Avx512F.Shuffle4x128(u, u, 0b11_01_10_00);
            var s = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u.AsByte(), Vector512.Load(p)), Vector512<short>.One);
            s -= Vector512.Create(Vector256.CreateScalar(8 * sp[b]), Vector256.CreateScalar(8 * sp[b + 1]));
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s), PairScale(row, bb, d + b), acc);
        }
        float sum = Vector512.Sum(acc);
        return b < blocks ? sum + RowQ4Avx2(row, p, d + b, sp + b, 1, 32) : sum;
    }

    /// <summary>d_w·d_x of block b in lanes 0–7 and of block b + 1 in lanes 8–15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> PairScale(byte* row, int bb, float* d) =>
        Vector512.Create(Vector256.Create(Unsafe.ReadUnaligned<float>(row) * d[0]), Vector256.Create(Unsafe.ReadUnaligned<float>(row + bb) * d[1]));
}
