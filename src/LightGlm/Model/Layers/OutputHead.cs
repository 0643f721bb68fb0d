// Final RMSNorm + LM head (+ the loss objective), forward and backward.
using LightGlm.Model.Ops;

namespace LightGlm.Model.Layers;

/// <summary>
/// logits = RMSNorm(Hidden(L))·w · W_headᵀ; the objective turns logits into dlogits in place. For training
/// (<paramref name="model"/>'s Forward with an objective) the head multiplies only the rows that have a target: the
/// normed rows are gathered to the front of NormOut (in place, order kept), logits (M, V) for those M rows, and the
/// backward scatters dNormOut back. Rows without a target get no logits and no gradient from the head, as before
/// (their dlogits were zero), at a fraction of the GEMM and softmax work.
/// </summary>
public sealed class OutputHead(GlmModel model)
{
    public void Forward(ActivationCache cache, Batch? onlyTargets = null)
    {
        var c = model.Config;
        var lo = model.Layout;
        int N = cache.N, C = c.C;
        Pointwise.RmsNormForward(cache.NormOut, cache.RstdF, cache.Hidden(c.L), model.W(lo.FinalNorm, C), N, C, (float)c.RmsNormEps);
        int M = N;
        cache.ActiveCount = -1;
        if (onlyTargets is { } batch)
        {
            var rows = cache.ActiveRowIndex;
            var norm = cache.NormOut.Span;
            M = 0;
            for (int n = 0; n < N; n++)
            {
                if (batch.Targets[n] < 0) continue;
                if (M != n) norm.Slice(n * C, C).CopyTo(norm.Slice(M * C, C));
                rows[M++] = n;
            }
            cache.ActiveCount = M;
        }
        if (M == 0) return;
        using (StepProfiler.Time("gemm.lm_head.fwd"))
            if (model.FrozenBase is { } fb) model.FrozenForward(fb.Head, cache.Logits, cache.NormOut, M);
            else Linear.Forward(cache.Logits, cache.NormOut, model.W(lo.LmHead, c.V * C), default, M, C, c.V);
    }

    /// <summary>
    /// Expects cache.Logits to hold dLoss/dlogits and GradHidden to hold any extra dLoss/dHidden(L) from the objective;
    /// adds the head's and the final norm's contribution into GradHidden.
    /// </summary>
    public void Backward(ActivationCache cache)
    {
        var c = model.Config;
        var lo = model.Layout;
        int N = cache.N, C = c.C, M = cache.ActiveCount < 0 ? N : cache.ActiveCount;
        if (M > 0)
            using (StepProfiler.Time("gemm.lm_head.bwd"))
                if (model.FrozenBase is { } fb) model.FrozenBackward(fb.Head, cache.DLn, cache.Logits, M);
                else Linear.Backward(cache.DLn, model.BaseGrad(lo.LmHead, c.V * C), default, cache.Logits, cache.NormOut, model.W(lo.LmHead, c.V * C), M, C, c.V);
        if (M < N)
        {
            // dNormOut rows back to their batch rows (ActiveRows[m] ≥ m: move from the end), zero where there was no target.
            var d = cache.DLn.Span;
            var rows = cache.ActiveRowIndex;
            int next = N;
            for (int m = M - 1; m >= 0; m--)
            {
                int n = rows[m];
                d.Slice((n + 1) * C, (next - n - 1) * C).Clear();
                if (n != m) d.Slice(m * C, C).CopyTo(d.Slice(n * C, C));
                next = n;
            }
            d[..(next * C)].Clear();
        }
        Pointwise.RmsNormBackward(cache.GradHidden, model.NormGrad(lo.FinalNorm, C), cache.DLn, cache.Hidden(c.L), model.W(lo.FinalNorm, C),
            cache.RstdF, N, C);
    }
}
