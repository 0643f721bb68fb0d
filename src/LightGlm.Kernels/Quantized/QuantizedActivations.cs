// Activations quantized once per product for the integer dot (llama.cpp's Q8_0 activation blocks): per group of G
// values one fp32 scale d = amax/127 and int8 p = round(x/d), so x ≈ d·p with |x − d·p| ≤ d/2 = amax/254.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LightGlm.Kernels.Quantized;

internal static unsafe class QuantizedActivations
{
    /// <summary>
    /// One row x (blocks·G floats) → p (blocks·G int8), d (blocks scales) and s (blocks sums Σp, the int4 kernels'
    /// offset term). A zero group gets d = 0 and p = 0. Vector256 when <paramref name="simd"/>, else the scalar
    /// reference; both give the same bytes (one fp32 multiply x·(1/d), then round half to even, in both).
    /// </summary>
    public static void QuantizeRow(float* x, int blocks, int G, sbyte* p, float* d, int* s, bool simd)
    {
        for (int b = 0; b < blocks; b++, x += G, p += G)
            d[b] = simd ? GroupVector256(x, G, p, out s[b]) : GroupScalar(x, G, p, out s[b]);
    }

    /// <summary>Scalar reference for one group; returns d. |x·(1/d)| ≤ 127 (+ rounding), so p never reaches −128.</summary>
    public static float GroupScalar(float* x, int G, sbyte* p, out int sum)
    {
        float amax = 0;
        for (int i = 0; i < G; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float d = amax / 127f, inv = d > 0 ? 1f / d : 0f;
        sum = 0;
        for (int i = 0; i < G; i++)
        {
            int v = (int)MathF.Round(x[i] * inv);
            p[i] = (sbyte)v;
            sum += v;
        }
        return d;
    }

    // 32 floats per step: four converts, narrowed int → short → sbyte (Vector256.Narrow keeps element order).
    static float GroupVector256(float* x, int G, sbyte* p, out int sum)
    {
        var m = Vector256<float>.Zero;
        for (int i = 0; i < G; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + i)));
        float amax = MaxAcross(m);
        float d = amax / 127f, inv = d > 0 ? 1f / d : 0f;
        var iv = Vector256.Create(inv);
        var acc = Vector256<int>.Zero;
        for (int i = 0; i < G; i += 32)
        {
            var a = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i) * iv));
            var b = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i + 8) * iv));
            var c = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i + 16) * iv));
            var e = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i + 24) * iv));
            acc += (a + b) + (c + e);
            Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, e)).Store(p + i);
        }
        sum = Vector256.Sum(acc);
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float MaxAcross(Vector256<float> m)
    {
        var h = Vector128.Max(m.GetLower(), m.GetUpper());
        h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
        h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(1, 0, 3, 2)));
        return h.ToScalar();
    }
}
