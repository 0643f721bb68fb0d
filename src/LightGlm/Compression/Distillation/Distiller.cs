// Algorithm 2's loop: teacher outputs on the fly, student trained on soft (source) + hard (target) labels, validation loss logged.
using LightGlm.Compression.Importance;
using LightGlm.Model;

namespace LightGlm.Compression.Distillation;

public sealed record DistillOptions
{
    public int Steps { get; init; } = 100;
    public int BatchSize { get; init; } = 8;
    public int MaxLen { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    public int EvalEvery { get; init; } = 10;
    /// <summary>Teacher logits kept per position: 0 = all V; k &gt; 0 = top-k (p_t renormalised over them).</summary>
    public int TopK { get; init; }
    public DistillationWeights Weights { get; init; } = new();
    public int Seed { get; init; } = 1;
    /// <summary>
    /// Soft labels on the target sequences too: downstream distillation (Eq. 13) with
    /// <see cref="DistillationWeights.Downstream"/> weights (λ on the teacher's term, 1 − λ on the hard labels).
    /// </summary>
    public bool SoftOnTarget { get; init; }
    /// <summary>
    /// A file for the teacher's outputs, computed once and reused by every later step and run (null = on the fly).
    /// Rebuilt when the teacher, the sequences, <see cref="TopK"/> or <see cref="MaxLen"/> change (see <see cref="TeacherCache"/>).
    /// </summary>
    public string? TeacherCachePath { get; init; }
    /// <summary>Learning-rate schedule (warm-up, then cosine/linear decay to Lr·MinLrRatio, as training's); null = constant.</summary>
    public Training.ScheduleOptions? Schedule { get; init; }

    /// <summary>The learning rate of step <paramref name="step"/> (1-based).</summary>
    public double LearningRateAt(int step) => Schedule is { } s
        ? Training.LrSchedule.At(step - 1, Steps, new Training.OptimizerOptions { Lr = LearningRate }, s)
        : LearningRate;
}

/// <summary>
/// Each step: B sequences drawn from source ∪ target; the teacher's logits and last hidden state for the batch, computed
/// on the fly or read from a <see cref="TeacherCache"/> (the same numbers); the student's forward with <see cref="DistillationObjective"/>, backward, AdamW
/// (the kernels' PyTorch-order update) on the student and Adam on the projection. Hard CE on the validation set every
/// EvalEvery steps is the curve of Figure 4. Also serves plain fine-tuning (all rows target, soft weight 0).
/// </summary>
public static class Distiller
{
    /// <param name="progress">(step, training loss, validation loss) at step 0 and every EvalEvery steps.</param>
    /// <param name="stepDone">(step, training loss) after every step (progress lines).</param>
    /// <param name="cancel">Checked before every step.</param>
    public static List<(int Step, double ValLoss)> Run(GlmModel teacher, GlmModel student, IReadOnlyList<CalibrationSample> source,
        IReadOnlyList<CalibrationSample> target, IReadOnlyList<CalibrationSample> validation, DistillOptions o, int[]? keptHidden = null,
        Action<int, double, double>? progress = null, Action<string>? log = null, Action<int, double>? stepDone = null, CancellationToken cancel = default)
    {
        if (source.Count + target.Count == 0) throw new ArgumentException("distillation needs source or target sequences");
        if (teacher.Config.V != student.Config.V) throw new ArgumentException($"teacher vocab {teacher.Config.V} != student vocab {student.Config.V}; prune the vocabulary of both alike");
        int B = o.BatchSize, T = o.MaxLen, V = student.Config.V, Ct = teacher.Config.C, Cs = student.Config.C;
        var proj = Ct != Cs && o.Weights.Hidden > 0 ? new Projection(Ct, Cs, keptHidden) : null;
        if (Ct != Cs && o.Weights.Cosine > 0) throw new ArgumentException("the cosine term needs equal hidden widths (DistilBERT keeps the width)");
        var obj = new DistillationObjective(o.Weights, proj) { SoftOnTarget = o.SoftOnTarget };
        var all = source.Select(s => (s, true)).Concat(target.Select(s => (s, false))).ToList();
        bool needHidden = o.Weights.Hidden > 0 || o.Weights.Cosine > 0;
        using var cache = o.TeacherCachePath is { } cp
            ? TeacherCache.OpenOrBuild(cp, teacher, all.Select(a => a.s).ToList(), T, o.TopK, needHidden, B, log)
            : null;
        var rng = new Random(o.Seed);
        var m = new float[student.Layout.TotalLength];
        var v = new float[student.Layout.TotalLength];
        var tc = teacher.CreateCache(B, T, dropout: false);
        var sc = student.CreateCache(B, T, dropout: false);
        var curve = new List<(int, double)> { (0, Validate(student, validation, T)) };
        progress?.Invoke(0, double.NaN, curve[0].Item2);
        for (int step = 1; step <= o.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            var ids = Enumerable.Range(0, B).Select(_ => rng.Next(all.Count)).ToList();
            var batch = Pack(ids.Select(i => all[i].s).ToList(), B, T);
            if (cache is not null) obj.Teacher = cache.Gather(ids, B, T);
            else
            {
                teacher.Forward(tc, batch);
                obj.Teacher = Outputs(tc, teacher.Config, o.TopK);
            }
            obj.SourceRows = ids.Select(i => all[i].Item2).ToArray();
            student.ZeroGrads();
            double loss = student.Forward(sc, batch, obj);
            student.Backward(sc, batch);
            double lr = o.LearningRateAt(step);
            LightGlm.Kernels.AdamW.Step(student.Weights, student.Grads, m, v, m.Length, lr, 0.9, 0.999, 1e-8, o.WeightDecay, step);
            proj?.Step((float)lr);
            if (step % o.EvalEvery == 0 || step == o.Steps)
            {
                curve.Add((step, Validate(student, validation, T)));
                progress?.Invoke(step, loss, curve[^1].Item2);
            }
            stepDone?.Invoke(step, loss);
        }
        return curve;
    }

