// Activation-based importance (Minitron) and layer importance (block influence, loss when dropped) on calibration data.
using System.Numerics.Tensors;

namespace LightGlm.Compression.Importance;

/// <summary>One calibration example: tokens, next-token targets (−1 = ignored) and the GLM prefix length (0 = causal).</summary>
public sealed record CalibrationSample(int[] Tokens, int[] Targets, int Prefix = 0);

/// <summary>
/// Streams the calibration set through <see cref="ReferenceForward"/> one layer at a time (all sequences through block l,
/// then block l+1: a mapped teacher needs one block's weights resident), keeping only sums:
///   head h         Σ_t ‖att_h(t)‖₂                      (attention output of the head, before o_proj)
///   qk channel     Σ_t Σ_{h∈g} |q_{h,c}(t)|·|k_{g,c}(t)|   (its contribution to the scores)
///   v channel      Σ_t |v_{g,c}(t)|
///   FFN neuron     Σ_t |silu(gate)·up|
///   hidden channel Σ_t |n1_c(t)| + |n2_c(t)|             (the RMSNorm outputs, as Minitron's LayerNorm outputs)
///   layer          block influence: mean_t 1 − cos(x_in(t), x_out(t))  (ShortGPT)
/// </summary>
public static class ActivationImportance
{
    public static ImportanceScores Compute(ModelFiles m, IEnumerable<CalibrationSample> calibration)
    {
        var fwd = new ReferenceForward(m);
        return Compute(m.Shape, calibration.ToList(), c => fwd.Embedding(c.Tokens), _ => m.Weights);
    }

    /// <summary>
    /// The same scores over a mapped teacher (any size): block l's weights are widened to fp32, every calibration
    /// sequence is pushed through it, and they are dropped before block l+1 is read. Holds one block's fp32 weights
    /// plus the calibration set's residual streams (N·T·C floats). <paramref name="progress"/> gets (layer, seconds).
    /// </summary>
    public static ImportanceScores Compute(MappedTeacher teacher, IReadOnlyList<CalibrationSample> calibration, Action<int, double>? progress = null) =>
        Compute(teacher.Shape, calibration, c => teacher.Embed(c.Tokens), teacher.LoadLayer, progress);

    /// <summary>
    /// Layer-outer streaming: x_i = embed(sample i) for all i; then for each layer l, x_i ← block_l(x_i) for all i with
    /// the observer summing. Only <paramref name="layerWeights"/>(l) has to be resident while layer l runs.
    /// </summary>
    public static ImportanceScores Compute(ModelShape shape, IReadOnlyList<CalibrationSample> calibration, Func<CalibrationSample, float[]> embed,
        Func<int, Tensors.ITensorSource> layerWeights, Action<int, double>? progress = null)
    {
        if (calibration.Count == 0) throw new ArgumentException("the calibration set is empty; importance needs at least one sequence");
        var obs = new Observer(shape);
        var xs = calibration.Select(embed).ToList();
        for (int l = 0; l < shape.L; l++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var fwd = new ReferenceForward(shape, layerWeights(l));
            for (int i = 0; i < xs.Count; i++) fwd.RunBlock(l, xs[i], calibration[i].Tokens.Length, null, obs, calibration[i].Prefix);
            progress?.Invoke(l, sw.Elapsed.TotalSeconds);
        }
        for (int l = 0; l < shape.L; l++) obs.Scores.Layers[l] /= Math.Max(1, obs.Tokens);
        obs.Scores.KvFromHeads(shape);
        return obs.Scores;
    }

    /// <summary>Loss change when each layer alone is dropped: mean CE(without layer l) − mean CE(full), over the calibration set.</summary>
    public static double[] DropLoss(ModelFiles m, IReadOnlyList<CalibrationSample> calibration)
    {
        var fwd = new ReferenceForward(m);
        double Mean(PruneMask? mask) => calibration.Average(c => fwd.Loss(c.Tokens, c.Targets, mask, c.Prefix));
        double full = Mean(null);
        var r = new double[m.Shape.L];
        for (int l = 0; l < m.Shape.L; l++)
        {
            var mask = new PruneMask(m.Shape);
            mask.Layers[l] = false;
            r[l] = Mean(mask) - full;
        }
        return r;
    }

