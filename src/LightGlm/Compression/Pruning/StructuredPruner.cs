// Writes a real smaller dense model from a teacher and a resolved plan: every matrix gathered down to the kept rows/columns.
using LightGlm.Model;
using LightGlm.Compression.Tensors;
using LightGlm.Model.Checkpoints;
using static LightGlm.Model.TensorNames;

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
    public static ModelFiles Prune(ModelFiles teacher, PruningPlan plan) => Prune(teacher, ResolvedPlan.Resolve(plan, teacher.Config));

    /// <summary>
    /// One student tensor: rows <see cref="Rows"/> and columns <see cref="Cols"/> of teacher tensor <see cref="Source"/>,
    /// times <see cref="Scale"/>. A vector has <see cref="Cols"/> = null and keeps elements <see cref="Rows"/>.
    /// </summary>
    public sealed record Piece(string Name, string Source, int[] Rows, int[]? Cols, float Scale = 1f)
    {
        public long[] Shape => Cols is null ? [Rows.Length] : [Rows.Length, Cols.Length];
        public long Elements => (long)Rows.Length * (Cols?.Length ?? 1);
    }

    /// <summary>What the student is made of, tensor by tensor, in the order it is written (embedding, blocks, norm, head).</summary>
    public static List<Piece> Pieces(ModelConfig t, ResolvedPlan plan)
    {
        var list = new List<Piece>();
        int[] hid = plan.HiddenChannels;
        int[] allV = Enumerable.Range(0, t.V).ToArray();
        list.Add(new Piece(Embed, Embed, allV, hid));
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
            list.Add(new Piece(InputNorm(si), InputNorm(ti), hid, null));
            list.Add(new Piece(PostNorm(si), PostNorm(ti), hid, null));
            list.Add(new Piece(Q(si), Q(ti), qRows, hid, qScale));
            list.Add(new Piece(K(si), K(ti), kRows, hid));
            list.Add(new Piece(V(si), V(ti), vRows, hid));
            if (t.AttentionBias)
            {
                list.Add(new Piece(QBias(si), QBias(ti), qRows, null, qScale));
                list.Add(new Piece(KBias(si), KBias(ti), kRows, null));
                list.Add(new Piece(VBias(si), VBias(ti), vRows, null));
            }
            list.Add(new Piece(O(si), O(ti), hid, oCols));
            list.Add(new Piece(Gate(si), Gate(ti), l.FfnNeurons, hid));
            list.Add(new Piece(Up(si), Up(ti), l.FfnNeurons, hid));
            list.Add(new Piece(Down(si), Down(ti), hid, l.FfnNeurons));
        }
        list.Add(new Piece(FinalNorm, FinalNorm, hid, null));
        if (!t.TieWordEmbeddings) list.Add(new Piece(LmHead, LmHead, allV, hid));
        return list;
    }

    public static ModelFiles Prune(ModelFiles teacher, ResolvedPlan plan)
    {
        var t = teacher.Config;
        var w = teacher.Weights;
        var s = new TensorSet();
        foreach (var p in Pieces(t, plan))
        {
            var src = w.TryGet(p.Source) ?? throw new InvalidDataException($"tensor '{p.Source}' is missing from the teacher's weights");
            var o = p.Cols is null ? Vec(src, p.Rows, p.Name) : Gather(src, p.Rows, p.Cols, p.Name);
            s.Add(p.Scale == 1f ? o : Scale(o, p.Scale));
        }
        var student = new ModelFiles(plan.StudentConfig(), s);
        long expected = student.Config.ParameterCount();
        if (s.ParameterCount != expected)
            throw new InvalidOperationException($"pruned model has {s.ParameterCount} parameters, its config implies {expected}");
        return student;
    }

    /// <summary>
    /// Writes the student of a mapped teacher (any size, any stored dtype, ours or Hugging Face) straight into
    /// <paramref name="outDir"/> (config.json + model.safetensors in <paramref name="dtype"/>): each student row is
    /// gathered from one teacher row read out of the map, so memory is one teacher row plus the writer's 16 MB chunk.
    /// Same pieces, same arithmetic as <see cref="Prune(ModelFiles, ResolvedPlan)"/> (tested bit-identical).
    /// </summary>
    public static ModelConfig PruneTo(MappedTeacher teacher, ResolvedPlan plan, string outDir, TensorDType dtype = TensorDType.F32)
    {
        var shape = plan.StudentConfig();
        var pieces = Pieces(teacher.Config, plan);
        long total = pieces.Sum(p => p.Elements), expected = shape.ParameterCount();
        if (total != expected) throw new InvalidOperationException($"pruned model has {total} parameters, its config implies {expected}");
        var w = teacher.Weights;
        var tensors = pieces.Select(p =>
        {
            var src = w.Has(p.Source) ? w[p.Source] : throw new InvalidDataException($"{teacher.Directory}: tensor '{p.Source}' is missing from the teacher");
            int rowLen = (int)src.Map.RowLength;
            float[]? row = null;
            byte[]? scratch = null;
            return new TensorToWrite(p.Name, dtype, p.Shape, (first, count, dst) =>
            {
                row ??= new float[rowLen];
                scratch ??= new byte[rowLen * 4];
                int width = p.Cols?.Length ?? 1;
                for (int i = 0; i < count; i++)
                {
                    w.ReadRows(src, p.Rows[first + i], 1, row, scratch);
                    var o = dst.Slice(i * width, width);
                    if (p.Cols is null) o[0] = row[0];
                    else for (int j = 0; j < width; j++) o[j] = row[p.Cols[j]];
                    if (p.Scale != 1f) for (int j = 0; j < width; j++) o[j] *= p.Scale;
                }
            });
        }).ToList();
        ModelDirectory.Replace(outDir, partial =>
        {
            SafeTensorsWriter.Write(Path.Combine(partial, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            shape.Save(Path.Combine(partial, "config.json"));
            Interop.TokenizerFiles.Copy(teacher.Directory, partial);
        });
        return shape;
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
