// The one parallel policy for non-GEMM kernel work: an index range split into contiguous chunks over a fixed degree.
// Results never depend on the split: each index is computed by exactly one chunk, and reductions are done per index.
namespace LightGlm.Kernels;

/// <summary>Splits loops over cores. Degree defaults to the core count or env <c>LIGHTGLM_THREADS</c>.</summary>
public static class KernelParallel
{
    static int _degree = InitialDegree();
    static ParallelOptions _options = new() { MaxDegreeOfParallelism = _degree };

    [ThreadStatic] static bool _inside;

    /// <summary>Maximum number of threads a kernel uses (>= 1). Nested calls run serially.</summary>
    public static int Degree
    {
        get => _degree;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "KernelParallel.Degree must be >= 1.");
            _degree = value;
            _options = new ParallelOptions { MaxDegreeOfParallelism = value };
        }
    }

    static int InitialDegree()
    {
        var env = Environment.GetEnvironmentVariable("LIGHTGLM_THREADS");
        return int.TryParse(env, out int n) && n > 0 ? n : Environment.ProcessorCount;
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in contiguous chunks of at least
    /// <paramref name="minGrain"/> indices (the caller's estimate of where threading pays off).
    /// Serial when the degree is 1, the range is small, or when already inside a parallel body.
    /// </summary>
    public static void For(int count, int minGrain, Action<int, int> body) => For(count, minGrain, body, _degree);

    /// <summary>As <see cref="For(int,int,Action{int,int})"/> with at most <paramref name="maxDegree"/> threads.</summary>
    public static void For(int count, int minGrain, Action<int, int> body, int maxDegree)
    {
        if (count <= 0) return;
        int degree = Math.Min(_degree, Math.Max(1, maxDegree));
        int byGrain = count / Math.Max(1, minGrain);
        int chunks = Math.Min(Math.Min(byGrain, degree * 4), count);
        if (degree <= 1 || chunks <= 1 || _inside)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, chunks, _options, c =>
        {
            int start = (int)((long)count * c / chunks), end = (int)((long)count * (c + 1) / chunks);
            bool was = _inside;
            _inside = true;
            try { body(start, end); }
            finally { _inside = was; }
        });
    }

    /// <summary>
    /// True when <see cref="For(int,int,Action{int,int})"/> would split [0, count) over threads. Hot per-token callers
    /// use it to run the serial case without building a closure (no allocation per call).
    /// </summary>
    public static bool Splits(int count, int minGrain)
    {
        int chunks = Math.Min(Math.Min(count / Math.Max(1, minGrain), _degree * 4), count);
        return _degree > 1 && chunks > 1 && !_inside;
    }

    /// <summary>True while the current thread runs inside a <see cref="For"/> body.</summary>
    public static bool IsInside => _inside;
}
