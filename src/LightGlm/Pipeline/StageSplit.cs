// Contiguous layer ranges of a K-stage pipeline: stage s owns layers [Bounds[s], Bounds[s+1]).
namespace LightGlm.Pipeline;

public sealed record StageSplit(int[] Bounds)
{
    public int Stages => Bounds.Length - 1;
    public int Layers => Bounds[^1];
    public (int First, int End) Range(int stage) => (Bounds[stage], Bounds[stage + 1]);

    /// <summary>As even as possible: stage s gets layers [⌊L·s/K⌋, ⌊L·(s+1)/K⌋).</summary>
    public static StageSplit Even(int layers, int stages)
    {
        if (stages < 1 || stages > layers)
            throw new ArgumentException($"cannot split {layers} layers into {stages} stages: need 1 <= stages <= layers");
        var b = new int[stages + 1];
        for (int s = 0; s <= stages; s++) b[s] = (int)((long)layers * s / stages);
        return new StageSplit(b);
    }

    /// <summary>Parses "0,3,6,8" (bounds) as printed by <see cref="ToString"/>, checking it covers 0..layers.</summary>
    public static StageSplit Parse(string text, int layers)
    {
        var b = text.Split(',', StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        if (b.Length < 2 || b[0] != 0 || b[^1] != layers || b.Zip(b.Skip(1)).Any(p => p.First >= p.Second))
            throw new FormatException($"stage split '{text}' must be increasing layer bounds from 0 to {layers}, e.g. 0,{layers / 2},{layers}");
        return new StageSplit(b);
    }

    public override string ToString() => string.Join(',', Bounds);
}
