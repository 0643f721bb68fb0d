// SwiGLU gate: out = silu(gate) ⊙ up, silu(g) = g·σ(g), and its backward.
namespace LightGlm.Kernels;

public static unsafe class SwiGlu
{
    /// <summary>out (N, F) = silu(gate) ⊙ up; overwritten; out may be the same span as gate or up.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> gate, ReadOnlySpan<float> up, int N, int F)
    {
        const string k = "SwiGlu.Forward";
        Check.Dims(k, (nameof(N), N), (nameof(F), F));
        long n = (long)N * F;
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, n);
        Check.Len(k, nameof(gate), gate, n);
        Check.Len(k, nameof(up), up, n);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(gate), gate, n);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(up), up, n);
        if (n == 0) return;
        fixed (float* o = output) fixed (float* g = gate) fixed (float* u = up)
        {
            nint op = (nint)o, gp = (nint)g, upp = (nint)u;
            KernelParallel.For((int)n, 16384, (i0, i1) =>
            {
                float* oo = (float*)op, gg = (float*)gp, uu = (float*)upp;
                for (int i = i0; i < i1; i++)
                {
                    float x = gg[i];
                    oo[i] = x / (1f + MathF.Exp(-x)) * uu[i];
                }
            });
        }
    }

    /// <summary>
    /// Inverts out = g·σ(g)·u:  dgate += dout·u·σ(g)·(1 + g·(1 − σ(g))),  dup += dout·g·σ(g).
    /// dgate and dup (N, F) are ACCUMULATED; they must not overlap each other or dout.
    /// </summary>
    public static void Backward(Span<float> dgate, Span<float> dup, ReadOnlySpan<float> doutput, ReadOnlySpan<float> gate,
        ReadOnlySpan<float> up, int N, int F)
    {
        const string k = "SwiGlu.Backward";
        Check.Dims(k, (nameof(N), N), (nameof(F), F));
        long n = (long)N * F;
        Check.Len(k, nameof(dgate), (ReadOnlySpan<float>)dgate, n);
        Check.Len(k, nameof(dup), (ReadOnlySpan<float>)dup, n);
        Check.Len(k, nameof(doutput), doutput, n);
        Check.Len(k, nameof(gate), gate, n);
        Check.Len(k, nameof(up), up, n);
        if (n == 0) return;
        Check.Disjoint(k, nameof(dgate), dgate[..(int)n], nameof(dup), dup[..(int)n]);
        Check.Disjoint(k, nameof(dgate), dgate[..(int)n], nameof(doutput), doutput[..(int)n]);
        Check.Disjoint(k, nameof(dup), dup[..(int)n], nameof(doutput), doutput[..(int)n]);
        fixed (float* dg = dgate) fixed (float* du = dup) fixed (float* dy = doutput) fixed (float* g = gate) fixed (float* u = up)
        {
            nint dgp = (nint)dg, dup2 = (nint)du, dyp = (nint)dy, gp = (nint)g, upp = (nint)u;
            KernelParallel.For((int)n, 16384, (i0, i1) =>
            {
                float* dgg = (float*)dgp, duu = (float*)dup2, dyy = (float*)dyp, gg = (float*)gp, uu = (float*)upp;
                for (int i = i0; i < i1; i++)
                {
                    float x = gg[i], s = 1f / (1f + MathF.Exp(-x)), d = dyy[i];
                    dgg[i] += d * uu[i] * s * (1f + x * (1f - s));
                    duu[i] += d * x * s;
                }
            });
        }
    }
}
