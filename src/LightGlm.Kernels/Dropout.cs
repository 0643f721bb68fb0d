// Inverted dropout with a counter-based RNG: element i is kept iff u(seed, i) ≥ p; kept values are scaled by 1/(1−p).
namespace LightGlm.Kernels;

public static unsafe class Dropout
{
    /// <summary>
    /// out (n) = mask ? inp/(1−p) : 0, mask (n) = 1 kept / 0 dropped. Deterministic in (seed, index) regardless of threads.
    /// out and mask are overwritten; out may be the same span as inp. 0 ≤ p &lt; 1 (p = 0 copies and keeps all).
    /// </summary>
    public static void Forward(Span<float> output, Span<byte> mask, ReadOnlySpan<float> input, int n, float p, ulong seed)
    {
        const string k = "Dropout.Forward";
        Validate(k, n, p);
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, n);
        Check.Len(k, nameof(mask), (ReadOnlySpan<byte>)mask, n);
        Check.Len(k, nameof(input), input, n);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(input), input, n);
        if (n == 0) return;
        float keepScale = 1f / (1f - p);
        // Threshold on 24 random bits: keep iff r ≥ p·2^24.
        uint threshold = (uint)Math.Ceiling(p * 16777216.0);
        fixed (float* o = output) fixed (byte* m = mask) fixed (float* x = input)
        {
            nint op = (nint)o, mp = (nint)m, xp = (nint)x;
            KernelParallel.For(n, 16384, (i0, i1) =>
            {
                float* oo = (float*)op, xx = (float*)xp;
                byte* mm = (byte*)mp;
                for (int i = i0; i < i1; i++)
                {
                    bool keep = Bits24(seed, (ulong)i) >= threshold;
                    mm[i] = keep ? (byte)1 : (byte)0;
                    oo[i] = keep ? xx[i] * keepScale : 0f;
                }
            });
        }
    }

    /// <summary>Inverts out = mask·x/(1−p): dinp += mask·dout/(1−p). dinp (n) is ACCUMULATED and must not overlap dout.</summary>
    public static void Backward(Span<float> dinput, ReadOnlySpan<float> doutput, ReadOnlySpan<byte> mask, int n, float p)
    {
        const string k = "Dropout.Backward";
        Validate(k, n, p);
        Check.Len(k, nameof(dinput), (ReadOnlySpan<float>)dinput, n);
        Check.Len(k, nameof(doutput), doutput, n);
        Check.Len(k, nameof(mask), mask, n);
        if (n == 0) return;
        Check.Disjoint(k, nameof(dinput), dinput[..n], nameof(doutput), doutput[..n]);
        float keepScale = 1f / (1f - p);
        for (int i = 0; i < n; i++)
            if (mask[i] != 0) dinput[i] += doutput[i] * keepScale;
    }

    // splitmix64 finaliser of (seed, index): independent of how the range is split over threads.
    static uint Bits24(ulong seed, ulong i)
    {
        ulong z = seed + (i + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (uint)(z >> 40);
    }

    static void Validate(string k, int n, float p)
    {
        Check.Dims(k, (nameof(n), n));
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{k}: p must be in [0, 1), got {p}.");
    }
}
