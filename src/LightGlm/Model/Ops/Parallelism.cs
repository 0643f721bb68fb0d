// The model's one parallel policy: split independent rows over cores only when the work is worth a fork.
namespace LightGlm.Model.Ops;

internal static class Parallelism
{
    /// <summary>Below this many multiply-adds in total, run on the calling thread (a fork costs ~µs).</summary>
    const long MinWork = 1 << 15;

    /// <summary>Threads used by model loops; 1 = serial. Set by the CLI's --threads.</summary>
    public static int MaxThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>Runs body(i) for i in [0, count), in parallel when count·workPerItem is large enough.</summary>
    public static void For(int count, long workPerItem, Action<int> body)
    {
        if (count <= 1 || MaxThreads <= 1 || count * workPerItem < MinWork)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxThreads }, body);
    }
}
