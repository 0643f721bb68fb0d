// SwiGLU gate: out = silu(gate) ⊙ up, silu(g) = g·σ(g), and its backward; separate gate/up or packed [gate | up] rows.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace LightGlm.Kernels;

public static unsafe class SwiGlu
{
    const int Chunk = 512;

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
        // Contiguous: one "row" of N·F elements cut into chunks (split over cores like any row).
        fixed (float* o = output) fixed (float* g = gate) fixed (float* u = up)
            ForwardCore(o, 0, g, 0, u, 0, 1, (int)n);
    }

    /// <summary>
    /// out (N, F) = silu(gate) ⊙ up with gateUp (N, 2F) rows packed as [gate (F) | up (F)] (the fused gate/up
    /// projection's output). out is overwritten and must not overlap gateUp.
    /// </summary>
    public static void ForwardPacked(Span<float> output, ReadOnlySpan<float> gateUp, int N, int F)
    {
        const string k = "SwiGlu.ForwardPacked";
        Check.Dims(k, (nameof(N), N), (nameof(F), F));
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, (long)N * F);
        Check.Len(k, nameof(gateUp), gateUp, 2L * N * F);
        if ((long)N * F == 0) return;
        Check.Disjoint(k, nameof(output), output[..(N * F)], nameof(gateUp), gateUp[..(2 * N * F)]);
        fixed (float* o = output) fixed (float* gu = gateUp)
            ForwardCore(o, F, gu, 2 * F, gu + F, 2 * F, N, F);
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
            BackwardCore(dg, 0, du, 0, dy, 0, g, 0, u, 0, 1, (int)n, accumulate: true);
    }

    /// <summary>
    /// As <see cref="Backward"/> on packed rows: dgateUp (N, 2F) = [dgate | dup] per row is OVERWRITTEN (it is the
    /// gradient of the fused projection's output, which nothing else adds to); gateUp (N, 2F) as in
    /// <see cref="ForwardPacked"/>. dgateUp must not overlap dout or gateUp.
    /// </summary>
    public static void BackwardPacked(Span<float> dgateUp, ReadOnlySpan<float> doutput, ReadOnlySpan<float> gateUp, int N, int F)
    {
        const string k = "SwiGlu.BackwardPacked";
        Check.Dims(k, (nameof(N), N), (nameof(F), F));
        long n = (long)N * F;
        Check.Len(k, nameof(dgateUp), (ReadOnlySpan<float>)dgateUp, 2 * n);
        Check.Len(k, nameof(doutput), doutput, n);
        Check.Len(k, nameof(gateUp), gateUp, 2 * n);
        if (n == 0) return;
        Check.Disjoint(k, nameof(dgateUp), dgateUp[..(int)(2 * n)], nameof(doutput), doutput[..(int)n]);
        Check.Disjoint(k, nameof(dgateUp), dgateUp[..(int)(2 * n)], nameof(gateUp), gateUp[..(int)(2 * n)]);
        fixed (float* d = dgateUp) fixed (float* dy = doutput) fixed (float* gu = gateUp)
            BackwardCore(d, 2 * F, d + F, 2 * F, dy, F, gu, 2 * F, gu + F, 2 * F, N, F, accumulate: false);
    }

    // Rows r of each operand start at base + r·stride and hold F elements; rows split over cores, each row in chunks.
    static void ForwardCore(float* o, int os, float* g, int gs, float* u, int us, int rows, int F)
    {
        nint op = (nint)o, gp = (nint)g, upp = (nint)u;
        bool flat = rows == 1;
        KernelParallel.For(flat ? F : rows, flat ? 8192 : Math.Max(1, 8192 / F), (i0, i1) =>
        {
            float* t = stackalloc float[Chunk];
            for (int r = flat ? 0 : i0; r < (flat ? 1 : i1); r++)
            {
                int c0 = flat ? i0 : 0, c1 = flat ? i1 : F;
                float* gr = (float*)gp + (long)r * gs, ur = (float*)upp + (long)r * us, orow = (float*)op + (long)r * os;
                for (int c = c0; c < c1; c += Chunk)
                {
                    int len = Math.Min(Chunk, c1 - c);
                    var gg = new ReadOnlySpan<float>(gr + c, len);
                    var ts = new Span<float>(t, len);
                    // silu(g) = g / (1 + exp(−g)), as PyTorch's CPU kernel
                    TensorPrimitives.Negate(gg, ts);
                    TensorPrimitives.Exp(ts, ts);
                    TensorPrimitives.Add(ts, 1f, ts);
                    TensorPrimitives.Divide(gg, ts, ts);
                    TensorPrimitives.Multiply(ts, new ReadOnlySpan<float>(ur + c, len), new Span<float>(orow + c, len));
                }
            }
        });
    }

    static void BackwardCore(float* dg, int dgs, float* du, int dus, float* dy, int dys, float* g, int gs, float* u, int us,
        int rows, int F, bool accumulate)
    {
        nint dgp = (nint)dg, dup2 = (nint)du, dyp = (nint)dy, gp = (nint)g, upp = (nint)u;
        bool flat = rows == 1;
        KernelParallel.For(flat ? F : rows, flat ? 8192 : Math.Max(1, 8192 / F), (i0, i1) =>
        {
            float* sig = stackalloc float[Chunk];
            for (int r = flat ? 0 : i0; r < (flat ? 1 : i1); r++)
            {
                int c0 = flat ? i0 : 0, c1 = flat ? i1 : F;
                for (int c = c0; c < c1; c += Chunk)
                {
                    int len = Math.Min(Chunk, c1 - c);
                    float* dgg = (float*)dgp + (long)r * dgs + c, duu = (float*)dup2 + (long)r * dus + c, dyy = (float*)dyp + (long)r * dys + c;
                    float* gg = (float*)gp + (long)r * gs + c, uu = (float*)upp + (long)r * us + c;
                    TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(gg, len), new Span<float>(sig, len));
                    int i = 0;
                    if (Vector256.IsHardwareAccelerated)
                    {
                        var one = Vector256.Create(1f);
                        for (; i + 8 <= len; i += 8)
                        {
                            var x = Vector256.Load(gg + i); var si = Vector256.Load(sig + i); var d = Vector256.Load(dyy + i);
                            var vg = d * Vector256.Load(uu + i) * si * (one + x * (one - si));
                            var vu = d * x * si;
                            if (accumulate) { vg = Vector256.Load(dgg + i) + vg; vu = Vector256.Load(duu + i) + vu; }
                            vg.Store(dgg + i);
                            vu.Store(duu + i);
                        }
                    }
                    for (; i < len; i++)
                    {
                        float x = gg[i], si = sig[i], d = dyy[i];
                        float vg = d * uu[i] * si * (1f + x * (1f - si)), vu = d * x * si;
                        dgg[i] = accumulate ? dgg[i] + vg : vg;
                        duu[i] = accumulate ? duu[i] + vu : vu;
                    }
                }
            }
        });
    }
}
