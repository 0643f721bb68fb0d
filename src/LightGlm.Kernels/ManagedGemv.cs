// Managed SGEMV: rows of A dotted with x (no transpose), or scaled rows of A accumulated into y (transpose).
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

internal static unsafe class ManagedGemv
{
    /// <summary>y = alpha·op(A)·x + beta·y with A (M, N) stride lda; shapes validated by <see cref="Gemm"/>.</summary>
    public static void Sgemv(bool transA, int M, int N, float alpha, float* A, int lda, float* x, float beta, float* y, int threads)
    {
        nint a = (nint)A, xp = (nint)x, yp = (nint)y;
        if (!transA)
        {
            // y_i = alpha·(A_i · x) + beta·y_i, rows independent.
            KernelParallel.For(M, Math.Max(1, 16384 / Math.Max(1, N)), (i0, i1) =>
            {
                var xs = new ReadOnlySpan<float>((float*)xp, N);
                float* yy = (float*)yp;
                for (int i = i0; i < i1; i++)
                {
                    float dot = N == 0 ? 0f : TensorPrimitives.Dot(new ReadOnlySpan<float>((float*)a + (long)i * lda, N), xs);
                    yy[i] = beta == 0f ? alpha * dot : alpha * dot + beta * yy[i];
                }
            }, threads);
            return;
        }
        // y_j = alpha·Σ_i A_ij·x_i + beta·y_j: split the columns, each chunk walks all rows.
        KernelParallel.For(N, 512, (j0, j1) =>
        {
            var ys = new Span<float>((float*)yp + j0, j1 - j0);
            if (beta == 0f) ys.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(ys, beta, ys);
            for (int i = 0; i < M; i++)
            {
                float s = alpha * ((float*)xp)[i];
                if (s == 0f) continue;
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)a + (long)i * lda + j0, j1 - j0), s, ys, ys);
            }
        }, threads);
    }
}
