// The training objective at the model's output: turns logits into a loss and dLoss/dlogits (+ optional hidden-state terms).
using LightGlm.Model.Ops;

namespace LightGlm.Model;

/// <summary>
/// Called by the model right after the LM head's forward. It reads cache.Logits (M, V) — row m is batch row
/// cache.ActiveRows[m], the rows with a target (targets ≥ 0) — returns the loss (already
/// normalised, e.g. by batch.LossScale), and must overwrite cache.Logits with dLoss/dlogits. It may ADD extra terms to
/// cache.GradHidden (N, C) = dLoss/dHidden(L), the last hidden state before the final norm (zeroed before the call) —
/// that is where distillation's hidden-state MSE plugs in. cache.NormOut holds the normalised last hidden state.
/// </summary>
public interface ILossObjective
{
    double Compute(ActivationCache cache, Batch batch);
}

/// <summary>
/// Hard-label cross-entropy: Σ_n LossScale·weight[b]·CE(logits_n, target_n) over targets ≠ −1, optionally with label
/// smoothing ε (the target distribution (1−ε)·onehot + ε/V; what NMT toolkits train with, 0.1 typically).
/// </summary>
public sealed class CrossEntropyObjective(float labelSmoothing = 0f) : ILossObjective
{
    public static readonly CrossEntropyObjective Instance = new();

    public float LabelSmoothing { get; } = labelSmoothing is >= 0f and < 1f ? labelSmoothing
        : throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");

    public double Compute(ActivationCache cache, Batch batch)
    {
        FillRowScales(cache, batch);
        var rows = cache.ActiveRows;
        int M = rows.Length;
        if (cache.ActiveCount < 0)
            return Pointwise.CrossEntropyInPlace(cache.Logits, batch.Targets, cache.RowScale, cache.Config.V, cache.RowLoss, cache.RowLossF, LabelSmoothing);
        // Compact rows: their targets and scales gathered, per-row losses scattered back (0 on rows without a target).
        var targets = new int[M];
        var scales = new float[M];
        for (int m = 0; m < M; m++) { targets[m] = batch.Targets[rows[m]]; scales[m] = cache.RowScale[rows[m]]; }
        var loss = new double[M];
        double total = M == 0 ? 0 : Pointwise.CrossEntropyInPlace(cache.Logits.Span[..(M * cache.Config.V)], targets, scales, cache.Config.V, loss,
            cache.RowLossF.AsSpan(0, M), LabelSmoothing);
        Array.Clear(cache.RowLoss);
        for (int m = 0; m < M; m++) cache.RowLoss[rows[m]] = loss[m];
        return total;
    }

    /// <summary>RowScale[n] = LossScale · weight[b(n)] (0 where the target is ignored).</summary>
    public static void FillRowScales(ActivationCache cache, Batch batch)
    {
        var s = cache.RowScale;
        for (int n = 0; n < cache.N; n++)
        {
            float w = batch.SampleWeights is { } sw ? sw[n / cache.T] : 1f;
            s[n] = batch.Targets[n] >= 0 ? batch.LossScale * w : 0f;
        }
    }
}
