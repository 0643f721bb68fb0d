// SwiGLU gate: out = silu(gate) ⊙ up, silu(g) = g·σ(g), and its backward.
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
        fixed (float* o = output) fixed (float* g = gate) fixed (float* u = up)
        {
            nint op = (nint)o, gp = (nint)g, upp = (nint)u;
            KernelParallel.For((int)n, 8192, (i0, i1) =>
            {
                Span<float> tmp = stackalloc float[Chunk];
                for (int c = i0; c < i1; c += Chunk)
                {
                    int len = Math.Min(Chunk, i1 - c);
                    var g = new ReadOnlySpan<float>((float*)gp + c, len);
                    var t = tmp[..len];
                    // silu(g) = g / (1 + exp(−g)), as PyTorch's CPU kernel
                    TensorPrimitives.Negate(g, t);
                    TensorPrimitives.Exp(t, t);
                    TensorPrimitives.Add(t, 1f, t);
                    TensorPrimitives.Divide(g, t, t);
                    TensorPrimitives.Multiply(t, new ReadOnlySpan<float>((float*)upp + c, len), new Span<float>((float*)op + c, len));
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
            KernelParallel.For((int)n, 8192, (i0, i1) =>
            {
                float* sig = stackalloc float[Chunk];
                for (int c = i0; c < i1; c += Chunk)
                {
                    int len = Math.Min(Chunk, i1 - c);
                    float* dgg = (float*)dgp + c, duu = (float*)dup2 + c, dyy = (float*)dyp + c, gg = (float*)gp + c, uu = (float*)upp + c;
                    var s = new Span<float>(sig, len);
                    TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(gg, len), s);
                    int i = 0;
                    if (Vector256.IsHardwareAccelerated)
                    {
                        var one = Vector256.Create(1f);
                        for (; i + 8 <= len; i += 8)
                        {
                            var x = Vector256.Load(gg + i); var si = Vector256.Load(sig + i); var d = Vector256.Load(dyy + i);
                            (Vector256.Load(dgg + i) + d * Vector256.Load(uu + i) * si * (one + x * (one - si))).Store(dgg + i);
                            (Vector256.Load(duu + i) + d * x * si).Store(duu + i);
                        }
                    }
                    for (; i < len; i++)
                    {
                        float x = gg[i], si = sig[i], d = dyy[i];
                        dgg[i] += d * uu[i] * si * (1f + x * (1f - si));
                        duu[i] += d * x * si;
                    }
                }
            });
        }
    }
}
