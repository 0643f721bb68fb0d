// Distillation losses and their gradients by finite differences, alone and through the engine's forward/backward.
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Model;

namespace LightGlm.Tests.Compression;

public class DistillationTests
{
    static float[] Rand(int n, int seed, float s = 1f) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * s).ToArray(); }

    /// <summary>Central differences of f at x (float, eps 1e-2) vs the analytic gradient g.</summary>
    static void CheckGrad(Func<float[], double> f, float[] x, float[] g, double tol = 2e-3)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + 1e-2f; double up = f(x);
            x[i] = keep - 1e-2f; double down = f(x);
            x[i] = keep;
            double fd = (up - down) / 2e-2;
            Assert.True(Math.Abs(fd - g[i]) <= tol * (1 + Math.Abs(fd)), $"[{i}] finite difference {fd}, analytic {g[i]}");
        }
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(2.5f)]
    public void SoftKlGradient(float tau)
    {
        var zs = Rand(11, 1, 3); var zt = Rand(11, 2, 3);
        var g = new float[11];
        double l = DistillationLoss.SoftKl(zs, zt, default, tau, 1f, g);
        Assert.True(l > 0);
        CheckGrad(x => DistillationLoss.SoftKl(x, zt, default, tau, 1f, new float[11]), zs, g);
        Assert.Equal(0, DistillationLoss.SoftKl(zt, zt, default, tau, 1f, new float[11]), 6); // KL(p‖p) = 0
    }

    [Fact]
    public void TopKSoftKlIsTheKlToTheRenormalisedTopK()
    {
        var zs = Rand(9, 3, 2);
        float[] zTop = [2f, 1f, -0.5f];
        int[] ids = [4, 0, 7];
        var g = new float[9];
        double l = DistillationLoss.SoftKl(zs, zTop, ids, 1f, 1f, g);
        CheckGrad(x => DistillationLoss.SoftKl(x, zTop, ids, 1f, 1f, new float[9]), zs, g);
        // Same as a full teacher whose other logits are −∞ (−1e4 here).
        var full = Enumerable.Repeat(-1e4f, 9).ToArray();
        for (int i = 0; i < 3; i++) full[ids[i]] = zTop[i];
        Assert.Equal(DistillationLoss.SoftKl(zs, full, default, 1f, 1f, new float[9]), l, 5);
    }

    [Fact]
    public void HardCeGradient()
    {
        var z = Rand(7, 4, 2);
        var g = new float[7];
        DistillationLoss.HardCe(z, 3, 1f, g);
        CheckGrad(x => DistillationLoss.HardCe(x, 3, 1f, new float[7]), z, g);
    }

    [Fact]
    public void HiddenMseGradientsWithAndWithoutProjection()
    {
        var hs = Rand(6, 5); var ht6 = Rand(6, 6);
        var g = new float[6];
        DistillationLoss.HiddenMse(hs, ht6, null, 1f, g, default);
        CheckGrad(x => DistillationLoss.HiddenMse(x, ht6, null, 1f, new float[6], default), hs, g);

        var ht = Rand(9, 7); var p = Rand(9 * 6, 8, 0.5f);
        var gh = new float[6]; var gp = new float[54];
        DistillationLoss.HiddenMse(hs, ht, p, 1f, gh, gp);
        CheckGrad(x => DistillationLoss.HiddenMse(x, ht, p, 1f, new float[6], new float[54]), hs, gh);
        CheckGrad(x => DistillationLoss.HiddenMse(hs, ht, x, 1f, new float[6], new float[54]), p, gp);
    }

    [Fact]
    public void CosineGradient()
    {
        var hs = Rand(8, 9); var ht = Rand(8, 10);
        var g = new float[8];
        DistillationLoss.Cosine(hs, ht, 1f, g);
        CheckGrad(x => DistillationLoss.Cosine(x, ht, 1f, new float[8]), hs, g);
    }

    [Fact]
    public void ObjectiveGradientsThroughTheEngine()
    {
        // Teacher C = 24, student pruned to C = 16 (projection), one source and one target sequence (Algorithm 2).
        var teacherFiles = TinyTeacher.Create(glm: true, seed: 31, L: 2, C: 24, H: 4, KV: 2, D: 8, F: 16, V: 23);
        var teacher = ModelBridge.ToModel(teacherFiles);
        var student = ModelBridge.ToModel(TinyTeacher.Create(glm: true, seed: 32, L: 2, C: 16, H: 4, KV: 2, D: 8, F: 16, V: 23));
        int B = 2, T = 6;
        var tokens = TinyTeacher.Tokens(B * T, 23, seed: 7);
        var targets = tokens.Skip(1).Append(3).ToArray();
        targets[5] = -1;
        var batch = Batch.From(B, T, tokens, targets);
        var tc = teacher.CreateCache(B, T);
        teacher.Forward(tc, batch);
        var tOut = new TeacherOutputs(tc.Logits.Span.ToArray(), null, 0, tc.Hidden(2).Span.ToArray(), 24);
        var proj = new Projection(24, 16);
        var obj = new DistillationObjective(new DistillationWeights(Soft: 1f, Hard: 1f, Hidden: 0.1f, Cosine: 0f, Temperature: 2f), proj);
        obj.Prepare(batch, tOut, [true, false]);
        var cache = student.CreateCache(B, T);
        student.ZeroGrads();
        double loss = student.Forward(cache, batch, obj);
        student.Backward(cache, batch);
        Assert.True(loss > 0);
        double Loss() { var c = student.CreateCache(B, T); return student.Forward(c, batch, obj); }
        var analytic = student.Grads.ToArray();
        var projGrad = proj.Grads.ToArray();
        var rng = new Random(3);
        foreach (var name in new[] { "model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.layers.0.self_attn.q_proj.weight", "lm_head.weight" })
        {
            var t = student.Layout[name];
            for (int s = 0; s < 4; s++)
            {
                int i = t.Offset + rng.Next(t.Length);
                float keep = student.Weights[i];
                student.Weights[i] = keep + 1e-2f; double up = Loss();
                student.Weights[i] = keep - 1e-2f; double down = Loss();
                student.Weights[i] = keep;
                double fd = (up - down) / 2e-2;
                Assert.True(Math.Abs(fd - analytic[i]) <= 3e-3 * (1 + Math.Abs(fd)), $"{name}[{i - t.Offset}]: fd {fd}, analytic {analytic[i]}");
            }
        }
        for (int s = 0; s < 6; s++)
        {
            int i = rng.Next(proj.Weights.Length);
            float keep = proj.Weights[i];
            proj.Weights[i] = keep + 1e-2f; double up = Loss();
            proj.Weights[i] = keep - 1e-2f; double down = Loss();
            proj.Weights[i] = keep;
            Assert.True(Math.Abs((up - down) / 2e-2 - projGrad[i]) <= 3e-3 * (1 + Math.Abs(projGrad[i])), $"P[{i}]");
        }
    }
}
