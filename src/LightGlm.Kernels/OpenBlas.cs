// OpenBLAS through [LibraryImport]: cblas_sgemm / cblas_sgemv / openblas_set_num_threads from Debian's libopenblas0-pthread.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LightGlm.Kernels;

internal static unsafe partial class OpenBlas
{
    const string Lib = "libopenblas.so.0";
    const int RowMajor = 101, NoTrans = 111, Trans = 112;

    static readonly Lazy<bool> _available = new(Probe);

    /// <summary>True when libopenblas.so.0 loads and exports the symbols we call.</summary>
    public static bool IsAvailable => _available.Value;

    /// <summary>The kernel family OpenBLAS runs (openblas_get_corename, e.g. "SkylakeX"); null when not loaded.</summary>
    public static string? CoreName { get; private set; }

    /// <summary>What <see cref="SelectCore"/> set OPENBLAS_CORETYPE to (null: left to OpenBLAS or the user).</summary>
    public static string? ForcedCore { get; private set; }

    static bool Probe()
    {
        SelectCore();
        if (!NativeLibrary.TryLoad(Lib, typeof(OpenBlas).Assembly, null, out var handle)) return false;
        bool ok = NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _)
            && NativeLibrary.TryGetExport(handle, "cblas_sgemv", out _)
            && NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out _);
        if (ok && NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var f))
            CoreName = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)f)());
        return ok;
    }

    /// <summary>
    /// OpenBLAS's DYNAMIC_ARCH build picks its kernels from the CPU model when it loads; a model newer than the build
    /// (Debian's 0.3.21 on Sapphire/Emerald Rapids) falls back to "Prescott", SSE3 kernels ~5× slower than the AVX-512
    /// ones. Unless the user set OPENBLAS_CORETYPE, set it before the library loads from the instruction sets the CPU
    /// reports: AVX-512 (F, BW, DQ, VL) → SkylakeX, AVX2 + FMA → Haswell. Linux/glibc only (setenv in libc.so.6).
    /// </summary>
    static void SelectCore()
    {
        if (!OperatingSystem.IsLinux() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE"))) return;
        string? core = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported ? "SkylakeX"
            : Avx2.IsSupported && Fma.IsSupported ? "Haswell" : null;
        if (core is null) return;
        try
        {
            if (SetEnv("OPENBLAS_CORETYPE", core, 0) == 0) ForcedCore = core;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

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
