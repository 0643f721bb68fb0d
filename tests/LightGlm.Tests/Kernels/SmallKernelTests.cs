// Embedding, dropout, residual, linear, AdamW and the parallel policy.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class SmallKernelTests
{
    [Fact]
    public void EmbeddingForwardAndScatterAddBackward()
    {
        int V = 5, C = 3;
        var table = KernelAssert.Random(V * C, 1);
        int[] tokens = { 4, 0, 4, 2 };
        var o = new float[tokens.Length * C];
        Embedding.Forward(o, tokens, table, tokens.Length, V, C);
        for (int n = 0; n < tokens.Length; n++)
            for (int c = 0; c < C; c++) Assert.Equal(table[tokens[n] * C + c], o[n * C + c]);
        var g = KernelAssert.Random(o.Length, 2);
        var d0 = KernelAssert.Random(V * C, 3); var d = (float[])d0.Clone();
        Embedding.Backward(d, g, tokens, tokens.Length, V, C);
        var e = d0.Select(x => (double)x).ToArray();
        for (int n = 0; n < tokens.Length; n++) for (int c = 0; c < C; c++) e[tokens[n] * C + c] += g[n * C + c];
        KernelAssert.Close(e, d, 1e-6, 1e-6, "dtable");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Forward(o, new[] { 5 }, table, 1, V, C));
        Assert.Contains("tokens[0] = 5", ex.Message);
    }

    [Fact]
    public void DropoutIsSeededScaledAndInvertible()
    {
        int n = 50001;
        var x = KernelAssert.Random(n, 1);
        var y1 = new float[n]; var m1 = new byte[n]; var y2 = new float[n]; var m2 = new byte[n];
        Dropout.Forward(y1, m1, x, n, 0.25f, 42);
        int saved = KernelParallel.Degree;
        try { KernelParallel.Degree = 1; Dropout.Forward(y2, m2, x, n, 0.25f, 42); }
        finally { KernelParallel.Degree = saved; }
        Assert.Equal(m1, m2); // independent of threading
        double kept = m1.Count(b => b == 1) / (double)n;
        Assert.InRange(kept, 0.74, 0.76);
        for (int i = 0; i < n; i++) Assert.Equal(m1[i] == 1 ? x[i] * (1f / 0.75f) : 0f, y1[i]);
        var g = KernelAssert.Random(n, 2); var d0 = KernelAssert.Random(n, 3); var d = (float[])d0.Clone();
        Dropout.Backward(d, g, m1, n, 0.25f);
        for (int i = 0; i < n; i++) Assert.Equal(d0[i] + (m1[i] == 1 ? g[i] * (1f / 0.75f) : 0f), d[i]);
        Dropout.Forward(y2, m2, x, n, 0.25f, 43);
        Assert.NotEqual(m1, m2);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(y2, m2, x, n, 1f, 1));
    }

    [Fact]
    public void ResidualAddAndAccumulate()
    {
        foreach (int n in new[] { 0, 1, 7, 8, 9, 33, 100 })
        {
            var a = KernelAssert.Random(n, 1); var b = KernelAssert.Random(n, 2); var o = new float[n];
            Residual.Forward(o, a, b, n);
            for (int i = 0; i < n; i++) Assert.Equal(a[i] + b[i], o[i]);
            var acc = (float[])a.Clone();
            Residual.Accumulate(acc, b, n);
            Assert.Equal(o, acc);
            var da = new float[n]; var db = (float[])a.Clone();
            Residual.Backward(da, db, b, n);
            Assert.Equal(b, da); Assert.Equal(o, db);
        }
    }

    [Theory]
    [InlineData(1, 5, 3)] [InlineData(4, 7, 9)] [InlineData(17, 33, 20)]
    public void LinearForwardBackwardMatchReference(int N, int IC, int OC)
    {
        var x = KernelAssert.Random(N * IC, 1); var w = KernelAssert.Random(OC * IC, 2); var bias = KernelAssert.Random(OC, 3);
        var y = new float[N * OC];
        Linear.Forward(y, x, w, bias, N, IC, OC);
        double[] Ref(double[] xx, double[] ww, double[] bb)
        {
            var r = new double[N * OC];
            for (int n = 0; n < N; n++) for (int o = 0; o < OC; o++)
                {
                    double s = bb[o];
                    for (int i = 0; i < IC; i++) s += xx[n * IC + i] * ww[o * IC + i];
                    r[n * OC + o] = s;
                }
            return r;
        }
        var xd = KernelAssert.ToDouble(x); var wd = KernelAssert.ToDouble(w); var bd = KernelAssert.ToDouble(bias);
        KernelAssert.Close(Ref(xd, wd, bd), y, 1e-5, 1e-5, "linear");
        var g = KernelAssert.Random(N * OC, 4);
        var dx0 = KernelAssert.Random(N * IC, 5); var dw0 = KernelAssert.Random(OC * IC, 6); var db0 = KernelAssert.Random(OC, 7);
        var dx = (float[])dx0.Clone(); var dw = (float[])dw0.Clone(); var db = (float[])db0.Clone();
        Linear.Backward(dx, dw, db, g, x, w, N, IC, OC);
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(p, wd, bd), g), xd), dx0, dx, 1e-4, 1e-4, "dx");
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(xd, p, bd), g), wd), dw0, dw, 1e-4, 1e-4, "dw");
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(xd, wd, p), g), bd), db0, db, 1e-4, 1e-4, "db");
    }

    [Fact]
    public void AdamWMatchesPyTorchFormulaInDouble()
    {
        foreach (int n in new[] { 0, 1, 7, 8, 9, 31, 40000 })
        {
            var p = KernelAssert.Random(n, 1); var m = new float[n]; var v = new float[n];
            var pd = KernelAssert.ToDouble(p); var md = new double[n]; var vd = new double[n];
            double lr = 1e-3, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
            for (int t = 1; t <= 3; t++)
            {
                var g = KernelAssert.Random(n, 10 + t);
                AdamW.Step(p, g, m, v, n, lr, b1, b2, eps, wd, t);
                for (int i = 0; i < n; i++)
                {
                    pd[i] *= 1 - lr * wd;
                    md[i] = b1 * md[i] + (1 - b1) * g[i];
                    vd[i] = b2 * vd[i] + (1 - b2) * g[i] * g[i];
                    pd[i] -= lr / (1 - Math.Pow(b1, t)) * md[i] / (Math.Sqrt(vd[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps);
                }
            }
            KernelAssert.Close(pd, p, 1e-5, 1e-6, $"adamw p n={n}");
            KernelAssert.Close(md, m, 1e-5, 1e-7, "adamw m");
            KernelAssert.Close(vd, v, 1e-4, 1e-9, "adamw v");
        }
    }

    [Fact]
    public void ParallelForCoversEveryIndexOnce()
    {
        foreach (int count in new[] { 0, 1, 5, 100, 10007 })
            foreach (int grain in new[] { 1, 3, 1000 })
            {
                var hits = new int[count];
                KernelParallel.For(count, grain, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]); });
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelParallel.Degree = 0);
    }
}
