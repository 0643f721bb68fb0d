// The one run loop, exercised with each objective (cross-entropy; distillation with a projection of its own; LoRA
// adapters over a frozen model): a run
// cancelled mid-way and resumed from its checkpoint ends bit-identical to an uninterrupted one, and an injected NaN
// rolls back (to disk or memory) with a lower learning rate and the run still finishes.
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Model;
using LightGlm.Tests.Compression;
using LightGlm.Training;

namespace LightGlm.Tests.Training;

public sealed class RunLoopTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-runloop-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    const int Steps = 6;

    /// <summary>One run of <paramref name="objective"/>: final weights (plus the projection's, if any) and the log lines.</summary>
    static (float[] Weights, List<string> Log) Run(string objective, string? dir, NanGuardOptions guard, int cancelAfter = 0)
    {
        var log = new List<string>();
        using var cts = new CancellationTokenSource();
        void OnStep(int step) { if (step == cancelAfter) cts.Cancel(); }
        if (objective is "cross_entropy" or "lora")
        {
            var c = new ModelConfig { ModelType = "llama", VocabSize = 20, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 2, IntermediateSize = 24, MaxPositionEmbeddings = 32 };
            var m = GlmModel.Create(c, seed: 1);
            if (objective == "lora") m.AttachLora(new LightGlm.Model.Lora.LoraAdapters(c, LightGlm.Model.Lora.LoraOptions.Create(2, alpha: 4), seed: 3));
            var t = new Trainer(m, new TrainerOptions { Steps = Steps, BatchSize = 2, SeqLen = 8, GradAccum = 2, Optimizer = new OptimizerOptions { Lr = 1e-2 } },
                new TokenStreamSource(Enumerable.Range(0, 200).Select(i => i * 7 % 20).ToArray(), 1));
            RunLoop.Run(t, new RunLoopOptions { CheckpointDir = dir, CheckpointEvery = 2, NanGuard = guard },
                new RunLoopHooks { Stepped = (r, _) => OnStep(r.Step), Log = log.Add }, cts.Token);
            return (m.Lora?.Weights ?? m.Weights, log); // LoRA: the adapters are what trains
        }
        // A narrower student (C 24 → 16) distilled with the hidden-state term: the projection P is the objective's own tensor.
        var teacher = TinyTeacher.Create(glm: true, seed: 51, L: 2, C: 24, H: 4, KV: 2, D: 8, F: 16, V: 19);
        var plan = PlanBuilder.Build(teacher.Config, WeightImportance.Magnitude(teacher), new PruningTargets { Hidden = 16, HeadDim = 4, Ffn = 8 });
        var student = ModelBridge.ToModel(StructuredPruner.Prune(teacher, plan));
        var data = Enumerable.Range(0, 12).Select(i => { var tok = TinyTeacher.Tokens(9, 19, 100 + i); return new CalibrationSample(tok[..8], tok[1..]); }).ToList();
        var o = new DistillOptions
        {
            Steps = Steps, BatchSize = 3, MaxLen = 8, LearningRate = 3e-3, EvalEvery = 3, CheckpointDir = dir, CheckpointEvery = 2, NanGuard = guard,
            Weights = new DistillationWeights(Soft: 1, Hard: 1, Hidden: 0.1f),
        };
        Distiller.Run(ModelBridge.ToModel(teacher), student, data[..8], data[8..10], data[10..], o, plan.HiddenChannels!.ToArray(),
            log: log.Add, stepDone: (s, _) => OnStep(s), cancel: cts.Token);
        return (student.Weights, log);
    }

    [Theory]
    [InlineData("cross_entropy")]
    [InlineData("distillation")]
    [InlineData("lora")]
    public void ACancelledRunResumesBitIdentically(string objective)
    {
        var (whole, _) = Run(objective, Path.Combine(_dir, "whole"), new NanGuardOptions());
        string dir = Path.Combine(_dir, "cut");
        Assert.Throws<OperationCanceledException>(() => Run(objective, dir, new NanGuardOptions(), cancelAfter: 3));
        Assert.Equal("step-000003", Path.GetFileName(TrainingCheckpoint.LatestValid(dir)));
        if (objective == "distillation") Assert.True(File.Exists(Path.Combine(TrainingCheckpoint.LatestValid(dir)!, TrainingCheckpoint.ObjectiveFile)));
        if (objective == "lora") Assert.True(File.Exists(Path.Combine(TrainingCheckpoint.LatestValid(dir)!, LightGlm.Model.Lora.LoraAdapters.CheckpointFile)));
        var (resumed, log) = Run(objective, dir, new NanGuardOptions());
        Assert.Contains(log, l => l.Contains("resumed from") && l.Contains("at step 3"));
        Assert.Equal(whole, resumed);
    }

    [Theory]
    [InlineData("cross_entropy", true)]
    [InlineData("cross_entropy", false)] // no checkpoint dir: rolls back to the in-memory snapshot
    [InlineData("distillation", true)]
    [InlineData("distillation", false)]
    [InlineData("lora", true)]
    [InlineData("lora", false)]
    public void AnInjectedNaNRollsBackAndTheRunFinishes(string objective, bool checkpoints)
    {
        var (weights, log) = Run(objective, checkpoints ? Path.Combine(_dir, "ck") : null, new NanGuardOptions { InjectAtSteps = [5], LrFactor = 0.25 });
        var line = Assert.Single(log, l => l.Contains("rolled back"));
        Assert.Contains("at step 5", line);
        Assert.Contains("rolled back to step 4", line);
        Assert.Contains("learning rate x0.25", line);
        Assert.All(weights, w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void ALoraCheckpointResumesOnlyTheSameLora()
    {
        string dir = Path.Combine(_dir, "lora");
        Assert.Throws<OperationCanceledException>(() => Run("lora", dir, new NanGuardOptions(), cancelAfter: 2));
        var c = new ModelConfig { ModelType = "llama", VocabSize = 20, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 2, IntermediateSize = 24, MaxPositionEmbeddings = 32 };
        Trainer Make(LightGlm.Model.Lora.LoraOptions? o)
        {
            var m = GlmModel.Create(c, seed: 1);
            if (o is not null) m.AttachLora(new LightGlm.Model.Lora.LoraAdapters(c, o));
            return new Trainer(m, new TrainerOptions { Steps = Steps, BatchSize = 2, SeqLen = 8 }, new RandomTokenSource(20));
        }
        string ck = TrainingCheckpoint.LatestValid(dir)!;
        Assert.Contains("rank 3", Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Restore(Make(LightGlm.Model.Lora.LoraOptions.Create(3, alpha: 4)), ck)).Message);
        Assert.Contains("lora_alpha", Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Restore(Make(LightGlm.Model.Lora.LoraOptions.Create(2, alpha: 8)), ck)).Message);
        Assert.Contains("LoRA", Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Restore(Make(null), ck)).Message);
        TrainingCheckpoint.Restore(Make(LightGlm.Model.Lora.LoraOptions.Create(2, alpha: 4)), ck); // the same options resume
    }
}
