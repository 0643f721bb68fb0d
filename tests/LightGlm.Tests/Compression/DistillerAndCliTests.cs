// Distillation moves a pruned student towards its teacher; `lightglm prune` and `lightglm distill` end to end on files.
using LightGlm.Cli;
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;

namespace LightGlm.Tests.Compression;

public class DistillerAndCliTests
{
    static double MeanKl(ModelFiles teacher, ModelFiles student, IEnumerable<CalibrationSample> data)
    {
        double sum = 0; int n = 0; int V = teacher.Config.V;
        foreach (var s in data)
        {
            var zt = TinyTeacher.Logits(teacher, s.Tokens);
            var zs = TinyTeacher.Logits(student, s.Tokens);
            for (int i = 0; i < s.Tokens.Length; i++, n++)
                sum += DistillationLoss.SoftKl(zs.AsSpan(i * V, V), zt.AsSpan(i * V, V), default, 1f, 0f, new float[V]);
        }
        return sum / n;
    }

    static List<CalibrationSample> Data(int count, int V, int seed) => Enumerable.Range(0, count).Select(i =>
    {
        var t = TinyTeacher.Tokens(9, V, seed + i);
        return new CalibrationSample(t[..8], t[1..]);
    }).ToList();

    [Fact]
    public void DistillationBringsThePrunedStudentCloserToTheTeacher()
    {
        var teacher = TinyTeacher.Create(glm: true, seed: 51, L: 2, C: 24, H: 4, KV: 2, D: 8, F: 16, V: 19);
        var plan = PlanBuilder.Build(teacher.Config, WeightImportance.Magnitude(teacher), new PruningTargets { Hidden = 16, HeadDim = 4, Ffn = 8 });
        var student = StructuredPruner.Prune(teacher, plan);
        var train = Data(16, 19, 100); var valid = Data(4, 19, 900);
        double before = MeanKl(teacher, student, valid);
        var sm = ModelBridge.ToModel(student);
        var curve = Distiller.Run(ModelBridge.ToModel(teacher), sm, train, [], valid,
            new DistillOptions { Steps = 40, BatchSize = 4, MaxLen = 8, LearningRate = 3e-3, EvalEvery = 20, Weights = new DistillationWeights(Soft: 1, Hard: 0, Hidden: 0.1f) },
            plan.HiddenChannels!.ToArray());
        double after = MeanKl(teacher, ModelBridge.FromModel(sm), valid);
        Assert.True(after < before * 0.8, $"KL(teacher‖student) {before} -> {after}");
        Assert.Equal([0, 20, 40], curve.Select(c => c.Step));
    }

    /// <summary>The learning rate the trainer gives distillation step <paramref name="step"/> (1-based).</summary>
    static double LrAt(DistillOptions o, int step)
    {
        var t = o.ToTrainerOptions();
        return LightGlm.Training.LrSchedule.At(step - 1, t.Steps, t.Optimizer, t.Schedule);
    }

    [Fact]
    public void TheDistillationScheduleWarmsUpDecaysAndDefaultsToConstant()
    {
        var constant = new DistillOptions { Steps = 100, LearningRate = 2e-3 };
        Assert.All(new[] { 1, 50, 100 }, s => Assert.Equal(2e-3, LrAt(constant, s)));
        var cosine = constant with { Schedule = new LightGlm.Training.ScheduleOptions { WarmupSteps = 10, MinLrRatio = 0.1 } };
        Assert.Equal(2e-4, LrAt(cosine, 1), 12);   // warm-up from lr/10
        Assert.Equal(2e-3, LrAt(cosine, 11), 12);  // the peak after warm-up
        Assert.Equal(2e-4, LrAt(cosine, 100), 12); // decayed to 10% at the last step
        Assert.True(LrAt(cosine, 60) < LrAt(cosine, 30));
        // The recipe's setting maps onto it, and bad values are refused with the field's name.
        var r = LightGlm.Experiments.Recipes.Recipe.Load("quick").With("compression.lr_schedule", "cosine");
        var s = r.Settings.Compression.Schedule(2000)!;
        Assert.Equal(100, s.WarmupSteps);
        Assert.Equal(LightGlm.Training.DecayKind.Cosine, s.Decay);
        Assert.Null(r.With("compression.lr_schedule", "constant").Settings.Compression.Schedule(2000));
        var e = Assert.Throws<InvalidDataException>(() => r.With("compression.lr_schedule", "step").Settings.Compression.Schedule(10));
        Assert.Contains("compression.lr_schedule", e.Message);
    }

    [Fact]
    public void PruneAndDistillCommandsWriteLoadableModels()
    {
        var dir = TinyTeacher.TempDir();
        try
        {
            var teacher = TinyTeacher.Create(glm: true, seed: 52, L: 2, C: 24, H: 4, KV: 2, D: 8, F: 16, V: LightGlm.Text.Tokenizers.ByteTokenizer.Size); // no tokenizer.json: text is read by the byte tokenizer
            teacher.Save(Path.Combine(dir, "teacher"));
            File.WriteAllLines(Path.Combine(dir, "cal.txt"), ["error: file not found", "warning: disk almost full", "usage: prune [options]"]);
            int rc = CliHost.Run(["prune", "--teacher", Path.Combine(dir, "teacher"), "--out", Path.Combine(dir, "student"), "--importance", "activation",
                "--calibration", Path.Combine(dir, "cal.txt"), "--target-params", (teacher.Config.ParameterCount() * 85 / 100).ToString(), "--save-plan", Path.Combine(dir, "plan.json")]);
            Assert.Equal(0, rc);
            var student = ModelFiles.Load(Path.Combine(dir, "student"));
            Assert.True(student.Config.ParameterCount() <= teacher.Config.ParameterCount() * 85 / 100);
            Assert.True(File.Exists(Path.Combine(dir, "plan.json")));
            rc = CliHost.Run(["distill", "--teacher", Path.Combine(dir, "teacher"), "--student", Path.Combine(dir, "student"), "--out", Path.Combine(dir, "distilled"),
                "--source", Path.Combine(dir, "cal.txt"), "--target", Path.Combine(dir, "cal.txt"), "--steps", "2", "--batch", "2", "--max-len", "16",
                "--plan", Path.Combine(dir, "plan.json"), "--log", Path.Combine(dir, "curve.json")]);
            Assert.Equal(0, rc);
            Assert.Equal(student.Config.C, ModelFiles.Load(Path.Combine(dir, "distilled")).Config.C);
            Assert.Contains("valid_loss", File.ReadAllText(Path.Combine(dir, "curve.json")));
            // A user error: exit code 2 with a message, no stack trace.
            Assert.Equal(2, CliHost.Run(["prune", "--teacher", Path.Combine(dir, "teacher"), "--out", Path.Combine(dir, "x"), "--importance", "taylor"]));
        }
        finally { Directory.Delete(dir, true); }
    }
}
