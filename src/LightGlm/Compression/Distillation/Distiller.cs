// Algorithm 2: the student trained on soft (source) + hard (target) labels from teacher outputs computed on the fly or
// cached, through the one trainer and run loop; validation loss logged.
using LightGlm.Compression.Importance;
using LightGlm.Model;
using LightGlm.Training;

namespace LightGlm.Compression.Distillation;

public sealed record DistillOptions
{
    public int Steps { get; init; } = 100;
    public int BatchSize { get; init; } = 8;
    public int MaxLen { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    public int EvalEvery { get; init; } = 10;
    /// <summary>Global-norm gradient clipping, as training's optimizer.grad_clip; 0 = off.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Checkpoints (and resume) of the student, as training's; null = none (NaN rollback to memory).</summary>
    public string? CheckpointDir { get; init; }
    public int CheckpointEvery { get; init; }
    public NanGuardOptions NanGuard { get; init; } = new();
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
    public ScheduleOptions? Schedule { get; init; }

    /// <summary>The trainer's settings: AdamW with β = (0.9, 0.999), decay on matrices only, one sequence batch per step,
    /// no dropout in the student.</summary>
    public TrainerOptions ToTrainerOptions() => new()
    {
        Steps = Steps, BatchSize = BatchSize, SeqLen = MaxLen, GradAccum = 1, Seed = (ulong)Seed, Dropout = false,
        Optimizer = new OptimizerOptions { Lr = LearningRate, WeightDecay = WeightDecay, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8, GradClip = GradClip },
        Schedule = Schedule ?? new ScheduleOptions { WarmupSteps = 0, Decay = DecayKind.Constant },
    };
}

/// <summary>
/// Algorithm 2 on the one run loop (<see cref="RunLoop"/>): each step draws B sequences from source ∪ target; the
/// teacher's logits and last hidden state for the batch come from its forward or a <see cref="TeacherCache"/> (the same
/// numbers); the trainer runs the student with <see cref="DistillationObjective"/>, clips, and applies the one AdamW
/// (no decay on norms and biases) to the student and to the projection P. Hard CE on the validation set at step 0 and
/// every EvalEvery steps is the curve of Figure 4. With a checkpoint dir the run resumes; NaN/Inf rolls back as in
/// training. Also serves plain fine-tuning (all rows target, soft weight 0).
/// </summary>
public static class Distiller
{
    /// <param name="progress">(step, training loss, validation loss) at the first step and every EvalEvery steps (loss NaN at the start).</param>
    /// <param name="stepDone">(step, training loss) after every step (progress lines).</param>
    /// <param name="cancel">Checked before every step; a cancelled run saves its checkpoint (when it has a dir) and throws.</param>
    public static List<(int Step, double ValLoss)> Run(GlmModel teacher, GlmModel student, IReadOnlyList<CalibrationSample> source,
        IReadOnlyList<CalibrationSample> target, IReadOnlyList<CalibrationSample> validation, DistillOptions o, int[]? keptHidden = null,
        Action<int, double, double>? progress = null, Action<string>? log = null, Action<int, double>? stepDone = null, CancellationToken cancel = default)
    {
        using var t = DistillationTeacher.InMemory(teacher);
        return Run(t, student, source, target, validation, o, keptHidden, progress, log, stepDone, cancel);
    }

    /// <summary>As above for any teacher (<see cref="DistillationTeacher"/>): in memory, or streamed from a mapped or
    /// quantized checkpoint — then give a <see cref="DistillOptions.TeacherCachePath"/>, so the teacher runs once per sequence
    /// in chunks that read each block once, not once per step.</summary>
    public static List<(int Step, double ValLoss)> Run(DistillationTeacher teacher, GlmModel student, IReadOnlyList<CalibrationSample> source,
        IReadOnlyList<CalibrationSample> target, IReadOnlyList<CalibrationSample> validation, DistillOptions o, int[]? keptHidden = null,
        Action<int, double, double>? progress = null, Action<string>? log = null, Action<int, double>? stepDone = null, CancellationToken cancel = default)
    {
        if (source.Count + target.Count == 0) throw new ArgumentException("distillation needs source or target sequences");
        if (teacher.Config.V != student.Config.V) throw new ArgumentException($"teacher vocab {teacher.Config.V} != student vocab {student.Config.V}; prune the vocabulary of both alike");
        int B = o.BatchSize, T = o.MaxLen, Ct = teacher.Config.C, Cs = student.Config.C;
        var proj = Ct != Cs && o.Weights.Hidden > 0 ? new Projection(Ct, Cs, keptHidden) : null;
        if (Ct != Cs && o.Weights.Cosine > 0) throw new ArgumentException("the cosine term needs equal hidden widths (DistilBERT keeps the width)");
        var obj = new DistillationObjective(o.Weights, proj) { SoftOnTarget = o.SoftOnTarget };
        var all = source.Select(s => (s, true)).Concat(target.Select(s => (s, false))).ToList();
        bool needHidden = o.Weights.Hidden > 0 || o.Weights.Cosine > 0;
        using var cache = o.TeacherCachePath is { } cp
            ? TeacherCache.OpenOrBuild(cp, teacher, all.Select(a => a.s).ToList(), T, o.TopK, needHidden, B, log)
            : null;
        var trainer = new Trainer(student, o.ToTrainerOptions(), new DistillationData(teacher, cache, all, obj, o.TopK, o.Seed), obj);
        var run = RunLoop.Run(trainer,
            new RunLoopOptions
            {
                CheckpointDir = o.CheckpointDir, CheckpointEvery = o.CheckpointEvery, NanGuard = o.NanGuard, ValidEvery = o.EvalEvery, ValidateAtStart = true,
            },
            new RunLoopHooks
            {
                Validate = () => Validate(student, validation, T), Validated = progress, Log = log,
                Stepped = stepDone is null ? null : (r, _) => stepDone(r.Step, r.Loss),
            }, cancel);
        return [.. run.Valid];
    }

    /// <summary>Micro-batch i: B sequences drawn with System.Random(seed) (draws i·B onwards, so a resumed run draws the
    /// same), packed, with the teacher's outputs on them prepared for the objective.</summary>
    sealed class DistillationData(DistillationTeacher teacher, TeacherCache? cache, List<(CalibrationSample Sample, bool Source)> all,
        DistillationObjective objective, int topK, int seed) : IBatchSource
    {
        Random _rng = new(seed);
        long _drawn;

        public void Fill(Batch batch, long index)
        {
            int B = batch.B, T = batch.T;
            if (_drawn != index * B) { _rng = new Random(seed); _drawn = 0; while (_drawn < index * B) { _rng.Next(all.Count); _drawn++; } }
            var ids = new int[B];
            for (int b = 0; b < B; b++, _drawn++) ids[b] = _rng.Next(all.Count);
            var seqs = ids.Select(i => all[i].Sample).ToList();
            PackInto(batch, seqs);
            var outputs = cache is not null ? cache.Gather(ids, B, T) : teacher.Outputs(seqs, B, T, topK);
            objective.Prepare(batch, outputs, ids.Select(i => all[i].Source).ToArray());
        }
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
        PackInto(batch, seqs);
        return batch;
    }

    internal static void PackInto(Batch batch, IReadOnlyList<CalibrationSample> seqs)
    {
        int B = batch.B, T = batch.T;
        Array.Clear(batch.Tokens);
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
        batch.PrefixLengths = prefix.Any(p => p > 0) ? prefix : null;
        batch.NormaliseByOwnCount();
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
