// Row-major single-precision GEMM and GEMV: one dispatch point over OpenBLAS and the managed Vector256/FMA kernels.
namespace LightGlm.Kernels;

/// <summary>Which implementation <see cref="Gemm"/> calls.</summary>
public enum GemmBackend { Managed, OpenBlas }

/// <summary>
/// C = alpha·op(A)·op(B) + beta·C and y = alpha·op(A)·x + beta·y, row-major, as cblas with CblasRowMajor.
/// Backend: env <c>LIGHTGLM_GEMM=managed|openblas</c>, else OpenBLAS when libopenblas.so.0 loads, else managed
/// (one line on stderr says so). beta = 0 overwrites C / y without reading it (NaN in C does not propagate).
/// </summary>
public static unsafe class Gemm
{
    static GemmBackend _backend = Initial();
    static int _threads = InitialThreads();

    /// <summary>The backend in use. Setting OpenBlas when the library is missing throws.</summary>
    public static GemmBackend Backend
    {
        get => _backend;
        set
        {
            if (value == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
                throw new InvalidOperationException("Gemm: OpenBLAS (libopenblas.so.0) is not available; install libopenblas0-pthread (scripts/setup.sh) or use GemmBackend.Managed.");
            _backend = value;
            if (value == GemmBackend.OpenBlas) OpenBlas.Threads(_threads);
        }
    }

    /// <summary>True when libopenblas.so.0 can be loaded.</summary>
    public static bool OpenBlasAvailable => OpenBlas.IsAvailable;

    /// <summary>OpenBLAS's kernel family (openblas_get_corename, e.g. "SkylakeX"); null without OpenBLAS.</summary>
    public static string? OpenBlasCore => OpenBlas.IsAvailable ? OpenBlas.CoreName : null;

    /// <summary>
    /// The OPENBLAS_CORETYPE LightGlm set before loading OpenBLAS (because its own CPU detection may fall back to old
    /// kernels on CPUs newer than the build), or null when the user set it or it was left to OpenBLAS. Child processes
    /// that use OpenBLAS (the PyTorch bench) get the same value so that both sides run the same kernels.
    /// </summary>
    public static string? OpenBlasCoreTypeSet => OpenBlas.IsAvailable ? OpenBlas.ForcedCore : null;

    /// <summary>Threads used by GEMM/GEMV of both backends (default: core count or env LIGHTGLM_THREADS).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Gemm.Threads must be >= 1.");
            _threads = value;
            if (OpenBlas.IsAvailable) OpenBlas.Threads(value);
        }
    }

    static int InitialThreads()
    {
        var env = Environment.GetEnvironmentVariable("LIGHTGLM_THREADS");
        int n = int.TryParse(env, out int t) && t > 0 ? t : Environment.ProcessorCount;
        if (OpenBlas.IsAvailable) OpenBlas.Threads(n);
        return n;
    }

    static GemmBackend Initial()
    {
        var env = Environment.GetEnvironmentVariable("LIGHTGLM_GEMM")?.Trim().ToLowerInvariant();
        if (env == "managed") return GemmBackend.Managed;
        if (env is not (null or "" or "openblas"))
            Console.Error.WriteLine($"LightGlm: LIGHTGLM_GEMM='{env}' is not 'managed' or 'openblas'; using the default.");
        if (OpenBlas.IsAvailable) return GemmBackend.OpenBlas;
        Console.Error.WriteLine("LightGlm: OpenBLAS (libopenblas.so.0) not found; using the managed GEMM (install libopenblas0-pthread for speed).");
        return GemmBackend.Managed;
    }

    /// <summary>
    /// C (M, N) = alpha·op(A)·op(B) + beta·C. op(A) is (M, K): A is stored (M, K) with row stride lda, or (K, M) when transA.
    /// op(B) is (K, N): B is stored (K, N) with stride ldb, or (N, K) when transB. C must not overlap A or B.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
        ReadOnlySpan<float> A, int lda, ReadOnlySpan<float> B, int ldb, float beta, Span<float> C, int ldc)
        => Sgemm(_backend, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);

    /// <summary>As <see cref="Sgemm(bool,bool,int,int,int,float,ReadOnlySpan{float},int,ReadOnlySpan{float},int,float,Span{float},int)"/> on an explicit backend.</summary>
    public static void Sgemm(GemmBackend backend, bool transA, bool transB, int M, int N, int K, float alpha,
        ReadOnlySpan<float> A, int lda, ReadOnlySpan<float> B, int ldb, float beta, Span<float> C, int ldc)
    {
        ValidateGemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc);
        if (M == 0 || N == 0) return;
        if (backend == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
            throw new InvalidOperationException("Gemm: OpenBLAS requested but libopenblas.so.0 is not available.");
        fixed (float* a = A) fixed (float* b = B) fixed (float* c = C)
        {
            if (backend == GemmBackend.OpenBlas && K > 0)
                OpenBlas.Sgemm(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
            else
                ManagedGemm.Sgemm(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, _threads);
        }
    }

    /// <summary>
    /// One-thread GEMM on validated pointers, for kernels that split many small GEMMs (attention heads) over cores
    /// themselves: OpenBLAS when it is the backend (inside <see cref="WithSingleThreadedBlas"/>), else the managed GEMM
    /// with one thread. Same semantics as <see cref="Sgemm(bool,bool,int,int,int,float,ReadOnlySpan{float},int,ReadOnlySpan{float},int,float,Span{float},int)"/>.
    /// </summary>
    internal static void SgemmSingle(bool transA, bool transB, int M, int N, int K, float alpha, float* A, int lda,
        float* B, int ldb, float beta, float* C, int ldc)
    {
        if (M == 0 || N == 0) return;
        if (_backend == GemmBackend.OpenBlas && K > 0) OpenBlas.Sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        else ManagedGemm.Sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
    }

    static readonly object _blasThreadsLock = new();
    static int _singleDepth;

    /// <summary>
    /// Runs <paramref name="body"/> with OpenBLAS at one thread (restored afterwards), so that a parallel loop in it can
    /// call <see cref="SgemmSingle"/> from each of its threads without OpenBLAS forking again underneath.
    /// </summary>
    internal static void WithSingleThreadedBlas(Action body)
    {
        if (_backend != GemmBackend.OpenBlas || _threads == 1) { body(); return; }
        lock (_blasThreadsLock) { if (_singleDepth++ == 0) OpenBlas.Threads(1); }
        try { body(); }
        finally { lock (_blasThreadsLock) { if (--_singleDepth == 0) OpenBlas.Threads(_threads); } }
    }

    /// <summary>
    /// A is stored (M, N) with row stride lda. y = alpha·A·x + beta·y with x (N), y (M); or, when transA,
    /// y = alpha·Aᵀ·x + beta·y with x (M), y (N). This is the decode path (matrix-vector, never an M=1 GEMM).
    /// </summary>
    public static void Sgemv(bool transA, int M, int N, float alpha, ReadOnlySpan<float> A, int lda,
        ReadOnlySpan<float> x, float beta, Span<float> y)
        => Sgemv(_backend, transA, M, N, alpha, A, lda, x, beta, y);

    /// <summary>As <see cref="Sgemv(bool,int,int,float,ReadOnlySpan{float},int,ReadOnlySpan{float},float,Span{float})"/> on an explicit backend.</summary>
    public static void Sgemv(GemmBackend backend, bool transA, int M, int N, float alpha, ReadOnlySpan<float> A, int lda,
        ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        const string k = "Gemm.Sgemv";
        Check.Dims(k, (nameof(M), M), (nameof(N), N));
        if (lda < Math.Max(1, N)) throw new ArgumentOutOfRangeException(nameof(lda), lda, $"{k}: lda must be >= max(1, N={N}).");
        Check.Len(k, nameof(A), A, M == 0 || N == 0 ? 0 : (long)(M - 1) * lda + N);
        int xLen = transA ? M : N, yLen = transA ? N : M;
        Check.Len(k, nameof(x), x, xLen);
        Check.Len(k, nameof(y), (ReadOnlySpan<float>)y, yLen);
        Check.Disjoint(k, nameof(x), x[..xLen], nameof(y), y[..yLen]);
        if (yLen == 0) return;
        if (backend == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
            throw new InvalidOperationException("Gemm: OpenBLAS requested but libopenblas.so.0 is not available.");
        fixed (float* a = A) fixed (float* xp = x) fixed (float* yp = y)
        {
            if (backend == GemmBackend.OpenBlas && xLen > 0)
                OpenBlas.Sgemv(transA, M, N, alpha, a, lda, xp, beta, yp);
            else
                ManagedGemv.Sgemv(transA, M, N, alpha, a, lda, xp, beta, yp, _threads);
        }
    }

    static void ValidateGemm(bool transA, bool transB, int M, int N, int K, ReadOnlySpan<float> A, int lda,
        ReadOnlySpan<float> B, int ldb, ReadOnlySpan<float> C, int ldc)
    {
        const string k = "Gemm.Sgemm";
        Check.Dims(k, (nameof(M), M), (nameof(N), N), (nameof(K), K));
        int aRows = transA ? K : M, aCols = transA ? M : K;
        int bRows = transB ? N : K, bCols = transB ? K : N;
        if (lda < Math.Max(1, aCols)) throw new ArgumentOutOfRangeException(nameof(lda), lda, $"{k}: lda must be >= max(1, {aCols}) (transA={transA}).");
        if (ldb < Math.Max(1, bCols)) throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"{k}: ldb must be >= max(1, {bCols}) (transB={transB}).");
        if (ldc < Math.Max(1, N)) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"{k}: ldc must be >= max(1, N={N}).");
        long aNeed = aRows == 0 || aCols == 0 ? 0 : (long)(aRows - 1) * lda + aCols;
        long bNeed = bRows == 0 || bCols == 0 ? 0 : (long)(bRows - 1) * ldb + bCols;
        long cNeed = M == 0 || N == 0 ? 0 : (long)(M - 1) * ldc + N;
        Check.Len(k, "A", A, aNeed);
        Check.Len(k, "B", B, bNeed);
        Check.Len(k, "C", C, cNeed);
        if (M > 0 && N > 0 && K > 0)
        {
            Check.Disjoint(k, "A", A[..(int)aNeed], "C", C[..(int)cNeed]);
            Check.Disjoint(k, "B", B[..(int)bNeed], "C", C[..(int)cNeed]);
        }
    }
}
