// OpenBLAS through [LibraryImport]: cblas_sgemm / cblas_sgemv / openblas_set_num_threads from Debian's libopenblas0-pthread.
using System.Runtime.InteropServices;

namespace LightGlm.Kernels;

internal static unsafe partial class OpenBlas
{
    const string Lib = "libopenblas.so.0";
    const int RowMajor = 101, NoTrans = 111, Trans = 112;

    static readonly Lazy<bool> _available = new(Probe);

    /// <summary>True when libopenblas.so.0 loads and exports the symbols we call.</summary>
    public static bool IsAvailable => _available.Value;

    static bool Probe()
    {
        if (!NativeLibrary.TryLoad(Lib, typeof(OpenBlas).Assembly, null, out var handle)) return false;
        return NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _)
            && NativeLibrary.TryGetExport(handle, "cblas_sgemv", out _)
            && NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out _);
    }

    [LibraryImport(Lib, EntryPoint = "cblas_sgemm")]
    private static partial void CblasSgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Lib, EntryPoint = "cblas_sgemv")]
    private static partial void CblasSgemv(int order, int trans, int m, int n,
        float alpha, float* a, int lda, float* x, int incX, float beta, float* y, int incY);

    [LibraryImport(Lib, EntryPoint = "openblas_set_num_threads")]
    private static partial void SetNumThreads(int n);

    [LibraryImport(Lib, EntryPoint = "openblas_get_num_threads")]
    private static partial int GetNumThreads();

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc)
        => CblasSgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    public static void Sgemv(bool transA, int m, int n, float alpha, float* a, int lda, float* x, float beta, float* y)
        => CblasSgemv(RowMajor, transA ? Trans : NoTrans, m, n, alpha, a, lda, x, 1, beta, y, 1);

    public static void Threads(int n) => SetNumThreads(n);

    public static int Threads() => GetNumThreads();
}
