// The machine's measured sgemm peak: M = N = K = 1024 through our Gemm at the bench's thread count, in the same run.
using System.Diagnostics;
using LightGlm.Kernels;

namespace LightGlm.Evaluation.Bench;

public static class SgemmPeak
{
    /// <summary>
    /// GFLOP/s of C = A·Bᵀ (n³ multiply-adds = 2n³ FLOPs) through <see cref="Gemm.Sgemm(bool,bool,int,int,int,float,ReadOnlySpan{float},int,ReadOnlySpan{float},int,float,Span{float},int)"/>
    /// with the current backend and threads: one warm-up, then the best of <paramref name="repeats"/> timed calls
    /// (a peak is the best the machine did, so noise from other processes only lowers it).
    /// </summary>
    public static double MeasureGflops(int n = 1024, int repeats = 7)
    {
        var rng = new Random(1);
        var a = new float[n * n];
        var b = new float[n * n];
        var c = new float[n * n];
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble() - 0.5f; b[i] = (float)rng.NextDouble() - 0.5f; }
        Gemm.Sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Gemm.Sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
