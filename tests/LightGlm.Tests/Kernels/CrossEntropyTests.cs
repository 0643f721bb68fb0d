// Cross-entropy with ignore index −1: loss vs reference, fused/in-place backward vs finite differences, bad targets.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class CrossEntropyTests
{
    static double Ref(double[] z, int[] t, int N, int V)
    {
        double s = 0;
        for (int n = 0; n < N; n++)
        {
            if (t[n] < 0) continue;
            double max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < V; i++) max = Math.Max(max, z[n * V + i]);
            for (int i = 0; i < V; i++) sum += Math.Exp(z[n * V + i] - max);
            s += Math.Log(sum) + max - z[n * V + t[n]];
        }
        return s;
    }

    static int[] Targets(int N, int V) => Enumerable.Range(0, N).Select(n => n % 4 == 3 ? -1 : (n * 7 + 3) % V).ToArray();

    [Theory]
    [InlineData(0, 5)] [InlineData(1, 1)] [InlineData(4, 3)] [InlineData(7, 33)] [InlineData(9, 71)] [InlineData(5, 4099)]
    public void ForwardAndFusedBackward(int N, int V)
    {
        var z = KernelAssert.Random(N * V, N + V, 8f); var t = Targets(N, V);
        var r = CrossEntropy.Forward(z, t, N, V);
        int count = t.Count(x => x >= 0);
        Assert.Equal(count, r.Count);
        Assert.Equal(Ref(KernelAssert.ToDouble(z), t, N, V), r.Sum, 1e-4 * (1 + count));
        float scale = count == 0 ? 0 : 1f / count;
        var d = KernelAssert.Random(N * V, 1); // overwritten, not accumulated
        var rf = CrossEntropy.ForwardBackward(d, z, t, N, V, scale);
        Assert.Equal(r.Sum, rf.Sum, 1e-5 * (1 + count));
        if (N * V > 0 && N * V < 2000)
        {
            var e = KernelAssert.NumericGrad(p => Ref(p, t, N, V) * scale, KernelAssert.ToDouble(z));
            KernelAssert.Close(e, d, 1e-3, 1e-5, "dlogits");
        }
        var zi = (float[])z.Clone();
        CrossEntropy.ForwardBackward(zi, zi, t, N, V, scale);
        KernelAssert.Close(d, zi, 0, 0, "in place");
        var db = new float[N * V];
        CrossEntropy.Backward(db, z, t, N, V, scale);
        KernelAssert.Close(d, db, 0, 0, "backward only");
    }

    [Fact]
    public void RejectsTargetsOutsideVocabulary()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Forward(new float[6], new[] { 0, 3 }, 2, 3));
        Assert.Contains("targets[1] = 3", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Forward(new float[6], new[] { -2, 0 }, 2, 3));
    }
}
