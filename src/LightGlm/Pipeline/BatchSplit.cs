// Splits a batch of rows into contiguous parts (data-parallel shards, then micro-batches) the same
// way on every rank and thread: part p gets rows [⌊n·p/P⌋, ⌊n·(p+1)/P⌋).
namespace LightGlm.Pipeline;

public static class BatchSplit
{
    /// <summary>(start, count) of part <paramref name="part"/> of <paramref name="parts"/> over <paramref name="rows"/> rows.</summary>
    public static (int Start, int Count) Part(int rows, int parts, int part)
    {
        if (parts < 1 || part < 0 || part >= parts) throw new ArgumentOutOfRangeException(nameof(part), $"part {part} of {parts}");
        if (rows < parts) throw new ArgumentException($"cannot split {rows} rows into {parts} non-empty parts; use a larger batch or fewer micro-batches/replicas");
        int a = (int)((long)rows * part / parts), b = (int)((long)rows * (part + 1) / parts);
        return (a, b - a);
    }
}
