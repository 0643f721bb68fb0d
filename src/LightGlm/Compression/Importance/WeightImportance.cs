// Weight-based importance: magnitude |w| (a baseline), first-order Taylor |w·∂L/∂w| (LLM-Pruner), and random (seeded).
using LightGlm.Model;
using LightGlm.Compression.Tensors;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Compression.Importance;

/// <summary>
/// An element score s(w) summed over each structure's weights: head h = its q rows + o columns (+ its group's k, v rows,
/// shared, for the KV head); qk channel (g, c) = q rows (h∈g, c) + k row (g, c); v channel = v row + o columns (h∈g, c);
/// FFN neuron = gate row + up row + down column; hidden channel = every weight reading or writing it; layer = mean over
/// its residual writers (o_proj, down_proj).
/// </summary>
public static class WeightImportance
{
    /// <summary>s(w) = |w|.</summary>
    public static ImportanceScores Magnitude(ModelFiles m) => Aggregate(m.Config, m.Weights, null, "magnitude");

    /// <summary>s(w) = |w| over a mapped teacher, one tensor in fp32 at a time.</summary>
    public static ImportanceScores Magnitude(MappedTeacher m) => Aggregate(m.Config, m.Globals, null, "magnitude");

    /// <summary>s(w) = |w · g| with g = Σ over calibration batches of ∂L/∂w (grads: same names and shapes as the weights).</summary>
    public static ImportanceScores Taylor(ModelFiles m, TensorSet grads) => Aggregate(m.Config, m.Weights, grads, "taylor");

    /// <summary>Uniform random scores from a seed: the random-pruning baseline of Figure 4.</summary>
    public static ImportanceScores Random(ModelConfig t, int seed)
    {
        var rng = new Random(seed);
        var s = ImportanceScores.Zeros(t, "random");
        void Fill(double[] a) { for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble(); }
        Fill(s.Layers); Fill(s.Hidden);
        for (int l = 0; l < t.L; l++)
        {
            Fill(s.Heads[l]); Fill(s.KvHeads[l]); Fill(s.Ffn[l]);
            foreach (var a in s.QkChannels[l]) Fill(a);
            foreach (var a in s.VChannels[l]) Fill(a);
        }
        return s;
    }

    static ImportanceScores Aggregate(ModelConfig t, ITensorSource w, TensorSet? g, string method)
    {
        var s = ImportanceScores.Zeros(t, method);
        int C = t.C, D = t.D, H = t.H, KV = t.KV, F = t.F;
        float[] Score(string name, params int[] shape)
        {
            var wd = w.Get(name, shape).Data;
            var r = new float[wd.Length];
            var gd = g?.Get(name, shape).Data;
            for (int i = 0; i < wd.Length; i++) r[i] = MathF.Abs(gd is null ? wd[i] : wd[i] * gd[i]);
            return r;
        }
        void Cols(float[] a, int rows, int cols, double[] into) { for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) into[c] += a[r * cols + c]; }
        double RowSum(float[] a, int row, int cols) { double x = 0; for (int c = 0; c < cols; c++) x += a[row * cols + c]; return x; }

        var emb = Score(Embed, t.V, C);
        Cols(emb, t.V, C, s.Hidden);
        if (!t.TieWordEmbeddings) Cols(Score(LmHead, t.V, C), t.V, C, s.Hidden);
        for (int l = 0; l < t.L; l++)
        {
            var q = Score(Q(l), H * D, C); var k = Score(K(l), KV * D, C); var v = Score(TensorNames.V(l), KV * D, C);
            var o = Score(O(l), C, H * D); var gate = Score(Gate(l), F, C); var up = Score(Up(l), F, C); var down = Score(Down(l), C, F);
            foreach (var a in new[] { q, k, v, gate, up }) Cols(a, a.Length / C, C, s.Hidden);
            for (int c = 0; c < C; c++) s.Hidden[c] += RowSum(o, c, H * D) + RowSum(down, c, F);
            for (int h = 0; h < H; h++)
                for (int d = 0; d < D; d++)
                {
                    double qs = RowSum(q, h * D + d, C), os = 0;
                    for (int c = 0; c < C; c++) os += o[c * H * D + h * D + d];
                    s.Heads[l][h] += qs + os;
                    s.QkChannels[l][h / t.Group][d] += qs;
                    s.VChannels[l][h / t.Group][d] += os;
                }
            for (int gi = 0; gi < KV; gi++)
                for (int d = 0; d < D; d++)
                {
                    double ks = RowSum(k, gi * D + d, C), vs = RowSum(v, gi * D + d, C);
                    s.QkChannels[l][gi][d] += ks;
                    s.VChannels[l][gi][d] += vs;
                    s.KvHeads[l][gi] += ks + vs;
                }
            for (int h = 0; h < H; h++) s.KvHeads[l][h / t.Group] += s.Heads[l][h];
            for (int n = 0; n < F; n++)
            {
                double x = RowSum(gate, n, C) + RowSum(up, n, C);
                for (int c = 0; c < C; c++) x += down[c * F + n];
                s.Ffn[l][n] = x;
            }
            // A layer's score is the mean element score of the matrices that write to the residual stream (o_proj,
            // down_proj): a block adds o_proj(·) + down_proj(·) to x, so small writers mean a block close to the identity.
            double total = 0; long count = 0;
            foreach (var a in new[] { o, down }) { foreach (var x in a) total += x; count += a.Length; }
            s.Layers[l] = total / count;
        }
        return s;
    }
}
