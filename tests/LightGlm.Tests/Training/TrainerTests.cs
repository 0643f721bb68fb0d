// Training: accumulation equals one batch, resume is bit-identical, AdamW matches its formula, schedule, loss goes down.
using LightGlm.Model;
using LightGlm.Tests.Model;
using LightGlm.Training;

namespace LightGlm.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-train-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void AccumulatedMicroBatchesEqualOneBatch()
    {
        var c = TinyModels.Glm();
        var big = TinyModels.RandomBatch(c, 4, 6, seed: 12, prefix: true);
        big.SampleWeights = [1f, 0.5f, 2f, 1f];
        // Make the micro-batches hold different numbers of targets.
        for (int t = 0; t < 6; t++) big.Targets[t] = -1;
        big.NormaliseByOwnCount();

        var one = GlmModel.Create(c, seed: 2, std: 0.2);
        one.ZeroGrads();
        var oneCache = one.CreateCache(4, 6);
        double lossOne = one.ForwardLoss(oneCache, big);
        one.Backward(oneCache, big);

        var acc = GlmModel.Create(c, seed: 2, std: 0.2);
        acc.ZeroGrads();
        var cache = acc.CreateCache(2, 6);
        int total = big.TargetCount();
        double lossAcc = 0;
        for (int half = 0; half < 2; half++)
        {
            var mb = Batch.From(2, 6, big.Tokens.AsSpan(half * 12, 12), big.Targets.AsSpan(half * 12, 12));
            mb.PrefixLengths = big.PrefixLengths![(half * 2)..(half * 2 + 2)];
            mb.SampleWeights = big.SampleWeights[(half * 2)..(half * 2 + 2)];
            mb.LossScale = 1f / total; // normalise by the WHOLE batch's target count
            lossAcc += acc.ForwardLoss(cache, mb);
            acc.Backward(cache, mb);
        }
        Assert.Equal(lossOne, lossAcc, 5);
        for (int i = 0; i < one.Grads.Length; i++)
            Assert.True(Math.Abs(one.Grads[i] - acc.Grads[i]) <= 1e-6f + 1e-4f * Math.Abs(one.Grads[i]), $"grad {i}: {one.Grads[i]} vs {acc.Grads[i]}");
    }

    static (GlmModel, Trainer) NewRun(TrainerOptions o)
    {
        var c = TinyModels.Glm(vocab: 20);
        c.HiddenDropout = 0.1;
        var m = GlmModel.Create(c, seed: 5);
        var rng = new Rng(77);
        var stream = Enumerable.Range(0, 400).Select(i => (i * 7 + rng.NextInt(3)) % 20).ToArray();
        return (m, new Trainer(m, o, new TokenStreamSource(stream, seed: 9)));
    }

    [Fact]
    public void ResumedRunEndsBitIdentical()
    {
        var o = new TrainerOptions
        {
            Steps = 6, BatchSize = 2, SeqLen = 8, GradAccum = 2, Seed = 3,
            Optimizer = new OptimizerOptions { Lr = 1e-2, GradClip = 0.5 },
            Schedule = new ScheduleOptions { WarmupSteps = 2 },
        };
        var (full, t1) = NewRun(o);
        while (!t1.Done) t1.Step();

        var (_, t2) = NewRun(o);
        for (int i = 0; i < 3; i++) t2.Step();
        TrainingCheckpoint.Save(t2, _dir);
        for (int i = 0; i < 2; i++) t2.Step(); // progress after the checkpoint is thrown away

        var (resumed, t3) = NewRun(o);
        TrainingCheckpoint.Restore(t3, TrainingCheckpoint.Latest(_dir)!);
        Assert.Equal(3, t3.State.Step);
        while (!t3.Done) t3.Step();
        Assert.Equal(full.Weights, resumed.Weights);           // bit-identical
        Assert.Equal(t1.Optimizer.V, t3.Optimizer.V);
        Assert.NotEqual(GlmModel.Create(full.Config, seed: 5).Weights, full.Weights); // it did train
    }

    [Fact]
    public void CheckpointsAreCompleteAndRotated()
    {
        var o = new TrainerOptions { Steps = 4, BatchSize = 1, SeqLen = 8, Schedule = new ScheduleOptions { WarmupSteps = 0 } };
        var (_, t) = NewRun(o);
        for (int i = 0; i < 4; i++) { t.Step(); TrainingCheckpoint.Save(t, _dir, keep: 2); }
        var dirs = Directory.GetDirectories(_dir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(["step-000003", "step-000004"], dirs);
        Assert.EndsWith("step-000004", TrainingCheckpoint.Latest(_dir));
        foreach (var f in new[] { "config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json" })
            Assert.True(File.Exists(Path.Combine(_dir, "step-000004", f)), f);
        File.Delete(Path.Combine(_dir, "step-000004", "optimizer.safetensors"));
        var (_, t2) = NewRun(o);
        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Restore(t2, TrainingCheckpoint.Latest(_dir)!)); // listed in checksums.sha256
        Assert.Contains("optimizer.safetensors", e.Message);
    }

    [Fact]
    public void AdamWFollowsItsFormulaAndSkipsDecayOnNorms()
    {
        var c = TinyModels.Llama();
        var m = GlmModel.Create(c, seed: 1);
        var rng = new Rng(4);
        for (int i = 0; i < m.Grads.Length; i++) m.Grads[i] = (float)rng.NextGaussian();
        var w0 = (float[])m.Weights.Clone();
        var g = (float[])m.Grads.Clone();
        var opt = new AdamW(m.Layout);
        var o = new OptimizerOptions { Lr = 0.01, WeightDecay = 0.5, Beta1 = 0.9, Beta2 = 0.99, Eps = 1e-8 };
        opt.Step(m.Weights, m.Grads, o.Lr, o);
        opt.Step(m.Weights, m.Grads, o.Lr, o);
        foreach (var t in m.Layout.Tensors)
        {
            int i = t.Offset + t.Length / 2;
            double w = w0[i], mm = 0, vv = 0, wd = t.NoDecay ? 0 : o.WeightDecay;
            for (int s = 1; s <= 2; s++)
            {
                w *= 1 - o.Lr * wd;
                mm = o.Beta1 * mm + (1 - o.Beta1) * g[i];
                vv = o.Beta2 * vv + (1 - o.Beta2) * g[i] * g[i];
                w -= o.Lr / (1 - Math.Pow(o.Beta1, s)) * mm / (Math.Sqrt(vv) / Math.Sqrt(1 - Math.Pow(o.Beta2, s)) + o.Eps);
            }
            Assert.True(Math.Abs(w - m.Weights[i]) < 1e-5, $"{t.Name}: {w} vs {m.Weights[i]}");
        }
        Assert.True(m.Layout["model.norm.weight"].NoDecay);
        Assert.True(m.Layout.Tensors.Where(t => t.Name.EndsWith(".bias")).All(t => t.NoDecay));
        Assert.False(m.Layout["model.layers.0.mlp.up_proj.weight"].NoDecay);
    }

    [Fact]
    public void ScheduleWarmsUpThenDecays()
    {
        var o = new OptimizerOptions { Lr = 1.0 };
        var s = new ScheduleOptions { WarmupSteps = 4, Decay = DecayKind.Cosine, MinLrRatio = 0.1 };
        Assert.Equal(0.25, LrSchedule.At(0, 20, o, s), 9);
        Assert.Equal(1.0, LrSchedule.At(3, 20, o, s), 9);
        Assert.Equal(1.0, LrSchedule.At(4, 20, o, s), 9);
        Assert.Equal(0.1, LrSchedule.At(19, 20, o, s), 9);
        double mid = LrSchedule.At(10, 21, o, s with { Decay = DecayKind.Linear, WarmupSteps = 0 });
        Assert.Equal(0.55, mid, 9);
    }

    [Fact]
    public void ClippingScalesToTheThreshold()
    {
        var g = new float[] { 3, 4 };
        Assert.Equal(5, AdamW.ClipGlobalNorm(g, 1.0), 9);
        Assert.Equal(1.0, Math.Sqrt(g[0] * g[0] + g[1] * g[1]), 5);
    }

    [Fact]
    public void LossGoesDownOnAPattern()
    {
        var o = new TrainerOptions
        {
            Steps = 60, BatchSize = 4, SeqLen = 12, Optimizer = new OptimizerOptions { Lr = 3e-2, WeightDecay = 0 },
            Schedule = new ScheduleOptions { WarmupSteps = 5 },
        };
        var (_, t) = NewRun(o);
        double first = t.Step().Loss, last = 0;
        while (!t.Done) last = t.Step().Loss;
        Assert.True(last < first * 0.6, $"loss {first} → {last}");
    }
}
