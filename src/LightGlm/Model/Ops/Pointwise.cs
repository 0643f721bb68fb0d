// Row-wise and element-wise layers: RMSNorm, SwiGLU, embedding, dropout, cross-entropy (forward and backward).
using System.Numerics.Tensors;

namespace LightGlm.Model.Ops;

internal static class Pointwise
{
    /// <summary>out (N, C) = x · rstd · w,  rstd (N) = 1 / sqrt(mean(x²) + eps).</summary>
    public static void RmsNormForward(Span<float> y, Span<float> rstd, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int N, int C, float eps)
    {
        for (int n = 0; n < N; n++)
        {
            var xr = x.Slice(n * C, C);
            float ss = TensorPrimitives.Dot(xr, xr);
            float r = 1f / MathF.Sqrt(ss / C + eps);
            rstd[n] = r;
            var yr = y.Slice(n * C, C);
            TensorPrimitives.Multiply(xr, w, yr);
            TensorPrimitives.Multiply(yr, r, yr);
        }
    }

    /// <summary>
    /// Inverts y = x·rstd·w. With g = dy⊙w: dx += rstd·g − x·rstd³·(Σ g⊙x)/C;  dw += Σ_n dy⊙x·rstd.
    /// dx is accumulated (it is the residual stream's gradient). <paramref name="scratch"/> holds C floats.
    /// </summary>
    public static void RmsNormBackward(Span<float> dx, Span<float> dw, ReadOnlySpan<float> dy, ReadOnlySpan<float> x,
        ReadOnlySpan<float> w, ReadOnlySpan<float> rstd, int N, int C, Span<float> scratch)
    {
        var g = scratch[..C];
        for (int n = 0; n < N; n++)
        {
            var xr = x.Slice(n * C, C);
            var dyr = dy.Slice(n * C, C);
            var dxr = dx.Slice(n * C, C);
            float r = rstd[n];
            TensorPrimitives.Multiply(dyr, xr, g);
            TensorPrimitives.MultiplyAdd(g, r, dw, dw);           // dw += dy⊙x·rstd
            TensorPrimitives.Multiply(dyr, w, g);                  // g = dy⊙w
            float dot = TensorPrimitives.Dot(g, xr);
            TensorPrimitives.MultiplyAdd(g, r, dxr, dxr);          // dx += rstd·g
            TensorPrimitives.MultiplyAdd(xr, -r * r * r * dot / C, dxr, dxr);
        }
    }

    /// <summary>out (N, F) = silu(gate) ⊙ up, with gate|up the two halves of each row of gu (N, 2F).</summary>
    public static void SwiGluForward(Span<float> y, ReadOnlySpan<float> gu, int N, int F)
    {
        for (int n = 0; n < N; n++)
        {
            var g = gu.Slice(n * 2 * F, F);
            var u = gu.Slice(n * 2 * F + F, F);
            var yr = y.Slice(n * F, F);
            for (int i = 0; i < F; i++)
            {
                float gi = g[i];
                yr[i] = gi / (1f + MathF.Exp(-gi)) * u[i];
            }
        }
    }

    /// <summary>Inverts y = silu(g)·u: dg = dy·u·σ(g)(1 + g(1−σ(g))), du = dy·silu(g). Writes dgu (N, 2F).</summary>
    public static void SwiGluBackward(Span<float> dgu, ReadOnlySpan<float> dy, ReadOnlySpan<float> gu, int N, int F)
    {
        for (int n = 0; n < N; n++)
        {
            var g = gu.Slice(n * 2 * F, F);
            var u = gu.Slice(n * 2 * F + F, F);
            var dg = dgu.Slice(n * 2 * F, F);
            var du = dgu.Slice(n * 2 * F + F, F);
            var dyr = dy.Slice(n * F, F);
            for (int i = 0; i < F; i++)
            {
                float gi = g[i], s = 1f / (1f + MathF.Exp(-gi));
                du[i] = dyr[i] * gi * s;
                dg[i] = dyr[i] * u[i] * s * (1f + gi * (1f - s));
            }
        }
    }

    /// <summary>x (N, C) = E[tokens[n]] with E (V, C).</summary>
    public static void EmbeddingForward(Span<float> x, ReadOnlySpan<int> tokens, ReadOnlySpan<float> e, int C)
    {
        for (int n = 0; n < tokens.Length; n++) e.Slice(tokens[n] * C, C).CopyTo(x.Slice(n * C, C));
    }

    /// <summary>Inverts x[n] = E[tok[n]]: dE[tok[n]] += dx[n] (serial: tokens repeat).</summary>
    public static void EmbeddingBackward(Span<float> dE, ReadOnlySpan<int> tokens, ReadOnlySpan<float> dx, int C)
    {
        for (int n = 0; n < tokens.Length; n++)
        {
            var row = dE.Slice(tokens[n] * C, C);
            TensorPrimitives.Add(row, dx.Slice(n * C, C), row);
        }
    }

    /// <summary>
    /// Cross-entropy with ignore index −1, in place: logits (N, V) become dlogits = (softmax − onehot)·scale[n].
    /// Returns Σ_n scale[n]·(−log p[n, target]) over non-ignored rows (in double, so the sum does not depend on N's size).
    /// Ignored rows get zero gradient.
    /// </summary>
    public static double CrossEntropyInPlace(Span<float> logits, ReadOnlySpan<int> targets, ReadOnlySpan<float> scale, int V, double[] rowLoss)
    {
        double total = 0;
        for (int n = 0; n < targets.Length; n++)
        {
            var row = logits.Slice(n * V, V);
            int t = targets[n];
            if (t < 0 || scale[n] == 0) { row.Clear(); rowLoss[n] = 0; continue; }
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, row);
            float sum = TensorPrimitives.Sum(row);
            double nll = -(Math.Log(row[t]) - Math.Log(sum));
            rowLoss[n] = nll;
            total += scale[n] * nll;
            TensorPrimitives.Multiply(row, scale[n] / sum, row);
            row[t] -= scale[n];
        }
        return total;
    }

    /// <summary>Inverted dropout mask (keep with prob 1−p, value 1/(1−p)); deterministic from <paramref name="rng"/>.</summary>
    public static void DropoutMask(Span<float> mask, float p, ref Rng rng)
    {
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < p ? 0f : keep;
    }
}
