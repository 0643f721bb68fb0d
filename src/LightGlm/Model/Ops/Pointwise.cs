// Row-wise and element-wise layers of the model on its arena views, each one call into LightGlm.Kernels (split over
// cores by KernelParallel): RMSNorm, SwiGLU on the packed gate|up rows, embedding, cross-entropy; plus dropout masks.
using LightGlm.Kernels;

namespace LightGlm.Model.Ops;

internal static class Pointwise
{
    /// <summary>out (N, C) = x · rstd · w,  rstd (N) = 1 / sqrt(mean(x²) + eps).</summary>
    public static void RmsNormForward(Span<float> y, Span<float> rstd, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int N, int C, float eps)
    {
        using var _ = StepProfiler.Time("rmsnorm.fwd");
        RmsNorm.Forward(y, rstd, x, w, N, C, eps);
    }

    /// <summary>Inverts y = x·rstd·w: dx (N, C) += …, dw (C) += Σ_n dy⊙x·rstd (both accumulated; dx is the residual stream's gradient).</summary>
    public static void RmsNormBackward(Span<float> dx, Span<float> dw, ReadOnlySpan<float> dy, ReadOnlySpan<float> x,
        ReadOnlySpan<float> w, ReadOnlySpan<float> rstd, int N, int C)
    {
        using var _ = StepProfiler.Time("rmsnorm.bwd");
        RmsNorm.Backward(dx, dw, dy, x, w, rstd, N, C);
    }

    /// <summary>out (N, F) = silu(gate) ⊙ up, with gate|up the two halves of each row of gu (N, 2F).</summary>
    public static void SwiGluForward(Span<float> y, ReadOnlySpan<float> gu, int N, int F)
    {
        using var _ = StepProfiler.Time("swiglu.fwd");
        SwiGlu.ForwardPacked(y, gu, N, F);
    }

    /// <summary>Inverts y = silu(g)·u: dg = dy·u·σ(g)(1 + g(1−σ(g))), du = dy·silu(g). Writes dgu (N, 2F).</summary>
    public static void SwiGluBackward(Span<float> dgu, ReadOnlySpan<float> dy, ReadOnlySpan<float> gu, int N, int F)
    {
        using var _ = StepProfiler.Time("swiglu.bwd");
        SwiGlu.BackwardPacked(dgu, dy, gu, N, F);
    }

    /// <summary>x (N, C) = E[tokens[n]] with E (V, C).</summary>
    public static void EmbeddingForward(Span<float> x, ReadOnlySpan<int> tokens, ReadOnlySpan<float> e, int C)
    {
        using var _ = StepProfiler.Time("embedding.fwd");
        Embedding.Forward(x, tokens, e, tokens.Length, e.Length / C, C);
    }

    /// <summary>Inverts x[n] = E[tok[n]]: dE[tok[n]] += dx[n] (in row order: tokens repeat).</summary>
    public static void EmbeddingBackward(Span<float> dE, ReadOnlySpan<int> tokens, ReadOnlySpan<float> dx, int C)
    {
        using var _ = StepProfiler.Time("embedding.bwd");
        Embedding.Backward(dE, dx, tokens, tokens.Length, dE.Length / C, C);
    }

    /// <summary>
    /// Cross-entropy with ignore index −1, in place: logits (N, V) become dlogits = (softmax − onehot)·scale[n].
    /// Returns Σ_n scale[n]·(−log p[n, target]) over rows with a target and a non-zero scale (summed in double in row
    /// order, independent of the thread count); rowLoss[n] = the unscaled CE (0 for ignored rows, which get zero gradient).
    /// <paramref name="rowLossF"/> is N floats of scratch.
    /// </summary>
    public static double CrossEntropyInPlace(Span<float> logits, ReadOnlySpan<int> targets, ReadOnlySpan<float> scale, int V,
        double[] rowLoss, Span<float> rowLossF, float labelSmoothing = 0f)
    {
        using var _ = StepProfiler.Time("cross_entropy");
        int N = targets.Length;
        double total = CrossEntropy.ForwardBackwardRows(logits, logits, targets, scale, rowLossF, N, V, labelSmoothing);
        for (int n = 0; n < N; n++) rowLoss[n] = rowLossF[n];
        return total;
    }

    /// <summary>Inverted dropout mask (keep with prob 1−p, value 1/(1−p)); deterministic from <paramref name="rng"/>.</summary>
    public static void DropoutMask(Span<float> mask, float p, ref Rng rng)
    {
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < p ? 0f : keep;
    }
}
