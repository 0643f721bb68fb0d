// LoRA adapters: their gradients match finite differences, B = 0 is the base model exactly, a trainer step moves only
// the adapters (no base gradient, no base optimizer state), and the merged model gives the adapted model's logits.
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Lora;
using LightGlm.Training;
using LightGlm.Tests.Model;

namespace LightGlm.Tests.Model.Lora;

public sealed class LoraTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("lightglm-lora-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>Adapters with B drawn too (B = 0 would leave dA = 0 and check nothing).</summary>
    static LoraAdapters Attach(GlmModel model, LoraOptions o, double bStd, ulong seed = 11)
    {
        var l = new LoraAdapters(model.Config, o, seed);
        var rng = new Rng(seed + 1);
        foreach (var t in l.Tensors)
            if (t.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
                for (int i = 0; i < t.Length; i++) l.Weights[t.Offset + i] = (float)(rng.NextGaussian() * bStd);
        model.AttachLora(l);
        return l;
    }

    /// <summary>
    /// For every A and B: a random direction on that tensor alone, central difference against g·d, then the 3 largest
    /// entries one by one — the tolerance of the whole-model check (GradientCheckTests): 2% relative + 3e-4 absolute.
    /// α/r = 2 so that a missing scale in the backward fails. The base gets no gradient: its arena is never allocated.
    /// </summary>
    [Theory]
    [InlineData("glm", true, true)]
    [InlineData("llama", true, true)]
    [InlineData("glm", true, false)]
    [InlineData("llama", false, true)]
    public void LoraGradientsMatchFiniteDifferences(string kind, bool attention, bool mlp)
    {
        var c = kind == "glm" ? TinyModels.Glm() : TinyModels.Llama();
        var model = GlmModel.Create(c, seed: 7, std: 0.3);
        var lora = Attach(model, new LoraOptions(Rank: 3, Alpha: 6, attention, mlp), bStd: 0.3);
        Assert.Equal(lora.Weights.Length, new LoraOptions(3, 6, attention, mlp).ParameterCount(c));
        var batch = TinyModels.RandomBatch(c, 2, 6, seed: 3, prefix: kind == "glm");
        var cache = model.CreateCache(2, 6);

        Array.Clear(lora.Grads);
        double loss = model.ForwardLoss(cache, batch);
        model.Backward(cache, batch);
        Assert.True(double.IsFinite(loss) && loss > 0);
        Assert.False(model.HasGrads, "the frozen base's gradient arena was allocated");
        var grads = (float[])lora.Grads.Clone();

        double Loss() => model.ForwardLoss(cache, batch);
        var w = lora.Weights;
        var rng = new Rng(5);
        var failures = new List<string>();
        foreach (var t in lora.Tensors)
        {
            var d = new float[t.Length];
            double gd = 0, dn = 0;
            for (int i = 0; i < d.Length; i++) { d[i] = (float)rng.NextGaussian(); gd += d[i] * (double)grads[t.Offset + i]; dn += d[i] * d[i]; }
            double eps = 1e-3 / Math.Sqrt(dn / d.Length);
            var saved = w.AsSpan(t.Offset, t.Length).ToArray();
            for (int i = 0; i < d.Length; i++) w[t.Offset + i] = saved[i] + (float)(eps * d[i]);
            double lp = Loss();
            for (int i = 0; i < d.Length; i++) w[t.Offset + i] = saved[i] - (float)(eps * d[i]);
            double lm = Loss();
            saved.CopyTo(w, t.Offset);
            double fd = (lp - lm) / (2 * eps);
            if (!(Math.Abs(fd - gd) <= 2e-2 * Math.Abs(fd) + 3e-4)) failures.Add($"{t.Name}: directional fd = {fd:G6}, analytic = {gd:G6}");
            foreach (int i in Enumerable.Range(0, t.Length).OrderByDescending(i => Math.Abs(grads[t.Offset + i])).Take(3))
            {
                float orig = w[t.Offset + i];
                const float h = 1e-3f;
                w[t.Offset + i] = orig + h; double a = Loss();
                w[t.Offset + i] = orig - h; double b = Loss();
                w[t.Offset + i] = orig;
                double fdi = (a - b) / (2 * h);
                if (!(Math.Abs(fdi - grads[t.Offset + i]) <= 2e-2 * Math.Abs(fdi) + 3e-4)) failures.Add($"{t.Name}[{i}]: fd = {fdi:G6}, analytic = {grads[t.Offset + i]:G6}");
            }
            // Every adapter matters to the loss here: a gradient that is all zero would pass the tolerance above.
            Assert.True(grads.AsSpan(t.Offset, t.Length).ToArray().Any(g => Math.Abs(g) > 1e-4), $"{t.Name}: zero gradient");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void ZeroBIsTheBaseModelAndAStepMovesOnlyTheAdapters()
    {
        var c = TinyModels.Glm();
        var model = GlmModel.Create(c, seed: 3);
        var batch = TinyModels.RandomBatch(c, 2, 8, seed: 4, prefix: true);
        var cache = model.CreateCache(2, 8);
        double baseLoss = model.ForwardLoss(cache, batch);
        var baseWeights = (float[])model.Weights.Clone();

        var lora = new LoraAdapters(c, LoraOptions.Create(4), seed: 9); // PEFT's init: B = 0
        model.AttachLora(lora);
        Assert.Equal(baseLoss, model.ForwardLoss(cache, batch)); // bit for bit: the adapter adds exactly 0

        var trainer = new Trainer(model, new TrainerOptions { Steps = 3, BatchSize = 2, SeqLen = 8, Optimizer = new OptimizerOptions { Lr = 1e-2 } },
            new RandomTokenSource(c.V, prefix: 2));
        Assert.Same(lora, trainer.Lora);
        Assert.Equal(lora.Weights.Length, trainer.Optimizer.M.Length); // no optimizer state for the base
        while (!trainer.Done) Assert.False(trainer.Step().NonFinite);
        Assert.Equal(baseWeights, model.Weights);                      // the base is frozen
        Assert.False(model.HasGrads);                                  // and has no gradient arena
        var b = lora.Tensors.First(t => t.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal));
        Assert.Contains(lora.Weights.AsSpan(b.Offset, b.Length).ToArray(), x => x != 0);
        Assert.NotEqual(baseLoss, model.ForwardLoss(cache, batch));

        model.MergeLora();
        Assert.Throws<InvalidOperationException>(() => trainer.Step()); // the trainer's adapters are gone
    }

    /// <summary>The merged directory (W + (α/r)·B·A, saved and loaded as any model) gives the adapted model's logits.</summary>
    [Theory]
    [InlineData("glm")]
    [InlineData("llama")]
    public void MergedLoraModelGivesTheAdaptedLogits(string kind)
    {
        var c = kind == "glm" ? TinyModels.Glm() : TinyModels.Llama();
        var model = GlmModel.Create(c, seed: 21);
        var batch = TinyModels.RandomBatch(c, 2, 7, seed: 5, prefix: kind == "glm");
        var cache = model.CreateCache(2, 7);
        model.Forward(cache, batch);
        var baseLogits = cache.Logits.Span.ToArray();

        Attach(model, LoraOptions.Create(2, alpha: 5), bStd: 0.2);
        model.Forward(cache, batch);
        var adapted = cache.Logits.Span.ToArray();
        Assert.True(baseLogits.Zip(adapted).Max(p => Math.Abs(p.First - p.Second)) > 1e-2, "the adapters hardly change the logits: the test would not see a bad merge");

        model.MergeLora();
        Assert.Null(model.Lora);
        ModelDirectory.Save(model, Path.Combine(_dir, "merged"));
        var merged = ModelDirectory.Load(Path.Combine(_dir, "merged"));
        var mc = merged.CreateCache(2, 7);
        merged.Forward(mc, batch);
        var got = mc.Logits.Span.ToArray();
        double worst = adapted.Zip(got).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < 1e-5, $"merged logits differ from the adapted model's by {worst:G3}");
    }

    [Fact]
    public void LoraOptionsRefuseWhatCannotRun()
    {
        Assert.Equal(1f, LoraOptions.Create(8).Scale);              // α = r by default
        Assert.Equal(2f, LoraOptions.Create(8, alpha: 16).Scale);
        Assert.Throws<ArgumentException>(() => LoraOptions.Create(0));
        Assert.Throws<ArgumentException>(() => LoraOptions.Create(4, alpha: -1));
        Assert.Throws<ArgumentException>(() => LoraOptions.Create(4, targets: ["attention", "embeddings"]));
        Assert.Throws<ArgumentException>(() => LoraOptions.Create(4, targets: []));
        var model = GlmModel.Create(TinyModels.Llama());
        model.AttachLora(new LoraAdapters(model.Config, LoraOptions.Create(2)));
        Assert.Throws<InvalidOperationException>(() => model.AttachLora(new LoraAdapters(model.Config, LoraOptions.Create(2))));
        Assert.Throws<ArgumentException>(() => GlmModel.Create(TinyModels.Glm()).AttachLora(new LoraAdapters(model.Config, LoraOptions.Create(2))));
    }
}
