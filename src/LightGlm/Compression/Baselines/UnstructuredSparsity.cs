// Unstructured sparsity baselines: magnitude and Wanda (|w|·‖x_in‖), zeroing a fraction of each linear weight's entries.
using LightGlm.Model;
using LightGlm.Compression.Importance;
using LightGlm.Model.Inference;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Compression.Baselines;

/// <summary>
/// Zeros the lowest-scoring fraction of every linear weight of every block (embeddings, norms and the LM head untouched).
///   magnitude: s = |w_ij|, compared within the whole matrix;
///   Wanda (Sun et al. 2023): s = |w_ij|·‖X_j‖₂ over calibration tokens, compared within each output row.
/// The result is still a dense model: on dense kernels it saves no time and no memory (measured in docs/COMPRESSION.md);
/// it is a quality baseline (the paper's 25% sparsity point), not a speed one.
/// </summary>
public static class UnstructuredSparsity
{
    public static ModelFiles Magnitude(ModelFiles m, double sparsity)
    {
        Check(sparsity);
        var w = m.Weights.Clone();
        for (int l = 0; l < m.Config.L; l++)
            foreach (var name in LinearWeights(l))
            {
                var d = w.Get(name).Data;
                int k = (int)Math.Floor(d.Length * sparsity);
                if (k == 0) continue;
                var order = Enumerable.Range(0, d.Length).OrderBy(i => MathF.Abs(d[i])).ThenBy(i => i).Take(k);
                foreach (var i in order) d[i] = 0;
            }
        return new ModelFiles(m.Config, w);
    }

    public static ModelFiles Wanda(ModelFiles m, double sparsity, IEnumerable<CalibrationSample> calibration)
    {
        Check(sparsity);
        var norms = InputNorms(m, calibration);
        var w = m.Weights.Clone();
        for (int l = 0; l < m.Config.L; l++)
            foreach (var name in LinearWeights(l))
            {
                var t = w.Get(name);
                var xn = norms[name];
                int k = (int)Math.Floor(t.Cols * sparsity);
                if (k == 0) continue;
                for (int r = 0; r < t.Rows; r++)
                {
                    int off = r * t.Cols;
                    var order = Enumerable.Range(0, t.Cols).OrderBy(j => MathF.Abs(t.Data[off + j]) * xn[j]).ThenBy(j => j).Take(k);
                    foreach (var j in order) t.Data[off + j] = 0;
                }
            }
        return new ModelFiles(m.Config, w);
    }

    /// <summary>Fraction of exactly-zero entries over the block linear weights.</summary>
    public static double Sparsity(ModelFiles m)
    {
        long zero = 0, all = 0;
        for (int l = 0; l < m.Config.L; l++)
            foreach (var name in LinearWeights(l))
            {
                var d = m.Weights.Get(name).Data;
                all += d.Length;
                foreach (var x in d) if (x == 0) zero++;
            }
        return (double)zero / all;
    }

    static void Check(double s)
    {
        if (!(s >= 0 && s < 1)) throw new ArgumentException($"sparsity {s} must be in [0, 1)");
    }

    /// <summary>‖X_j‖₂ of each linear's input column over the calibration tokens (observed in the one forward pass).</summary>
    internal static Dictionary<string, float[]> InputNorms(ModelFiles m, IEnumerable<CalibrationSample> calibration)
    {
        var obs = new NormObserver(m.Config);
        var samples = calibration.ToList();
        if (samples.Count == 0) throw new ArgumentException("the calibration set is empty; Wanda needs at least one sequence");
        var session = ActivationImportance.Session(m.InferenceWeights(), samples);
        session.Observer = obs;
        foreach (var c in samples) session.ForwardSequence(c.Tokens, c.Prefix, default);
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

    sealed class NormObserver(ModelConfig t) : IBlockObserver
    {
        public readonly double[][] N1 = Enumerable.Range(0, t.L).Select(_ => new double[t.C]).ToArray();
        public readonly double[][] N2 = Enumerable.Range(0, t.L).Select(_ => new double[t.C]).ToArray();
        public readonly double[][] Att = Enumerable.Range(0, t.L).Select(_ => new double[t.H * t.D]).ToArray();
        public readonly double[][] Act = Enumerable.Range(0, t.L).Select(_ => new double[t.F]).ToArray();

        static void Add(double[] into, ReadOnlySpan<float> x) { for (int i = 0; i < x.Length; i++) into[i % into.Length] += (double)x[i] * x[i]; }
        public void AttentionInput(int layer, ReadOnlySpan<float> n1, int T) => Add(N1[layer], n1);
        public void FfnInput(int layer, ReadOnlySpan<float> n2, int T) => Add(N2[layer], n2);
        public void HeadOutputs(int layer, ReadOnlySpan<float> att, int T) => Add(Att[layer], att);
        public void FfnActivations(int layer, ReadOnlySpan<float> act, int T) => Add(Act[layer], act);
    }
}
