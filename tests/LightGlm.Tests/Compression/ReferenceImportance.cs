// Test oracle: activation importance, layer choice by loss and Wanda's input norms as they were computed through
// ReferenceForward before InferenceSession took over (December 2026), kept verbatim to check the new path against.
using System.Numerics.Tensors;
using LightGlm.Compression;
using LightGlm.Compression.Importance;
using LightGlm.Model;
using LightGlm.Model.Inference;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Tests.Compression;

internal static class ReferenceImportance
{
    public static ImportanceScores Compute(ModelFiles m, IEnumerable<CalibrationSample> calibration)
    {
        var fwd = new ReferenceForward(m);
        return Compute(m.Config, calibration.ToList(), c => fwd.Embedding(c.Tokens), _ => m.Weights);
    }

    /// <summary>
    /// Layer-outer streaming: x_i = embed(sample i) for all i; then for each layer l, x_i ← block_l(x_i) for all i with
    /// the observer summing. Only <paramref name="layerWeights"/>(l) has to be resident while layer l runs.
    /// </summary>
    public static ImportanceScores Compute(ModelConfig shape, IReadOnlyList<CalibrationSample> calibration, Func<CalibrationSample, float[]> embed,
        Func<int, LightGlm.Compression.Tensors.ITensorSource> layerWeights, Action<int, double>? progress = null)
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
        double Mean(StructureMask? mask) => calibration.Average(c => fwd.Loss(c.Tokens, c.Targets, mask, c.Prefix));
        double full = Mean(null);
        var r = new double[m.Config.L];
        for (int l = 0; l < m.Config.L; l++)
        {
            var mask = PruneMask.Full(m.Config);
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
        int L = m.Config.L;
        if (keep < 1 || keep > L) throw new ArgumentOutOfRangeException(nameof(keep), keep, $"keep must be in [1, {L}]");
        if (calibration.Count == 0) throw new ArgumentException("the calibration set is empty; layer selection needs at least one sequence");
        var fwd = new ReferenceForward(m);
        var mask = PruneMask.Full(m.Config);
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

    sealed class Observer(ModelConfig t) : ReferenceObserver
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

    /// <summary>‖X_j‖₂ of each linear's input column over the calibration tokens (streamed through the reference forward).</summary>
    public static Dictionary<string, float[]> WandaInputNorms(ModelFiles m, IEnumerable<CalibrationSample> calibration)
    {
        var obs = new NormObserver(m.Config);
        var fwd = new ReferenceForward(m);
        foreach (var c in calibration) fwd.Hidden(c.Tokens, null, obs, c.Prefix);
        var r = new Dictionary<string, float[]>();
        var t = m.Config;
        for (int l = 0; l < t.L; l++)
        {
            float[] Sqrt(double[] a) => a.Select(x => (float)Math.Sqrt(x)).ToArray();
            r[Q(l)] = r[K(l)] = r[TensorNames.V(l)] = Sqrt(obs.N1[l]);
            r[O(l)] = Sqrt(obs.Att[l]);
            r[Gate(l)] = r[Up(l)] = Sqrt(obs.N2[l]);
            r[Down(l)] = Sqrt(obs.Act[l]);
        }
        return r;
    }

    sealed class NormObserver(ModelConfig t) : ReferenceObserver
    {
        public readonly double[][] N1 = Enumerable.Range(0, t.L).Select(_ => new double[t.C]).ToArray();
        public readonly double[][] N2 = Enumerable.Range(0, t.L).Select(_ => new double[t.C]).ToArray();
        public readonly double[][] Att = Enumerable.Range(0, t.L).Select(_ => new double[t.H * t.D]).ToArray();
        public readonly double[][] Act = Enumerable.Range(0, t.L).Select(_ => new double[t.F]).ToArray();

        static void Add(double[] into, ReadOnlySpan<float> x) { for (int i = 0; i < x.Length; i++) into[i % into.Length] += (double)x[i] * x[i]; }
        public override void Norms(int layer, ReadOnlySpan<float> n1, ReadOnlySpan<float> n2, int T) { Add(N1[layer], n1); Add(N2[layer], n2); }
        public override void HeadOutputs(int layer, ReadOnlySpan<float> att, int T) => Add(Att[layer], att);
        public override void FfnActivations(int layer, ReadOnlySpan<float> act, int T) => Add(Act[layer], act);
    }
}
