// Shared helpers for kernel tests: seeded random data, tolerant comparison, central finite differences in double.
namespace LightGlm.Tests.Kernels;

internal static class KernelAssert
{
    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| elementwise, with the first failing index in the message.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: length {actual.Length} < {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}: index {i}: expected {e:R}, got {a:R} (diff {Math.Abs(a - e):E3})");
        }
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
        => Close(ToDouble(expected), actual, rtol, atol, what);

    /// <summary>Central differences of f at x in double (h relative to |x|).</summary>
    public static double[] NumericGrad(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double old = x[i];
            x[i] = old + h; double fp = f(x);
            x[i] = old - h; double fm = f(x);
            x[i] = old;
            g[i] = (fp - fm) / (2 * h);
        }
        return g;
    }

    /// <summary>Σ out·weights: turns a vector output into a scalar loss whose gradient wrt out is weights.</summary>
    public static double Dot(double[] a, float[] w)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * w[i];
        return s;
    }

    /// <summary>Checks accumulate semantics: grad = initial + expected.</summary>
    public static void CloseAccumulated(double[] expectedGrad, float[] initial, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        var e = new double[expectedGrad.Length];
        for (int i = 0; i < e.Length; i++) e[i] = initial[i] + expectedGrad[i];
        Close(e, actual, rtol, atol, what);
    }
}
