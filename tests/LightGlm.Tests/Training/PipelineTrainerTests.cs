// The trainer through a pipeline (threads): loss, gradients and AdamW weights equal the one-thread trainer on the
// same steps (clipping, accumulation with uneven target counts, prefix LM); a pipelined run resumes bit-identically.
using LightGlm.Model;
using LightGlm.Pipeline;
using LightGlm.Tests.Model;
using LightGlm.Training;

namespace LightGlm.Tests.Training;

public sealed class PipelineTrainerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-ptrain-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>Micro-batch i of a prefix-LM source with a varying number of ignored targets, so micro-batches differ.</summary>
    sealed class PrefixSource(ModelConfig c) : IBatchSource
    {
        public void Fill(Batch batch, long index)
        {
            var r = TinyModels.RandomBatch(c, batch.B, batch.T, seed: 300 + (ulong)index, prefix: true);
            r.Tokens.CopyTo(batch.Tokens, 0);
            r.Targets.CopyTo(batch.Targets, 0);
            for (int i = 0; i < (int)(index % 3) * batch.T / 2; i++) batch.Targets[i] = -1;
            batch.PrefixLengths = r.PrefixLengths;
        }
    }

    static ModelConfig Config()
    {
        var c = TinyModels.Glm(vocab: 17);
        c.NumHiddenLayers = 4;
        return c;
    }

    static TrainerOptions Options(int steps = 3) => new()
    {
        Steps = steps, BatchSize = 4, SeqLen = 6, GradAccum = 2, Seed = 5,
        Optimizer = new OptimizerOptions { Lr = 1e-2, GradClip = 0.5 }, Schedule = new ScheduleOptions { WarmupSteps = 1 },
    };

    static Trainer NewTrainer(ModelConfig c, TrainerOptions o, PipelineConfig? p)
    {
        var t = new Trainer(GlmModel.Create(c, seed: 11), o, new PrefixSource(c));
        if (p is not null) t.Engine = PipelineGradientEngine.Threads(t.Model, p, StageSplit.Even(c.L, p.Stages));
        return t;
    }

    public static IEnumerable<object[]> Layouts()
    {
        foreach (int k in new[] { 2, 4 })
            foreach (int m in new[] { 1, 2, 4, 8 })
                foreach (int d in new[] { 1, 2 })
                    if (8 % (m * d) == 0)
                        foreach (var s in new[] { ScheduleKind.GPipe, ScheduleKind.OneFOneB })
                            yield return [k, m, d, s];
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void PipelinedTrainerEqualsOneThread(int stages, int micro, int replicas, ScheduleKind schedule)
    {
        var c = Config();
        var single = NewTrainer(c, Options(), null);
        var piped = NewTrainer(c, Options(), new PipelineConfig(stages, micro, replicas, schedule));
        for (int i = 0; i < 3; i++)
        {
            var a = single.Step();
            var b = piped.Step();
            Assert.False(b.NonFinite);
            Assert.True(Math.Abs(a.Loss - b.Loss) < 1e-5 * Math.Abs(a.Loss), $"step {i + 1}: loss {a.Loss} vs {b.Loss}");
            Assert.True(Math.Abs(a.GradNorm - b.GradNorm) < 1e-4 * a.GradNorm, $"step {i + 1}: grad norm {a.GradNorm} vs {b.GradNorm}");
            double g = PipelineCheck.MaxRelDiff(single.Model.Grads, piped.Model.Grads, 0, single.Model.Grads.Length);
            Assert.True(g < 1e-5, $"step {i + 1}: gradients differ by {g}");
        }
        double w = PipelineCheck.MaxRelDiff(single.Model.Weights, piped.Model.Weights, 0, single.Model.Weights.Length);
        Assert.True(w < 1e-5, $"weights after 3 AdamW steps differ by {w}");
        var engine = (PipelineGradientEngine)piped.Engine!;
        Assert.Equal(stages * replicas, engine.LastStep!.Stages.Count);
        int expectInFlight = schedule == ScheduleKind.GPipe ? micro : Math.Min(stages, micro);
        Assert.Equal(expectInFlight, engine.LastStep.Stages.Max(s => s.PeakInFlight));
    }

    [Fact]
    public void PipelinedRunResumesBitIdentically()
    {
        var c = Config();
        var p = new PipelineConfig(2, 4, 2, ScheduleKind.OneFOneB);
        var full = NewTrainer(c, Options(6), p);
        var losses = new List<double>();
        while (!full.Done) losses.Add(full.Step().Loss);

        var part = NewTrainer(c, Options(6), p);
        for (int i = 0; i < 3; i++) part.Step();
        TrainingCheckpoint.Save(part, _dir);
        part.Step(); // thrown away

        var resumed = NewTrainer(c, Options(6), p);
        TrainingCheckpoint.Restore(resumed, TrainingCheckpoint.LatestValid(_dir)!);
        var tail = new List<double>();
        while (!resumed.Done) tail.Add(resumed.Step().Loss);
        Assert.Equal(losses.Skip(3), tail);                     // the same loss curve, bit for bit
        Assert.Equal(full.Model.Weights, resumed.Model.Weights); // and the same weights
    }
}
