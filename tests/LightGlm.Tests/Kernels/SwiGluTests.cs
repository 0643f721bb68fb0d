// SwiGLU forward vs reference over many lengths (vector tails), backward vs finite differences.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class SwiGluTests
{
    static double[] Ref(double[] g, double[] u) => g.Select((x, i) => x / (1 + Math.Exp(-x)) * u[i]).ToArray();

    [Fact]
    public void ForwardMatchesReferenceOverLengths()
    {
        foreach (int n in Enumerable.Range(0, 72).Append(255).Append(40000))
        {
            var g = KernelAssert.Random(n, n, 6f); var u = KernelAssert.Random(n, n + 1);
            var o = new float[n];
            SwiGlu.Forward(o, g, u, 1, n);
            KernelAssert.Close(Ref(KernelAssert.ToDouble(g), KernelAssert.ToDouble(u)), o, 1e-5, 1e-6, $"swiglu n={n}");
            var gi = (float[])g.Clone();
            SwiGlu.Forward(gi, gi, u, 1, n);
            KernelAssert.Close(o, gi, 0, 0, "in place");
        }
    }

    [Theory]
    [InlineData(1, 1)] [InlineData(3, 7)] [InlineData(2, 33)]
    public void BackwardMatchesFiniteDifferences(int N, int F)
    {
        var g = KernelAssert.Random(N * F, 1, 4f); var u = KernelAssert.Random(N * F, 2); var dy = KernelAssert.Random(N * F, 3);
        var dg0 = KernelAssert.Random(N * F, 4); var du0 = KernelAssert.Random(N * F, 5);
        var dg = (float[])dg0.Clone(); var du = (float[])du0.Clone();
        SwiGlu.Backward(dg, du, dy, g, u, N, F);
        var gd = KernelAssert.ToDouble(g); var ud = KernelAssert.ToDouble(u);
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(p, ud), dy), gd), dg0, dg, 1e-4, 1e-5, "dgate");
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(gd, p), dy), ud), du0, du, 1e-4, 1e-5, "dup");
    }
}
