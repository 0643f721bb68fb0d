// Rotary embeddings: both pair layouts, partial and full rotary dims, forward vs reference, backward = exact transpose.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class RotaryTests
{
    static double[] Ref(double[] x, int[] pos, int N, int NH, int D, int R, double theta, bool inter)
    {
        var y = (double[])x.Clone();
        for (int n = 0; n < N; n++)
            for (int h = 0; h < NH; h++)
                for (int j = 0; j < R / 2; j++)
                {
                    double ang = pos[n] * Math.Pow(theta, -2.0 * j / R);
                    int a = (n * NH + h) * D + (inter ? 2 * j : j), b = (n * NH + h) * D + (inter ? 2 * j + 1 : j + R / 2);
                    y[a] = x[a] * Math.Cos(ang) - x[b] * Math.Sin(ang);
                    y[b] = x[a] * Math.Sin(ang) + x[b] * Math.Cos(ang);
                }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 2, 2)] [InlineData(3, 2, 8, 4)] [InlineData(5, 3, 10, 10)] [InlineData(4, 2, 32, 16)] [InlineData(7, 1, 64, 64)] [InlineData(0, 2, 8, 8)]
    public void ForwardAndBackwardMatchReference(int N, int NH, int D, int R)
    {
        foreach (bool inter in new[] { true, false })
        {
            var table = new RotaryTable(64, R, 10000);
            var pos = Enumerable.Range(0, N).Select(i => (i * 7) % 64).ToArray();
            var x = KernelAssert.Random(N * NH * D, N + D);
            var y = new float[x.Length];
            Rotary.Forward(y, x, pos, table, N, NH, D, inter);
            KernelAssert.Close(Ref(KernelAssert.ToDouble(x), pos, N, NH, D, R, 10000, inter), y, 1e-4, 1e-5, $"rope inter={inter}");
            var xi = (float[])x.Clone();
            Rotary.Forward(xi, xi, pos, table, N, NH, D, inter);
            KernelAssert.Close(y, xi, 0, 0, "in place");
            // backward: linear map, so the FD gradient of Σ ref(x)·g is exact up to rounding
            var g = KernelAssert.Random(x.Length, 5);
            var dx0 = KernelAssert.Random(x.Length, 6); var dx = (float[])dx0.Clone();
            Rotary.Backward(dx, g, pos, table, N, NH, D, inter);
            var e = KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(p, pos, N, NH, D, R, 10000, inter), g), KernelAssert.ToDouble(x));
            KernelAssert.CloseAccumulated(e, dx0, dx, 1e-3, 1e-4, "drope");
        }
    }

    [Fact]
    public void RejectsBadPositionsAndDims()
    {
        var t = new RotaryTable(4, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Rotary.Forward(new float[8], new float[8], new[] { 4 }, t, 1, 1, 8, true));
        Assert.Throws<ArgumentException>(() => Rotary.Forward(new float[2], new float[2], new[] { 0 }, t, 1, 1, 2, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RotaryTable(4, 3));
    }
}
