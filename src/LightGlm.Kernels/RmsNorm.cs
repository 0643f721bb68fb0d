// RMSNorm over the last dimension: out = (x · rstd) · w, rstd = 1/sqrt(mean(x²) + eps), as Hugging Face LLaMA/ChatGLM.
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

public static unsafe class RmsNorm
{
    /// <summary>
    /// out (N, C) = inp · rstd · weight; rstd (N) is stored for the backward. out and rstd are overwritten.
    /// out may be the same span as inp (in place).
    /// </summary>
    public static void Forward(Span<float> output, Span<float> rstd, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        int N, int C, float eps)
    {
        const string k = "RmsNorm.Forward";
        Check.Dims(k, (nameof(N), N), (nameof(C), C));
        long nc = (long)N * C;
        Check.Len(k, nameof(output), (ReadOnlySpan<float>)output, nc);
        Check.Len(k, nameof(rstd), (ReadOnlySpan<float>)rstd, N);
        Check.Len(k, nameof(input), input, nc);
        Check.Len(k, nameof(weight), weight, C);
        Check.SameOrDisjoint(k, nameof(output), output, nameof(input), input, nc);
        if (N == 0) return;
        fixed (float* o = output) fixed (float* r = rstd) fixed (float* x = input) fixed (float* w = weight)
        {
            nint op = (nint)o, rp = (nint)r, xp = (nint)x, wp = (nint)w;
            KernelParallel.For(N, Math.Max(1, 8192 / Math.Max(1, C)), (n0, n1) =>
            {
                var ws = new ReadOnlySpan<float>((float*)wp, C);
                for (int n = n0; n < n1; n++)
                {
                    var xs = new ReadOnlySpan<float>((float*)xp + (long)n * C, C);
                    var os = new Span<float>((float*)op + (long)n * C, C);
                    float ms = C == 0 ? 0f : TensorPrimitives.SumOfSquares(xs) / C;
                    float rs = 1f / MathF.Sqrt(ms + eps);
                    ((float*)rp)[n] = rs;
                    TensorPrimitives.Multiply(xs, rs, os);
                    TensorPrimitives.Multiply(os, ws, os);
                }
            });
        }
    }

    /// <summary>
    /// Inverts out = x·r·w with r = (mean(x²)+eps)^-½:
    ///   dinp_i += r·dout_i·w_i − r³/C · x_i · Σ_j dout_j·w_j·x_j,   dweight_i += Σ_n dout_ni·x_ni·r_n.
    /// dinp (N, C) and dweight (C) are ACCUMULATED. dinp must not overlap dout.
    /// </summary>
    public static void Backward(Span<float> dinput, Span<float> dweight, ReadOnlySpan<float> doutput,
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> rstd, int N, int C)
    {
        const string k = "RmsNorm.Backward";
        Check.Dims(k, (nameof(N), N), (nameof(C), C));
        long nc = (long)N * C;
        Check.Len(k, nameof(dinput), (ReadOnlySpan<float>)dinput, nc);
        Check.Len(k, nameof(dweight), (ReadOnlySpan<float>)dweight, C);
        Check.Len(k, nameof(doutput), doutput, nc);
        Check.Len(k, nameof(input), input, nc);
        Check.Len(k, nameof(weight), weight, C);
        Check.Len(k, nameof(rstd), rstd, N);
        Check.Disjoint(k, nameof(dinput), dinput[..(int)nc], nameof(doutput), doutput[..(int)nc]);
        if (N == 0 || C == 0) return;
        fixed (float* dx = dinput) fixed (float* dw = dweight) fixed (float* dy = doutput)
        fixed (float* x = input) fixed (float* w = weight) fixed (float* r = rstd)
        {
            nint dxp = (nint)dx, dwp = (nint)dw, dyp = (nint)dy, xp = (nint)x, wp = (nint)w, rp = (nint)r;
            KernelParallel.For(N, Math.Max(1, 4096 / C), (n0, n1) =>
            {
                var ws = new ReadOnlySpan<float>((float*)wp, C);
                var gw = new Span<float>(Scratch.Get(2, C), C);
                for (int n = n0; n < n1; n++)
                {
                    var xr = new ReadOnlySpan<float>((float*)xp + (long)n * C, C);
                    var dyr = new ReadOnlySpan<float>((float*)dyp + (long)n * C, C);
                    var dxr = new Span<float>((float*)dxp + (long)n * C, C);
                    float rs = ((float*)rp)[n];
                    TensorPrimitives.Multiply(dyr, ws, gw);                 // gw = dout ⊙ w
                    float c2 = rs * rs * rs * TensorPrimitives.Dot(gw, xr) / C;
                    TensorPrimitives.MultiplyAdd(gw, rs, dxr, dxr);         // dx += r·gw
                    TensorPrimitives.MultiplyAdd(xr, -c2, dxr, dxr);        // dx −= r³/C·(gw·x)·x
                }
            });
            // dweight: columns split across threads, rows walked in order (deterministic).
            KernelParallel.For(C, 64, (c0, c1) =>
            {
                int w = c1 - c0;
                var dwr = new Span<float>((float*)dwp + c0, w);
                var t = new Span<float>(Scratch.Get(2, w), w);
                for (int n = 0; n < N; n++)
                {
                    float rs = ((float*)rp)[n];
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>((float*)dyp + (long)n * C + c0, w), new ReadOnlySpan<float>((float*)xp + (long)n * C + c0, w), t);
                    TensorPrimitives.MultiplyAdd(t, rs, dwr, dwr);
                }
            });
        }
    }
}
