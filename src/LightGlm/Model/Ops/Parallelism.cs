// The model's name for the one parallel policy, LightGlm.Kernels.KernelParallel (same degree, same split rules).
using LightGlm.Kernels;

namespace LightGlm.Model.Ops;

/// <summary>
/// Forwards to <see cref="KernelParallel"/>: there is one thread degree for every non-GEMM loop of the engine (kernels
/// and the model's own loops), and nested parallel loops run serially. Kept for callers that split work per item.
/// </summary>
internal static class Parallelism
{
    /// <summary>Below this many multiply-adds per chunk, do not split further (a fork costs a few µs).</summary>
    const long MinWork = 1 << 15;

    /// <summary>Threads used by non-GEMM loops (= <see cref="KernelParallel.Degree"/>); 1 = serial. Set by --threads.</summary>
    public static int MaxThreads
    {
        get => KernelParallel.Degree;
        set => KernelParallel.Degree = value;
    }

    /// <summary>Runs body(i) for i in [0, count) through <see cref="KernelParallel.For(int,int,Action{int,int})"/>.</summary>
    public static void For(int count, long workPerItem, Action<int> body)
    {
        int grain = (int)Math.Clamp(MinWork / Math.Max(1, workPerItem), 1, int.MaxValue);
        KernelParallel.For(count, grain, (i0, i1) => { for (int i = i0; i < i1; i++) body(i); });
    }
}
