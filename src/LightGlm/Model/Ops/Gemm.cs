// The three GEMM shapes of a transformer's forward/backward, on arena views; routed to the kernels' GEMM.
using System.Numerics.Tensors;

namespace LightGlm.Model.Ops;

/// <summary>
/// C (M, N) = A·Bᵀ (NT), A·B (NN) or Aᵀ·B (TN), optionally added to C. All row-major, contiguous.
/// A managed implementation (parallel dot/axpy rows) stands here until a faster GEMM is plugged in.
/// </summary>
internal static class Gemm
{
    /// <summary>C (M, N) (+)= A (M, K) · B (N, K)ᵀ.</summary>
    public static void NT(TensorView c, TensorView a, TensorView b, int M, int N, int K, bool accumulate)
    {
        Parallelism.For(M, (long)N * K, i =>
        {
            var ar = a.Data.AsSpan(a.Offset + i * K, K);
            var cr = c.Data.AsSpan(c.Offset + i * N, N);
            for (int j = 0; j < N; j++)
            {
                float d = TensorPrimitives.Dot(ar, b.Data.AsSpan(b.Offset + j * K, K));
                cr[j] = accumulate ? cr[j] + d : d;
            }
        });
    }

    /// <summary>C (M, N) (+)= A (M, K) · B (K, N).</summary>
    public static void NN(TensorView c, TensorView a, TensorView b, int M, int N, int K, bool accumulate)
    {
        Parallelism.For(M, (long)N * K, i =>
        {
            var cr = c.Data.AsSpan(c.Offset + i * N, N);
            if (!accumulate) cr.Clear();
            for (int k = 0; k < K; k++)
            {
                float s = a.Data[a.Offset + i * K + k];
                if (s != 0) TensorPrimitives.MultiplyAdd(b.Data.AsSpan(b.Offset + k * N, N), s, cr, cr);
            }
        });
    }

    /// <summary>C (M, N) (+)= A (K, M)ᵀ · B (K, N).</summary>
    public static void TN(TensorView c, TensorView a, TensorView b, int M, int N, int K, bool accumulate)
    {
        Parallelism.For(M, (long)N * K, i =>
        {
            var cr = c.Data.AsSpan(c.Offset + i * N, N);
            if (!accumulate) cr.Clear();
            for (int k = 0; k < K; k++)
            {
                float s = a.Data[a.Offset + k * M + i];
                if (s != 0) TensorPrimitives.MultiplyAdd(b.Data.AsSpan(b.Offset + k * N, N), s, cr, cr);
            }
        });
    }

    /// <summary>y (M) = A (M, K) · x (K): matrix-vector for one-token decode.</summary>
    public static void Gemv(Span<float> y, TensorView a, ReadOnlySpan<float> x, int M, int K)
    {
        for (int i = 0; i < M; i++) y[i] = TensorPrimitives.Dot(a.Data.AsSpan(a.Offset + i * K, K), x);
    }
}
