// Label-smoothed cross-entropy: value against the definition, gradient by finite differences, ε = 0 is plain CE.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class LabelSmoothingTests
{
    static double Reference(float[] z, int t, double eps)
    {
        double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max)), lse = Math.Log(sum) + max;
        // −Σ_v q_v log p_v with q = (1−ε)·onehot(t) + ε/V
        return z.Select((v, j) => -((j == t ? 1 - eps : 0) + eps / z.Length) * (v - lse)).Sum();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    public void LossAndGradientMatchTheDefinition(double eps)
    {
        int N = 3, V = 11;
        var rng = new Random(4);
        var z = Enumerable.Range(0, N * V).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        int[] t = [3, -1, 7];
        float[] scale = [0.5f, 0.5f, 0.5f];
        var d = new float[N * V];
        var rowLoss = new float[N];
        double total = CrossEntropy.ForwardBackwardRows(d, z, t, scale, rowLoss, N, V, (float)eps);
        double expected = 0.5 * (Reference(z[..V], 3, eps) + Reference(z[(2 * V)..], 7, eps));
        Assert.Equal(expected, total, 4);
        Assert.Equal(0f, rowLoss[1]);
        // Finite differences on row 0 and row 2.
        foreach (int n in new[] { 0, 2 })
            for (int j = 0; j < V; j++)
            {
                var zp = (float[])z.Clone(); var zm = (float[])z.Clone();
                float h = 1e-2f;
                zp[n * V + j] += h; zm[n * V + j] -= h;
                double fd = 0.5 * (Reference(zp[(n * V)..(n * V + V)], t[n], eps) - Reference(zm[(n * V)..(n * V + V)], t[n], eps)) / (2 * h);
                Assert.Equal(fd, d[n * V + j], 3);
            }
        Assert.All(d[V..(2 * V)], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void SmoothingOutsideZeroToOneIsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            CrossEntropy.ForwardBackwardRows(new float[4], new float[4], [0], [1f], new float[1], 1, 4, 1.5f));
        Assert.Contains("label smoothing", e.Message);
    }
}
