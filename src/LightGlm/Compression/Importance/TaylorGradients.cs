// ∂L/∂w summed over a calibration set with the engine's backward: the g of first-order Taylor importance |w·g|.
using LightGlm.Compression.Tensors;
using LightGlm.Model;

namespace LightGlm.Compression.Importance;

public static class TaylorGradients
{
    /// <summary>Σ over samples of ∂CE/∂w (each sample's mean CE), as named tensors; one sequence in memory at a time.</summary>
    public static TensorSet Compute(ModelFiles m, IEnumerable<CalibrationSample> calibration)
    {
        var model = ModelBridge.ToModel(m);
        model.ZeroGrads();
        int n = 0;
        foreach (var c in calibration)
        {
            var batch = Batch.From(1, c.Tokens.Length, c.Tokens, c.Targets);
            if (c.Prefix > 0) batch.PrefixLengths = [c.Prefix];
            var cache = model.CreateCache(1, c.Tokens.Length, dropout: false);
            model.ForwardLoss(cache, batch);
            model.Backward(cache, batch);
            n++;
        }
        if (n == 0) throw new ArgumentException("the calibration set is empty; Taylor importance needs at least one sequence");
        return ModelBridge.Tensors(model, grads: true);
    }
}
