// Row softmax forward vs reference (with huge logits), backward vs finite differences.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class SoftmaxTests
{
    internal static double[] Ref(double[] x, int N, int V)
    {
        var y = new double[N * V];
        for (int n = 0; n < N; n++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < V; i++) max = Math.Max(max, x[n * V + i]);
            for (int i = 0; i < V; i++) sum += y[n * V + i] = Math.Exp(x[n * V + i] - max);
            for (int i = 0; i < V; i++) y[n * V + i] /= sum;
        }
        return y;
    }

    [Fact]
    public void ForwardMatchesReferenceOverLengths()
    {
        foreach (int V in Enumerable.Range(1, 72).Append(1000))
        {
            int N = 3;
            var x = KernelAssert.Random(N * V, V, 30f);
            x[0] = 1e4f; // overflow guard
            var y = new float[N * V];
            Softmax.Forward(y, x, N, V);
            KernelAssert.Close(Ref(KernelAssert.ToDouble(x), N, V), y, 1e-5, 1e-7, $"softmax V={V}");
            Softmax.Forward(x, x, N, V);
            KernelAssert.Close(y, x, 0, 0, "in place");
        }
    }

    [Theory]
    [InlineData(1, 1)] [InlineData(2, 9)] [InlineData(3, 17)]
    public void BackwardMatchesFiniteDifferences(int N, int V)
    {
        var x = KernelAssert.Random(N * V, 1, 3f); var g = KernelAssert.Random(N * V, 2);
        var y = new float[N * V];
        Softmax.Forward(y, x, N, V);
        var d0 = KernelAssert.Random(N * V, 3); var d = (float[])d0.Clone();
        Softmax.Backward(d, g, y, N, V);
        KernelAssert.CloseAccumulated(KernelAssert.NumericGrad(p => KernelAssert.Dot(Ref(p, N, V), g), KernelAssert.ToDouble(x)), d0, d, 1e-4, 1e-5, "dsoftmax");
    }
}
