// Final RMSNorm + LM head (+ the loss objective), forward and backward.
using LightGlm.Model.Ops;

namespace LightGlm.Model.Layers;

/// <summary>logits (N, V) = RMSNorm(Hidden(L))·w · W_headᵀ; the objective turns logits into dlogits in place.</summary>
public sealed class OutputHead(GlmModel model)
{
    public void Forward(ActivationCache cache)
    {
        var c = model.Config;
        var lo = model.Layout;
        Pointwise.RmsNormForward(cache.NormOut, cache.RstdF, cache.Hidden(c.L), model.W(lo.FinalNorm, c.C), cache.N, c.C, (float)c.RmsNormEps);
        using (StepProfiler.Time("gemm.lm_head.fwd"))
            Linear.Forward(cache.Logits, cache.NormOut, model.W(lo.LmHead, c.V * c.C), default, cache.N, c.C, c.V);
    }

    /// <summary>
    /// Expects cache.Logits to hold dLoss/dlogits and GradHidden to hold any extra dLoss/dHidden(L) from the objective;
    /// adds the head's and the final norm's contribution into GradHidden.
    /// </summary>
    public void Backward(ActivationCache cache)
    {
        var c = model.Config;
        var lo = model.Layout;
        using (StepProfiler.Time("gemm.lm_head.bwd"))
            Linear.Backward(cache.DLn, model.G(lo.LmHead, c.V * c.C), default, cache.Logits, cache.NormOut, model.W(lo.LmHead, c.V * c.C), cache.N, c.C, c.V);
        Pointwise.RmsNormBackward(cache.GradHidden, model.G(lo.FinalNorm, c.C), cache.DLn, cache.Hidden(c.L), model.W(lo.FinalNorm, c.C),
            cache.RstdF, cache.N, c.C);
    }
}