    /// <summary>
    /// Which <paramref name="keep"/> layers to keep, by the loss of the model without them: greedy backward elimination —
    /// drop the layer whose removal raises the mean calibration loss least, re-measure without it, repeat until
    /// <paramref name="keep"/> remain (L + (L−1) + … + (keep+1) forward passes). Unlike block influence or one-at-a-time
    /// drop loss it sees how removals interact (two layers that are each dispensable may not both be). Scores: the
    /// kept layers L + 1 + (their last drop loss, squashed), the removed ones their removal order (first removed = 0),
    /// so the best <paramref name="keep"/> by score are exactly the kept set.
    /// </summary>
    public static double[] LayerSubsetByLoss(ModelFiles m, IReadOnlyList<CalibrationSample> calibration, int keep)
    {
        int L = m.Shape.L;
        if (keep < 1 || keep > L) throw new ArgumentOutOfRangeException(nameof(keep), keep, $"keep must be in [1, {L}]");
        if (calibration.Count == 0) throw new ArgumentException("the calibration set is empty; layer selection needs at least one sequence");
        var fwd = new ReferenceForward(m);
        var mask = new PruneMask(m.Shape);
        double Mean() => calibration.Average(c => fwd.Loss(c.Tokens, c.Targets, mask, c.Prefix));
        var scores = new double[L];
        var last = new double[L];
        for (int removed = 0; removed < L - keep; removed++)
        {
            int best = -1;
            double bestLoss = double.PositiveInfinity;
            for (int l = 0; l < L; l++)
            {
                if (!mask.Layers[l]) continue;
                mask.Layers[l] = false;
                double loss = Mean();
                mask.Layers[l] = true;
                last[l] = loss;
                if (loss < bestLoss) { bestLoss = loss; best = l; }
            }
            mask.Layers[best] = false;
            scores[best] = removed;
        }
        for (int l = 0; l < L; l++)
            if (mask.Layers[l]) scores[l] = L + 1 + (double.IsFinite(last[l]) ? Math.Atan(last[l]) / Math.PI + 0.5 : 0);
        return scores;
    }

    sealed class Observer(ModelShape t) : ForwardObserver
    {
        public ImportanceScores Scores { get; } = ImportanceScores.Zeros(t, "activation");
        public long Tokens;

        public override void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int T)
        {
            if (layer == 0) Tokens += T;
            int C = t.C;
            for (int i = 0; i < T; i++)
            {
                var a = xIn.Slice(i * C, C);
                var b = xOut.Slice(i * C, C);
                double cos = TensorPrimitives.Dot(a, b) / (Math.Sqrt(TensorPrimitives.SumOfSquares(a)) * Math.Sqrt(TensorPrimitives.SumOfSquares(b)) + 1e-12);
                Scores.Layers[layer] += 1 - cos;
            }
        }

        public override void Norms(int layer, ReadOnlySpan<float> n1, ReadOnlySpan<float> n2, int T)
        {
            for (int i = 0; i < n1.Length; i++) Scores.Hidden[i % t.C] += Math.Abs(n1[i]) + Math.Abs(n2[i]);
        }

        public override void Qkv(int layer, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int T)
        {
            int D = t.D, H = t.H, KV = t.KV;
            for (int i = 0; i < T; i++)
            {
                for (int h = 0; h < H; h++)
                    for (int d = 0; d < D; d++)
                        Scores.QkChannels[layer][h / t.Group][d] += Math.Abs(q[(i * H + h) * D + d]) * Math.Abs(k[(i * KV + h / t.Group) * D + d]);
                for (int g = 0; g < KV; g++)
                    for (int d = 0; d < D; d++) Scores.VChannels[layer][g][d] += Math.Abs(v[(i * KV + g) * D + d]);
            }
        }

        public override void HeadOutputs(int layer, ReadOnlySpan<float> att, int T)
        {
            int D = t.D, H = t.H;
            for (int i = 0; i < T; i++)
                for (int h = 0; h < H; h++) Scores.Heads[layer][h] += Math.Sqrt(TensorPrimitives.SumOfSquares(att.Slice((i * H + h) * D, D)));
        }

        public override void FfnActivations(int layer, ReadOnlySpan<float> act, int T)
        {
            for (int i = 0; i < act.Length; i++) Scores.Ffn[layer][i % t.F] += Math.Abs(act[i]);
        }
    }
}
