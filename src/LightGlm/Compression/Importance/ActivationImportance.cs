// Activation-based importance (Minitron) and layer importance (block influence, loss when dropped) on calibration data.
using LightGlm.Model;
using System.Numerics.Tensors;
using LightGlm.Interop.Inference;
using LightGlm.Model.Inference;

namespace LightGlm.Compression.Importance;

/// <summary>One calibration example: tokens, next-token targets (−1 = ignored) and the GLM prefix length (0 = causal).</summary>
public sealed record CalibrationSample(int[] Tokens, int[] Targets, int Prefix = 0);

/// <summary>
/// Streams the calibration set through <see cref="InferenceSession"/> one block at a time (all sequences through block l,
/// then block l+1: a mapped teacher needs one block's weights read), an observer keeping only sums:
///   head h         Σ_t ‖att_h(t)‖₂                      (attention output of the head, before o_proj)
///   qk channel     Σ_t Σ_{h∈g} |q_{h,c}(t)|·|k_{g,c}(t)|   (its contribution to the scores)
///   v channel      Σ_t |v_{g,c}(t)|
///   FFN neuron     Σ_t |silu(gate)·up|
///   hidden channel Σ_t |n1_c(t)| + |n2_c(t)|             (the RMSNorm outputs, as Minitron's LayerNorm outputs)
///   layer          block influence: mean_t 1 − cos(x_in(t), x_out(t))  (ShortGPT)
/// </summary>
public static class ActivationImportance
{
    public static ImportanceScores Compute(ModelFiles m, IEnumerable<CalibrationSample> calibration) =>
        Compute(m.Config, m.InferenceWeights(), calibration.ToList());

    /// <summary>
    /// The same scores over a mapped teacher (any size), its weights read in place: block l's projections are widened
    /// tile by tile as every calibration sequence passes through it, before block l+1 is read. Holds the calibration
    /// set's residual streams (N·T·C floats). <paramref name="progress"/> gets (layer, seconds).
    /// </summary>
    public static ImportanceScores Compute(MappedTeacher teacher, IReadOnlyList<CalibrationSample> calibration, Action<int, double>? progress = null) =>
        Compute(teacher.Config, MappedInferenceWeights.Create(teacher.Weights), calibration, progress);

