// Writes a real smaller dense model from a teacher and a resolved plan: every matrix gathered down to the kept rows/columns.
using LightGlm.Compression.Tensors;
using static LightGlm.Compression.TensorNames;

namespace LightGlm.Compression.Pruning;

/// <summary>
/// Student = teacher with the pruned parts removed. Its outputs equal the teacher's with those parts masked (see
/// <see cref="Importance.PruneMask"/>) up to float rounding, given two folds that keep the function the same:
///   • attention scale: the student divides scores by √D', the teacher by √D, so q_proj (and its bias) is scaled by √(D'/D);
///   • RMSNorm over kept hidden channels: the student's mean(x²) runs over C' channels, which is the masked teacher's
///     definition (docs/COMPRESSION.md).
/// Rotary pairs keep their frequencies when the kept pairs are a stride set (<see cref="RotaryChannels"/>).
/// </summary>
public static class StructuredPruner
{
    public static ModelFiles Prune(ModelFiles teacher, PruningPlan plan) => Prune(teacher, ResolvedPlan.Resolve(plan, teacher.Shape));

    public static ModelFiles Prune(ModelFiles teacher, ResolvedPlan plan)
    {
        var t = teacher.Shape;
        var w = teacher.Weights;
        var s = new TensorSet();
        int[] hid = plan.HiddenChannels;
        int[] allV = Enumerable.Range(0, t.V).ToArray();
        s.Add(Gather(w.Get(Embed, t.V, t.C), allV, hid, Embed));
        float qScale = MathF.Sqrt((float)plan.D / t.D);
        for (int si = 0; si < plan.Layers.Length; si++)
        {
            var l = plan.Layers[si];
            int ti = l.Teacher, g = l.Heads.Length / l.KvHeads.Length;
            // Rows of q: for each kept head (group by group), its kept qk channels; k and v: per kept KV head.
            var qRows = l.Heads.SelectMany((h, i) => l.QkChannels[i / g].Select(c => h * t.D + c)).ToArray();
            var kRows = l.KvHeads.SelectMany((kv, i) => l.QkChannels[i].Select(c => kv * t.D + c)).ToArray();
            var vRows = l.KvHeads.SelectMany((kv, i) => l.VChannels[i].Select(c => kv * t.D + c)).ToArray();
            var oCols = l.Heads.SelectMany((h, i) => l.VChannels[i / g].Select(c => h * t.D + c)).ToArray();
            s.Add(Vec(w.Get(InputNorm(ti), t.C), hid, InputNorm(si)));
            s.Add(Vec(w.Get(PostNorm(ti), t.C), hid, PostNorm(si)));
            s.Add(Scale(Gather(w.Get(Q(ti), t.H * t.D, t.C), qRows, hid, Q(si)), qScale));
            s.Add(Gather(w.Get(K(ti), t.KV * t.D, t.C), kRows, hid, K(si)));
            s.Add(Gather(w.Get(V(ti), t.KV * t.D, t.C), vRows, hid, V(si)));
            if (t.AttentionBias)
            {
                s.Add(Scale(Vec(w.Get(QBias(ti), t.H * t.D), qRows, QBias(si)), qScale));
                s.Add(Vec(w.Get(KBias(ti), t.KV * t.D), kRows, KBias(si)));
                s.Add(Vec(w.Get(VBias(ti), t.KV * t.D), vRows, VBias(si)));
            }
            s.Add(Gather(w.Get(O(ti), t.C, t.H * t.D), hid, oCols, O(si)));
            s.Add(Gather(w.Get(Gate(ti), t.F, t.C), l.FfnNeurons, hid, Gate(si)));
            s.Add(Gather(w.Get(Up(ti), t.F, t.C), l.FfnNeurons, hid, Up(si)));
            s.Add(Gather(w.Get(Down(ti), t.C, t.F), hid, l.FfnNeurons, Down(si)));
        }
        s.Add(Vec(w.Get(FinalNorm, t.C), hid, FinalNorm));
        if (!t.Tied) s.Add(Gather(w.Get(LmHead, t.V, t.C), allV, hid, LmHead));
        var student = new ModelFiles(plan.StudentShape(), s);
        long expected = student.Shape.ParameterCount();
        if (s.ParameterCount != expected)
            throw new InvalidOperationException($"pruned model has {s.ParameterCount} parameters, its config implies {expected}");
        return student;
    }

    /// <summary>out[i, j] = src[rows[i], cols[j]] for a (R, C) row-major matrix.</summary>
    public static NamedTensor Gather(NamedTensor src, int[] rows, int[] cols, string name)
    {
        int c0 = src.Cols;
        var data = new float[(long)rows.Length * cols.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            long o = (long)i * cols.Length, r = (long)rows[i] * c0;
            for (int j = 0; j < cols.Length; j++) data[o + j] = src.Data[r + cols[j]];
        }
        return new NamedTensor(name, [rows.Length, cols.Length], data);
    }

    public static NamedTensor Vec(NamedTensor src, int[] idx, string name) => new(name, [idx.Length], idx.Select(i => src.Data[i]).ToArray());

    static NamedTensor Scale(NamedTensor t, float a)
    {
        for (long i = 0; i < t.Count; i++) t.Data[i] *= a;
        return t;
    }
}