    /// <summary>Mean hard-label CE of the model over the sequences (targets ≠ −1), no gradient.</summary>
    public static double Validate(GlmModel model, IReadOnlyList<CalibrationSample> data, int maxLen)
    {
        if (data.Count == 0) return double.NaN;
        double sum = 0; int count = 0;
        foreach (var s in data)
        {
            var batch = Pack([s], 1, Math.Min(maxLen, s.Tokens.Length));
            var cache = model.CreateCache(1, batch.T, dropout: false);
            int n = batch.TargetCount();
            sum += model.ForwardLoss(cache, batch) * n;
            count += n;
        }
        return sum / Math.Max(1, count);
    }

    /// <summary>Sequences into a (B, T) batch: cut to T, padded with token 0 and target −1; loss = mean over the batch's targets.</summary>
    public static Batch Pack(IReadOnlyList<CalibrationSample> seqs, int B, int T)
    {
        var batch = new Batch(B, T);
        Array.Fill(batch.Targets, -1);
        var prefix = new int[B];
        for (int b = 0; b < B && b < seqs.Count; b++)
        {
            var s = seqs[b];
            int n = Math.Min(T, s.Tokens.Length);
            s.Tokens.AsSpan(0, n).CopyTo(batch.Tokens.AsSpan(b * T));
            s.Targets.AsSpan(0, n).CopyTo(batch.Targets.AsSpan(b * T));
            prefix[b] = Math.Min(s.Prefix, n);
        }
        if (prefix.Any(p => p > 0)) batch.PrefixLengths = prefix;
        batch.NormaliseByOwnCount();
        return batch;
    }

    /// <summary>The teacher's outputs from its forward on a batch: all logits, or the top k of each row with their ids.</summary>
    public static TeacherOutputs Outputs(ActivationCache tc, ModelConfig c, int topK)
    {
        var logits = tc.Logits.Span;
        var hidden = tc.Hidden(c.L).Span.ToArray();
        if (topK <= 0 || topK >= c.V) return new TeacherOutputs(logits.ToArray(), null, 0, hidden, c.C);
        int N = tc.N;
        var vals = new float[N * topK];
        var ids = new int[N * topK];
        for (int n = 0; n < N; n++)
            TeacherOutputs.TopK(logits.Slice(n * c.V, c.V), topK, vals.AsSpan(n * topK, topK), ids.AsSpan(n * topK, topK));
        return new TeacherOutputs(vals, ids, topK, hidden, c.C);
    }
}
