// GEMM/GEMV: managed and OpenBLAS paths against a naive double loop and each other, over transposes, odd sizes, strides.
using LightGlm.Kernels;

namespace LightGlm.Tests.Kernels;

public class GemmTests
{
    static IEnumerable<GemmBackend> Backends()
    {
        yield return GemmBackend.Managed;
        if (Gemm.OpenBlasAvailable) yield return GemmBackend.OpenBlas;
    }

    static double[] Naive(bool ta, bool tb, int M, int N, int K, float alpha, float[] A, int lda, float[] B, int ldb, float beta, float[] C, int ldc)
    {
        var r = KernelAssert.ToDouble(C);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                double s = 0;
                for (int k = 0; k < K; k++)
                    s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
                r[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * (double)C[i * ldc + j]);
            }
        return r;
    }

    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 0, 3, 4 }, { 3, 0, 4 }, { 3, 4, 0 }, { 1, 1, 1 }, { 1, 17, 5 }, { 7, 1, 9 }, { 5, 7, 3 }, { 6, 16, 8 },
        { 13, 33, 17 }, { 31, 15, 70 }, { 97, 35, 29 }, { 64, 64, 64 }, { 7, 300, 261 }, { 101, 17, 513 }, { 3, 1100, 5 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SgemmMatchesNaiveForAllTransposesAndStrides(int M, int N, int K)
    {
        int seed = M * 1000 + N * 10 + K;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (int pad in new[] { 0, 3 })
                {
                    int lda = Math.Max(1, (ta ? M : K) + pad), ldb = Math.Max(1, (tb ? K : N) + pad), ldc = Math.Max(1, N + pad);
                    var A = KernelAssert.Random(Math.Max(1, (ta ? K : M) * lda), seed + 1);
                    var B = KernelAssert.Random(Math.Max(1, (tb ? N : K) * ldb), seed + 2);
                    var C0 = KernelAssert.Random(Math.Max(1, M * ldc), seed + 3);
                    foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-1.5f, 0.25f) })
                    {
                        var expected = Naive(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc);
                        foreach (var backend in Backends())
                        {
                            var C = (float[])C0.Clone();
                            Gemm.Sgemm(backend, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                            KernelAssert.Close(expected, C, 1e-4, 1e-4 * Math.Sqrt(K + 1), $"{backend} ta={ta} tb={tb} M={M} N={N} K={K} pad={pad} a={alpha} b={beta}");
                        }
                    }
                }
    }

    [Fact]
    public void BackendsAgreeOnALargeProduct()
    {
        Assert.True(Gemm.OpenBlasAvailable, "OpenBLAS did not load: install libopenblas0-pthread (scripts/setup.sh does) — the managed GEMM alone cannot be compared with it");
        int M = 130, N = 260, K = 300;
        var A = KernelAssert.Random(M * K, 1); var B = KernelAssert.Random(N * K, 2);
        var c1 = new float[M * N]; var c2 = new float[M * N];
        Gemm.Sgemm(GemmBackend.Managed, false, true, M, N, K, 1f, A, K, B, K, 0f, c1, N);
        Gemm.Sgemm(GemmBackend.OpenBlas, false, true, M, N, K, 1f, A, K, B, K, 0f, c2, N);
        KernelAssert.Close(c2, c1, 1e-4, 1e-4, "managed vs openblas");
    }

    [Fact]
    public void BetaZeroIgnoresNaNInC()
    {
        foreach (var backend in Backends())
        {
            var C = Enumerable.Repeat(float.NaN, 12).ToArray();
            Gemm.Sgemm(backend, false, false, 3, 4, 2, 1f, new float[6], 2, new float[8], 4, 0f, C, 4);
            Assert.All(C, c => Assert.Equal(0f, c));
        }
    }

    [Fact]
    public void SgemmRejectsShortBuffersAndOverlap()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("A needs 16", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[16], 3, new float[16], 4, 0f, new float[16], 4));
        var buf = new float[32];
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, buf.AsSpan(0, 16), 4, new float[16], 4, 0f, buf.AsSpan(8, 16), 4));
    }

    [Theory]
    [InlineData(0, 5)] [InlineData(5, 0)] [InlineData(1, 1)] [InlineData(7, 9)] [InlineData(33, 70)] [InlineData(257, 129)] [InlineData(3, 1500)]
    public void SgemvMatchesNaive(int M, int N)
    {
        foreach (bool ta in new[] { false, true })
            foreach (int pad in new[] { 0, 5 })
                foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (2f, -0.5f) })
                {
                    int lda = Math.Max(1, N + pad);
                    var A = KernelAssert.Random(Math.Max(1, M * lda), M + N);
                    var x = KernelAssert.Random(ta ? M : N, 7);
                    var y0 = KernelAssert.Random(ta ? N : M, 8);
                    var expected = new double[y0.Length];
                    for (int o = 0; o < y0.Length; o++)
                    {
                        double s = 0;
                        for (int i = 0; i < x.Length; i++) s += (double)(ta ? A[i * lda + o] : A[o * lda + i]) * x[i];
                        expected[o] = alpha * s + (beta == 0 ? 0 : beta * (double)y0[o]);
                    }
                    foreach (var backend in Backends())
                    {
                        var y = (float[])y0.Clone();
                        Gemm.Sgemv(backend, ta, M, N, alpha, A, lda, x, beta, y);
                        KernelAssert.Close(expected, y, 1e-4, 1e-4 * Math.Sqrt(x.Length + 1), $"{backend} gemv ta={ta} M={M} N={N}");
                    }
                }
    }
}
