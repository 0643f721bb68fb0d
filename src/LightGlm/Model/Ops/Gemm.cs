// The three GEMM shapes of a transformer's forward/backward, on arena views; routed to the kernels' GEMM.
namespace LightGlm.Model.Ops;

/// <summary>
/// C (M, N) = α·A·Bᵀ (NT), α·A·B (NN) or α·Aᵀ·B (TN), optionally added to C (α = 1 unless given). All row-major, contiguous.
/// Routed to LightGlm.Kernels.Gemm (OpenBLAS when present, its managed Vector256/FMA GEMM otherwise).
/// </summary>
internal static class Gemm
{
    /// <summary>C (M, N) (+)= A (M, K) · B (N, K)ᵀ.</summary>
    public static void NT(TensorView c, TensorView a, TensorView b, int M, int N, int K, bool accumulate, float alpha = 1f) =>
        Kernels.Gemm.Sgemm(false, true, M, N, K, alpha, a.Data.AsSpan(a.Offset, M * K), K, b.Data.AsSpan(b.Offset, N * K), K,
            accumulate ? 1f : 0f, c.Data.AsSpan(c.Offset, M * N), N);

    /// <summary>C (M, N) (+)= A (M, K) · B (K, N).</summary>
    public static void NN(TensorView c, TensorView a, TensorView b, int M, int N, int K, bool accumulate, float alpha = 1f) =>
        Kernels.Gemm.Sgemm(false, false, M, N, K, alpha, a.Data.AsSpan(a.Offset, M * K), K, b.Data.AsSpan(b.Offset, K * N), N,
            accumulate ? 1f : 0f, c.Data.AsSpan(c.Offset, M * N), N);

    /// <summary>C (M, N) (+)= A (K, M)ᵀ · B (K, N).</summary>
    public static void TN(TensorView c, TensorView a, TensorView b, int M, int N, int K, bool accumulate, float alpha = 1f) =>
        Kernels.Gemm.Sgemm(true, false, M, N, K, alpha, a.Data.AsSpan(a.Offset, K * M), M, b.Data.AsSpan(b.Offset, K * N), N,
            accumulate ? 1f : 0f, c.Data.AsSpan(c.Offset, M * N), N);

    /// <summary>y (M) = A (M, K) · x (K): matrix-vector (cblas_sgemv) for one-token decode.</summary>
    public static void Gemv(Span<float> y, TensorView a, ReadOnlySpan<float> x, int M, int K) =>
        Kernels.Gemm.Sgemv(false, M, K, 1f, a.Data.AsSpan(a.Offset, M * K), K, x[..K], 0f, y[..M]);
}
