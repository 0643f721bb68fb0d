// `run RECIPE --dry-run`: how long the recipe would take on this machine, from a few timed training steps of its
// teacher's real shape and a timed decode, multiplied out over the recipe's steps and sentences. Nothing is written.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Training;

namespace LightGlm.Experiments;

/// <summary>One line of the estimate: a stage, what it does (counted from the recipe), and its minutes.</summary>
public sealed record StageEstimate(string Stage, string Work, double Minutes);

public sealed record RecipeEstimateResult(IReadOnlyList<StageEstimate> Stages, double TeacherStepMs, double DecodeMsPerToken, long TeacherParams, int Threads)
{
    public double TotalMinutes => Stages.Sum(s => s.Minutes);
}

public static class RecipeEstimate
{
    /// <summary>Answer tokens per sentence assumed for evaluation (computer-language strings are short).</summary>
    const int TokensPerSentence = 20;

    /// <summary>
    /// Times 3 optimizer steps (after one warm-up) of a randomly initialised teacher of the recipe's shape at its batch
    /// size and sequence length, and 32 greedy decode steps; then every training stage costs steps × step time
    /// (distillation: a student step scaled by the student's parameter share, plus a teacher forward ≈ ⅓ of a step) and
    /// evaluation costs sentences × directions × models × <see cref="TokensPerSentence"/> tokens × decode time. The
    /// corpus download (minutes on a fresh machine, seconds from the cache) and the tokenizer are not included.
    /// </summary>
    public static RecipeEstimateResult Measure(Recipes.Recipe r)
    {
        var settings = r.Settings;
        int vocab = settings.Tokenizer.VocabSize;
        // The specials' ids do not matter for timing: the byte tokenizer's, inside any vocabulary of >= 262 ids.
        var sp = Text.Tokenizers.SpecialTokens.From(Text.Tokenizers.ByteTokenizer.Instance);
        var config = Stages.RunArtifacts.TeacherConfig(settings.Teacher, Math.Max(vocab, Text.Tokenizers.ByteTokenizer.Instance.VocabSize), sp);
        var model = GlmModel.Create(config, seed: 1);
        int B = settings.Teacher.BatchSize, T = settings.Teacher.SeqLen;
        var options = Stages.RunArtifacts.TeacherOptions(settings, 4);
        var trainer = new Trainer(model, options, new RandomTokenSource(vocab, T / 2));
        trainer.Step(); // warm-up: caches, JIT
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) trainer.Step();
        double stepMs = sw.Elapsed.TotalMilliseconds / 3;
        var probe = Stages.ModelEvaluator.SpeedProbe(model, Text.Tokenizers.ByteTokenizer.Instance, "Permission denied", tokens: 32);
        double decodeMs = probe.DecodeMsPerToken, prefillMs = probe.PrefillMs;

        double studentShare = StudentShare(settings.Compression, model);
        double distillMs = stepMs * (studentShare + 1.0 / 3);
        double Min(double steps, double ms) => steps * ms / 60000.0;
        var stages = new List<StageEstimate>();
        int teacherSteps = settings.Teacher.TrainSteps, pretrainSteps = settings.Teacher.PretrainSteps;
        stages.Add(new("teacher", $"{(pretrainSteps > 0 ? $"{pretrainSteps:N0} pre-training + " : "")}{teacherSteps:N0} steps × {stepMs:F0} ms ({B}×{T} tokens)",
            Min(pretrainSteps + teacherSteps, stepMs)));
        if (settings.Parallel.Enabled)
        {
            var sizes = settings.Parallel.BatchSizes;
            int psteps = settings.Parallel.Steps;
            // Four strategies per batch size (single, data, model, pipeline), each psteps steps at that batch size.
            double ms = sizes.Sum(b => 4.0 * psteps * stepMs * b / B);
            stages.Add(new("parallel", $"4 strategies × {sizes.Length} batch sizes × {psteps} steps", ms / 60000.0));
        }
        if (settings.Hybrid.Enabled)
        {
            int hs = settings.Hybrid.Steps, runs = settings.Hybrid.Compare ? 3 : 1;
            stages.Add(new("hybrid", $"{runs} fine-tunings × {hs:N0} steps", Min(runs * hs, stepMs)));
        }
        var cs = settings.Compression;
        if (cs.Enabled)
        {
            int ds = cs.DistillSteps;
            int students = Stages.CompressionMethods.Mixed(cs, settings.Teacher.NumHiddenLayers).Count(m => m.Plan is not null)
                           + (cs.NoTargetTable ? Stages.CompressionMethods.NoTarget(cs).Count(m => m.Plan is not null) : 0);
            stages.Add(new("compression", $"{students} students × {ds:N0} distillation steps (student {studentShare:P0} of the teacher)", Min(students * ds, distillMs)));
        }
        if (Stages.DownstreamStage.Active(r))
        {
            int s = settings.Downstream.Steps;
            stages.Add(new("downstream", $"{s:N0} distillation steps", Min(s, distillMs)));
        }
        int sentences = settings.Eval.MaxSentences;
        int models = 2 + (cs.Enabled ? 4 + cs.Levels.Length + cs.BaselineMethods.Length : 0);
        // Per sentence: a prefill and ~TokensPerSentence decode steps, plus the teacher-forced accuracy pass (≈ a prefill).
        double evalMs = (double)models * 2 * sentences * (2 * prefillMs + TokensPerSentence * decodeMs) * (0.5 + 0.5 * studentShare);
        stages.Add(new("eval", $"~{models} models × 2 directions × {sentences:N0} sentences × ~{TokensPerSentence} tokens", evalMs / 60000.0));
        return new RecipeEstimateResult(stages, stepMs, decodeMs, model.Layout.TotalLength, Kernels.KernelParallel.Degree);
    }

    /// <summary>The mixed student's parameter share of the teacher: the compression stage's own targets
    /// (<see cref="Stages.CompressionTargets.Width"/>) applied to the teacher's shape.</summary>
    static double StudentShare(Recipes.CompressionSettings s, GlmModel teacher)
    {
        var t = teacher.Config;
        var x = Stages.CompressionTargets.Width(s, t);
        long student = t.Resized(l: x.Layers, c: x.Hidden, d: x.HeadDim, f: x.Ffn).ParameterCount();
        return student / (double)t.ParameterCount();
    }
}
