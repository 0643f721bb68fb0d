// Finite-difference gradient checks of whole tiny models (GLM-style and LLaMA-style), per tensor.
using LightGlm.Model;

namespace LightGlm.Tests.Model;

public class GradientCheckTests
{
    /// <summary>
    /// For every named tensor: a random direction d on that tensor alone; central difference
    /// (L(θ+εd) − L(θ−εd)) / 2ε must match g·d. Weights are drawn with std 0.3 so that gradients are far above fp32
    /// round-off; the loss sums in double. Then the 3 largest-gradient entries of each tensor are checked one by one.
    /// </summary>
    [Theory]
    [InlineData("glm")]
    [InlineData("llama")]
    [InlineData("glm-sample-weights")]
    public void WholeModelGradientsMatchFiniteDifferences(string kind)
    {
        var c = kind.StartsWith("glm") ? TinyModels.Glm() : TinyModels.Llama();
        var model = GlmModel.Create(c, seed: 7, std: 0.3);
        var rng0 = new Rng(99);
        // Non-trivial norm weights and biases, so their gradients are exercised away from 1 and 0.
        foreach (var t in model.Layout.Tensors)
            if (t.NoDecay) { var w = model.Weights.AsSpan(t.Offset, t.Length); for (int i = 0; i < w.Length; i++) w[i] += (float)(0.3 * rng0.NextGaussian()); }
        var batch = TinyModels.RandomBatch(c, 2, 6, seed: 3, prefix: kind.StartsWith("glm"));
        if (kind.EndsWith("weights")) batch.SampleWeights = [0.25f, 1.5f];
        var cache = model.CreateCache(2, 6);

        model.ZeroGrads();
        double loss = model.ForwardLoss(cache, batch);
        model.Backward(cache, batch);
        Assert.True(double.IsFinite(loss) && loss > 0);
        var grads = (float[])model.Grads.Clone();

        double Loss() => model.ForwardLoss(cache, batch);
        var rng = new Rng(5);
        var failures = new List<string>();
        foreach (var t in model.Layout.Tensors)
        {
            var w = model.Weights.AsSpan(t.Offset, t.Length);
            var d = new float[t.Length];
            double gd = 0, dn = 0;
            for (int i = 0; i < d.Length; i++) { d[i] = (float)rng.NextGaussian(); gd += d[i] * (double)grads[t.Offset + i]; dn += d[i] * d[i]; }
            double eps = 1e-3 / Math.Sqrt(dn / d.Length);
            var saved = w.ToArray();
            for (int i = 0; i < d.Length; i++) model.Weights[t.Offset + i] = saved[i] + (float)(eps * d[i]);
            double lp = Loss();
            for (int i = 0; i < d.Length; i++) model.Weights[t.Offset + i] = saved[i] - (float)(eps * d[i]);
            double lm = Loss();
            saved.CopyTo(model.Weights, t.Offset);
            double fd = (lp - lm) / (2 * eps);
            // 2% relative, plus an absolute floor of 3e-4 ≈ fp32 round-off of the loss (~1e-6) over 2ε.
            double err = Math.Abs(fd - gd) / Math.Max(Math.Abs(fd), 1e-9);
            if (!(Math.Abs(fd - gd) <= 2e-2 * Math.Abs(fd) + 3e-4)) failures.Add($"{t.Name}: directional derivative fd = {fd:G6}, analytic = {gd:G6}, rel err {err:G3}");

            // The 3 largest entries, one at a time.
            var order = Enumerable.Range(0, t.Length).OrderByDescending(i => Math.Abs(grads[t.Offset + i])).Take(3);
            foreach (int i in order)
            {
                float g = grads[t.Offset + i];
                float orig = model.Weights[t.Offset + i];
                const float h = 1e-3f;
                model.Weights[t.Offset + i] = orig + h; double a = Loss();
                model.Weights[t.Offset + i] = orig - h; double b = Loss();
                model.Weights[t.Offset + i] = orig;
                double fdi = (a - b) / (2 * h);
                if (!(Math.Abs(fdi - g) <= 2e-2 * Math.Abs(fdi) + 3e-4)) failures.Add($"{t.Name}[{i}]: fd = {fdi:G6}, analytic = {g:G6}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void WrongGradientWouldBeCaught()
    {
        // The same check on a gradient scaled by 1.05 must fail: the tolerance above is tight enough to matter.
        var c = TinyModels.Llama();
        var model = GlmModel.Create(c, seed: 7, std: 0.3);
        var batch = TinyModels.RandomBatch(c, 2, 6, seed: 3);
        var cache = model.CreateCache(2, 6);
        model.ZeroGrads();
        model.ForwardLoss(cache, batch);
        model.Backward(cache, batch);
        var t = model.Layout["model.layers.1.mlp.down_proj.weight"];
        var rng = new Rng(5);
        var d = Enumerable.Range(0, t.Length).Select(_ => (float)rng.NextGaussian()).ToArray();
        double gd = 0;
        for (int i = 0; i < d.Length; i++) gd += d[i] * (double)model.Grads[t.Offset + i];
        var saved = model.Parameter(t.Name).ToArray();
        double eps = 1e-3;
        for (int i = 0; i < d.Length; i++) model.Weights[t.Offset + i] = saved[i] + (float)(eps * d[i]);
        double lp = model.ForwardLoss(cache, batch);
        for (int i = 0; i < d.Length; i++) model.Weights[t.Offset + i] = saved[i] - (float)(eps * d[i]);
        double lm = model.ForwardLoss(cache, batch);
        double fd = (lp - lm) / (2 * eps);
        Assert.True(Math.Abs(fd - gd) / Math.Abs(fd) < 2e-2);
        Assert.False(Math.Abs(fd - 1.05 * gd) / Math.Abs(fd) < 2e-2, "a 5% wrong gradient passes the tolerance");
    }
}
