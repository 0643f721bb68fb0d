// AdamW update with torch.optim.AdamW (PyTorch 1.13, single-tensor path) semantics and operation order.
using System.Runtime.Intrinsics;

namespace LightGlm.Kernels;

public static unsafe class AdamW
{
    /// <summary>
    /// One step t (1-based) over n parameters, in PyTorch's order:
    ///   p *= 1 − lr·wd;  m = b1·m + (1−b1)·g;  v = b2·v + (1−b2)·g·g;
    ///   p += −(lr/(1−b1^t)) · m / (sqrt(v)/sqrt(1−b2^t) + eps).
    /// Scalars are formed in double as Python does, then rounded to float. param, m, v are updated in place.
    /// </summary>
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, int n,
        double lr, double beta1, double beta2, double eps, double weightDecay, long step)
    {
        const string k = "AdamW.Step";
        Check.Dims(k, (nameof(n), n));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"{k}: step is 1-based, got {step}.");
        Check.Len(k, nameof(param), (ReadOnlySpan<float>)param, n);
        Check.Len(k, nameof(grad), grad, n);
        Check.Len(k, nameof(m), (ReadOnlySpan<float>)m, n);
        Check.Len(k, nameof(v), (ReadOnlySpan<float>)v, n);
        if (n == 0) return;
        float decay = (float)(1 - lr * weightDecay);
        float b1 = (float)beta1, b2 = (float)beta2, a1 = (float)(1 - beta1), a2 = (float)(1 - beta2);
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        float stepSize = (float)-(lr / bc1), bc2Sqrt = (float)Math.Sqrt(bc2), epsF = (float)eps;
        fixed (float* pp = param) fixed (float* gp = grad) fixed (float* mp = m) fixed (float* vp = v)
        {
            nint pa = (nint)pp, ga = (nint)gp, ma = (nint)mp, va = (nint)vp;
            KernelParallel.For(n, 16384, (i0, i1) =>
            {
                float* p = (float*)pa, g = (float*)ga, mm = (float*)ma, vv = (float*)va;
                int i = i0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vDecay = Vector256.Create(decay); var vb1 = Vector256.Create(b1); var vb2 = Vector256.Create(b2);
                    var va1 = Vector256.Create(a1); var va2 = Vector256.Create(a2); var vStep = Vector256.Create(stepSize);
                    var vBc2 = Vector256.Create(bc2Sqrt); var vEps = Vector256.Create(epsF);
                    for (; i + 8 <= i1; i += 8)
                    {
                        var gi = Vector256.Load(g + i);
                        var pi = Vector256.Load(p + i) * vDecay;
                        var mi = Vector256.Load(mm + i) * vb1 + va1 * gi;
                        var vi = Vector256.Load(vv + i) * vb2 + va2 * gi * gi;
                        var denom = Vector256.Sqrt(vi) / vBc2 + vEps;
                        pi += vStep * mi / denom;
                        mi.Store(mm + i); vi.Store(vv + i); pi.Store(p + i);
                    }
                }
                for (; i < i1; i++)
                {
                    float gi = g[i];
                    float pi = p[i] * decay;
                    float mi = mm[i] * b1 + a1 * gi;
                    float vi = vv[i] * b2 + a2 * gi * gi;
                    float denom = MathF.Sqrt(vi) / bc2Sqrt + epsF;
                    pi += stepSize * mi / denom;
                    mm[i] = mi; vv[i] = vi; p[i] = pi;
                }
            });
        }
    }
}
