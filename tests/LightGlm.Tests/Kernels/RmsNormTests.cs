// RMSNorm forward vs a double reference; backward vs central differences of that reference; accumulate semantics.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class RmsNormTests
{
    static double[] Ref(double[] x, double[] w, int N, int C, double eps)
    {
        var y = new double[N * C];
        for (int n = 0; n < N; n++)
        {
            double ss = 0;
            for (int i = 0; i < C; i++) ss += x[n * C + i] * x[n * C + i];
            double r = 1 / Math.Sqrt(ss / C + eps);
            for (int i = 0; i < C; i++) y[n * C + i] = x[n * C + i] * r * w[i];
        }
        return y;
    }

    [Theory]
    [InlineData(0, 4)] [InlineData(1, 1)] [InlineData(3, 7)] [InlineData(2, 8)] [InlineData(5, 33)] [InlineData(4, 71)] [InlineData(9, 256)]
    public void ForwardMatchesReference(int N, int C)
    {
        var x = KernelAssert.Random(N * C, N + C); var w = KernelAssert.Random(C, 3);
        var y = new float[N * C]; var rstd = new float[N];
        RmsNorm.Forward(y, rstd, x, w, N, C, 1e-5f);
        KernelAssert.Close(Ref(KernelAssert.ToDouble(x), KernelAssert.ToDouble(w), N, C, 1e-5), y, 1e-5, 1e-6, "rmsnorm");
        // in place
        var xi = (float[])x.Clone();
        RmsNorm.Forward(xi, rstd, xi, w, N, C, 1e-5f);
        KernelAssert.Close(y, xi, 0, 0, "in place");
    }

    [Theory]
    [InlineData(1, 1)] [InlineData(3, 7)] [InlineData(2, 16)] [InlineData(4, 19)]
    public void BackwardMatchesFiniteDifferences(int N, int C)
    {
        var x = KernelAssert.Random(N * C, 10 + C); var w = KernelAssert.Random(C, 11); var g = KernelAssert.Random(N * C, 12);
        var y = new float[N * C]; var rstd = new float[N];
        RmsNorm.Forward(y, rstd, x, w, N, C, 1e-5f);
        var dx0 = KernelAssert.Random(N * C, 13); var dw0 = KernelAssert.Random(C, 14);
        var dx = (float[])dx0.Clone(); var dw = (float[])dw0.Clone();
        RmsNorm.Backward(dx, dw, g, x, w, rstd, N, C);
        var xd = KernelAssert.ToDouble(x); var wd = KernelAssert.ToDouble(w);
        var ex = KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(p, wd, N, C, 1e-5), g), xd);
        var ew = KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(xd, p, N, C, 1e-5), g), wd);
        KernelAssert.CloseAccumulated(ex, dx0, dx, 1e-3, 1e-4, "dx");
        KernelAssert.CloseAccumulated(ew, dw0, dw, 1e-3, 1e-4, "dw");
    }
}
