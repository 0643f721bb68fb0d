// Stage: downstream distillation (paper §3.3, Eq. 13). After mixed compression, the compressed student is distilled on the
// target-direction data D_d with the hybrid fine-tuned teacher: per target token λ·τ²·KL(p_teacher‖p_student) + (1 − λ)·CE
// (docs/HYBRID.md: which term λ weighs). The teacher's outputs on D_d come from a TeacherCache, computed once and reused by
// every rerun and `--redo downstream`. The result is the run's final student, student/; compression's student stays
// in student-compressed/ and both are evaluated.
using System.Diagnostics;
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;
using LightGlm.Training;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class DownstreamStage : IRecipeStage
{
    public string Name => "downstream";
    public string Description => "distil the compressed student on the target-direction data: hybrid teacher's soft labels + λ-weighted hard labels (Eq. 13)";
    public bool IsEnabled(Recipes.Recipe recipe) => Active(recipe);

    /// <summary>The stage runs when asked and when it has its inputs: a compressed student and a hybrid teacher with its D_d
    /// (downstream distillation is the second half of §3.3's hybrid technique; the ablation's rows without hybrid data skip it).</summary>
    public static bool Active(Recipes.Recipe r) =>
        r.Settings is var s && s.Downstream.Enabled && s.Compression.Enabled && s.Hybrid.Enabled;

    /// <summary>The directory name of compression's mixed student: student/ is always the run's final student.</summary>
    public static string CompressedStudentName(Recipes.Recipe r) => Active(r) ? "student-compressed" : "student";

    /// <summary>Sequences of the target direction's dev split used for the stage's validation curve.</summary>
    public const int DevSequences = 64;

    public JsonObject Run(StageContext c)
    {
        var d = c.Settings.Downstream;
        var tok = RunArtifacts.Tokenizer(c);
        int seq = c.Settings.Teacher.SeqLen;
        int steps = d.Steps;
        double lambda = d.Lambda;
        var weights = DistillationWeights.Downstream(lambda, (float)d.Temperature, DistillationWeights.LambdaWeighsStudent(d.LambdaWeighs));

        // Inputs: compression's mixed student and the teacher it was distilled from (the hybrid one).
        var (fromName, fromDir) = RunArtifacts.CompressedStudent(c);
        string teacherDir = RunArtifacts.CurrentTeacher(c);

        // D_d: the target-direction half of the hybrid split (the same set the hybrid stage trained on). Validation: the
        // target direction of the dev split (the curve), and the both-direction dev set compression's curve uses.
        var targetDirection = Directions.Parse(c.Settings.Hybrid.TargetDirection);
        var (ds, dd) = HybridStage.Split(c, tok, seq);
        if (dd.Count == 0) throw new InvalidDataException($"downstream: the target direction ({targetDirection.Name()}) has no training pairs; raise hybrid.target_fraction or corpus.max_train_pairs");
        // Replay (ours, not the paper's): a share of source-direction sequences beside D_d, distilled with the same loss,
        // so the student does not forget the direction this stage does not train (measured in docs/QUALITY.md).
        var replay = Replay(ds, dd.Count, d.Replay);
        var target = Samples(dd.Concat(replay));
        var dev = RunArtifacts.Pairs(c, "dev");
        var devTarget = Samples(new TranslationBatcher(tok, dev, seq, [targetDirection]).Examples).Take(DevSequences).ToList();
        var devBoth = Samples(new TranslationBatcher(tok, dev, seq).Examples).Take(DevSequences).ToList();

        var teacher = ModelDirectory.Load(teacherDir);
        var student = ModelDirectory.Load(fromDir);
        var options = new DistillOptions
        {
            Steps = steps, BatchSize = c.Settings.Teacher.BatchSize, MaxLen = seq, LearningRate = d.LearningRate,
            EvalEvery = Math.Max(1, steps / 10), TopK = d.TopK, Weights = weights, SoftOnTarget = true, Seed = c.Settings.Seed,
            TeacherCachePath = c.Run.PathOf("teacher-cache", "downstream.bin"),
            // An interrupted stage resumes mid-distillation; the checkpoints go once the student is saved.
            CheckpointDir = c.Run.PathOf("checkpoints", "downstream"), CheckpointEvery = c.Settings.Teacher.CheckpointEvery,
        };

        // The teacher's outputs on D_d, once: the distiller below opens the same file (same teacher, data and settings).
        c.Progress.Report(0, $"teacher outputs on {dd.Count} {targetDirection.Name()} sequences{(replay.Count > 0 ? $" + {replay.Count} replayed {Directions.Parse(c.Settings.Hybrid.SourceDirection).Name()}" : "")} → cache");
        Directory.CreateDirectory(Path.GetDirectoryName(options.TeacherCachePath)!);
        var cacheClock = Stopwatch.StartNew();
        bool built;
        long cacheBytes;
        using (var cache = TeacherCache.OpenOrBuild(options.TeacherCachePath, teacher, target, seq, options.TopK, hidden: false, options.BatchSize))
        {
            built = cache.Built;
            cacheBytes = cache.Bytes;
        }
        double cacheSeconds = cacheClock.Elapsed.TotalSeconds;

        double devBefore = Distiller.Validate(student, devBoth, seq);
        var clock = Stopwatch.StartNew();
        double lastValid = double.NaN;
        var attempt = Distiller.Run(teacher, student, [], target, devTarget, options,
            progress: (step, loss, valid) =>
            {
                lastValid = valid;
                var rec = new JsonObject { ["step"] = step, ["valid_loss"] = Math.Round(valid, 5) };
                if (double.IsFinite(loss)) rec["loss"] = Math.Round(loss, 5);
                c.Run.LogMetric(Name, rec);
            },
            stepDone: (step, loss) =>
            {
                if (step % 10 == 0 && step % options.EvalEvery != 0) c.Run.LogMetric(Name, new JsonObject { ["step"] = step, ["loss"] = Math.Round(loss, 5) });
                c.Progress.Report(step / (double)steps, $"step {step}/{steps} loss {loss:F3} {targetDirection.Name()} dev loss {lastValid:F3}");
            },
            cancel: c.Cancel);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var curve = StageTraining.WithEarlier(c, Name, m => m["model"] is null, attempt);
        double devAfter = Distiller.Validate(student, devBoth, seq);

        string dir = c.Run.PathOf("student");
        AtomicDirectory.Write(dir, partial =>
        {
            ModelDirectory.WriteFiles(student, partial);
            Interop.TokenizerFiles.Copy(fromDir, partial); // the same tokenizer files as the student it started from
        });
        Directory.Delete(options.CheckpointDir, recursive: true);
        c.Progress.Report(1, $"{targetDirection.Name()} dev loss {curve[0].Loss:F3} → {curve[^1].Loss:F3}");
        return StageJson.ToJson(new DownstreamResult
        {
            Models = new() { ["student"] = dir },
            Student = dir, From = fromName, FromDir = fromDir, Teacher = teacherDir,
            Params = student.Layout.TotalLength,
            Lambda = lambda, LambdaWeighs = d.LambdaWeighs, SoftWeight = Math.Round(weights.Soft, 6), HardWeight = Math.Round(weights.Hard, 6),
            Temperature = weights.Temperature, TopK = options.TopK, Steps = steps, LearningRate = options.LearningRate,
            TargetDirection = targetDirection.Name(), NTarget = dd.Count, Replay = d.Replay, NReplay = replay.Count,
            TargetDevLossBefore = Math.Round(curve[0].Loss, 5), TargetDevLossAfter = Math.Round(curve[^1].Loss, 5),
            DevLossBefore = Math.Round(devBefore, 5), DevLossAfter = Math.Round(devAfter, 5),
            Curve = LossCurve.Of(curve),
            // Training time of the stage's method: the teacher's forward passes (into the cache) + the distillation steps.
            TrainSeconds = Math.Round(cacheSeconds + trainSeconds, 2), DistillSeconds = Math.Round(trainSeconds, 2),
            TeacherCache = new TeacherCacheUse(options.TeacherCachePath, cacheBytes, built, Math.Round(cacheSeconds, 2)),
        });
    }

    /// <summary>round(share/(1 − share)·|D_d|) sequences of D_s, evenly spaced through it (deterministic), so that they are
    /// <paramref name="share"/> of the stage's training set.</summary>
    internal static List<TaskExample> Replay(IReadOnlyList<TaskExample> ds, int targetCount, double share)
    {
        int n = share <= 0 ? 0 : Math.Min(ds.Count, (int)Math.Round(share / (1 - share) * targetCount));
        if (n == 0) return [];
        double stride = ds.Count / (double)n;
        return Enumerable.Range(0, n).Select(i => ds[(int)(i * stride)]).ToList();
    }

    static List<CalibrationSample> Samples(IEnumerable<TaskExample> examples) =>
        examples.Select(e => new CalibrationSample(e.Tokens, e.Targets, e.PrefixLength)).ToList();
}