    /// <summary>
    /// Layer-outer streaming: x_i = embed(sample i) for all i; then for each layer l, x_i ← block_l(x_i) for all i with
    /// the observer summing.
    /// </summary>
    public static ImportanceScores Compute(ModelConfig shape, InferenceWeights weights, IReadOnlyList<CalibrationSample> calibration,
        Action<int, double>? progress = null)
    {
        if (calibration.Count == 0) throw new ArgumentException("the calibration set is empty; importance needs at least one sequence");
        var obs = new Observer(shape);
        var session = Session(weights, calibration);
        session.Observer = obs;
        var xs = calibration.Select(c => { var x = new float[c.Tokens.Length * shape.C]; session.Embed(c.Tokens, x); return x; }).ToList();
        for (int l = 0; l < shape.L; l++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < xs.Count; i++) session.ForwardBlock(l, xs[i], calibration[i].Prefix);
            progress?.Invoke(l, sw.Elapsed.TotalSeconds);
        }
        for (int l = 0; l < shape.L; l++) obs.Scores.Layers[l] /= Math.Max(1, obs.Tokens);
        obs.Scores.KvFromHeads(shape);
        return obs.Scores;
    }

    /// <summary>A one-slot session long enough for the longest calibration sequence.</summary>
    internal static InferenceSession Session(InferenceWeights weights, IEnumerable<CalibrationSample> calibration)
    {
        int longest = calibration.Max(c => c.Tokens.Length);
        if (longest == 0) throw new ArgumentException("a calibration sequence is empty; every sequence needs at least one token");
        return new InferenceSession(weights, 1, longest);
    }

    /// <summary>Loss change when each layer alone is dropped: mean CE(without layer l) − mean CE(full), over the calibration set.</summary>
    public static double[] DropLoss(ModelFiles m, IReadOnlyList<CalibrationSample> calibration)
    {
        var mask = PruneMask.Full(m.Config);
        var loss = MaskedLoss(m, calibration, mask);
        double full = loss();
        var r = new double[m.Config.L];
        for (int l = 0; l < m.Config.L; l++)
        {
            mask.Layers[l] = false;
            r[l] = loss() - full;
            mask.Layers[l] = true;
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
        var mask = PruneMask.Full(m.Config);
        var loss = MaskedLoss(m, calibration, mask);
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
                double value = loss();
                mask.Layers[l] = true;
                last[l] = value;
                if (value < bestLoss) { bestLoss = value; best = l; }
            }
            mask.Layers[best] = false;
            scores[best] = removed;
        }
        for (int l = 0; l < L; l++)
            if (mask.Layers[l]) scores[l] = L + 1 + (double.IsFinite(last[l]) ? Math.Atan(last[l]) / Math.PI + 0.5 : 0);
        return scores;
    }

    /// <summary>The mean next-token cross-entropy of the calibration set under <paramref name="mask"/>, read on every call.</summary>
    static Func<double> MaskedLoss(ModelFiles m, IReadOnlyList<CalibrationSample> calibration, StructureMask mask)
    {
        if (calibration.Count == 0) throw new ArgumentException("the calibration set is empty; a loss needs at least one sequence");
        var session = Session(m.InferenceWeights(), calibration);
        session.Mask = mask;
        var logits = new float[session.MaxRows * m.Config.V];
        return () => calibration.Average(c =>
        {
            if (c.Targets.Length > c.Tokens.Length)
                throw new ArgumentException($"a calibration sample has {c.Targets.Length} targets for {c.Tokens.Length} tokens; give one target (or −1) per token");
            session.ForwardSequence(c.Tokens, c.Prefix, logits);
            return CrossEntropy(logits, c.Targets, m.Config.V);
        });
    }

    /// <summary>Mean over rows with a target (≥ 0) of log Σ_j exp(z_j) − z_target, in double.</summary>
    static double CrossEntropy(float[] logits, int[] targets, int V)
    {
        double sum = 0;
        int n = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            if (targets[t] < 0) continue;
            var row = logits.AsSpan(t * V, V);
            float max = TensorPrimitives.Max(row);
            double z = 0;
            foreach (var v in row) z += Math.Exp(v - max);
            sum += Math.Log(z) + max - row[targets[t]];
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    sealed class Observer(ModelConfig t) : IBlockObserver
    {
        public ImportanceScores Scores { get; } = ImportanceScores.Zeros(t, "activation");
        public long Tokens;

        public void Block(int layer, ReadOnlySpan<float> xIn, ReadOnlySpan<float> xOut, int T)
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

        public void AttentionInput(int layer, ReadOnlySpan<float> n1, int T) => AddAbs(n1);
        public void FfnInput(int layer, ReadOnlySpan<float> n2, int T) => AddAbs(n2);

        void AddAbs(ReadOnlySpan<float> n) { for (int i = 0; i < n.Length; i++) Scores.Hidden[i % t.C] += Math.Abs(n[i]); }

        /// <summary>Row i of qkv = [q (H·D) | k (KV·D) | v (KV·D)].</summary>
        public void Qkv(int layer, ReadOnlySpan<float> qkv, int T)
        {
            int D = t.D, H = t.H, KV = t.KV, HD = H * D, W = (H + 2 * KV) * D;
            for (int i = 0; i < T; i++)
            {
                var q = qkv.Slice(i * W, HD);
                var k = qkv.Slice(i * W + HD, KV * D);
                var v = qkv.Slice(i * W + HD + KV * D, KV * D);
                for (int h = 0; h < H; h++)
                    for (int d = 0; d < D; d++)
                        Scores.QkChannels[layer][h / t.Group][d] += Math.Abs(q[h * D + d]) * Math.Abs(k[h / t.Group * D + d]);
                for (int g = 0; g < KV; g++)
                    for (int d = 0; d < D; d++) Scores.VChannels[layer][g][d] += Math.Abs(v[g * D + d]);
            }
        }

        public void HeadOutputs(int layer, ReadOnlySpan<float> att, int T)
        {
            int D = t.D, H = t.H;
            for (int i = 0; i < T; i++)
                for (int h = 0; h < H; h++) Scores.Heads[layer][h] += Math.Sqrt(TensorPrimitives.SumOfSquares(att.Slice((i * H + h) * D, D)));
        }

        public void FfnActivations(int layer, ReadOnlySpan<float> act, int T)
        {
            for (int i = 0; i < act.Length; i++) Scores.Ffn[layer][i % t.F] += Math.Abs(act[i]);
        }
    }
}
