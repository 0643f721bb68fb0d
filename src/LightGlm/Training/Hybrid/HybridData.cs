// The two labelled sets of hybrid-data fine-tuning from one parallel corpus: D_s = the plentiful direction over most
// pairs, D_d = the scarce direction over a small share of *other* pairs (no string in both), so the low-resource
// setting is real. Also the high-resource reference of Figure 6: the target direction over D_s's pairs.
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Training.Hybrid;

public sealed record HybridSets(List<TaskExample> Source, List<TaskExample> Target, List<(string English, string Chinese)> SourcePairs,
    List<(string English, string Chinese)> TargetPairs);

public static class HybridData
{
    /// <summary>
    /// Pairs ordered by a stable hash of their English; the first n_d = round(|pairs|·f/(1+f)) give D_d in the target
    /// direction (so |D_d| ≈ f·|D_s|), the rest D_s in the source direction. Pairs too long for <paramref name="seqLen"/> drop.
    /// </summary>
    public static HybridSets Split(IReadOnlyList<(string English, string Chinese)> pairs, ITokenizer tok, int seqLen,
        Direction source, Direction target, double targetFraction)
    {
        if (targetFraction <= 0 || double.IsNaN(targetFraction))
            throw new ArgumentOutOfRangeException(nameof(targetFraction), $"the target fraction must be > 0 (|D_d| / |D_s|), got {targetFraction}");
        if (source == target) throw new ArgumentException($"source and target directions are both {source.Name()}: hybrid fine-tuning mixes two different sets");
        int nd = Math.Max(1, (int)Math.Round(pairs.Count * targetFraction / (1 + targetFraction)));
        var order = pairs.OrderBy(p => StableHash(p.English)).ThenBy(p => p.Chinese, StringComparer.Ordinal).ToList();
        var tp = order.Take(nd).ToList();
        var sp = order.Skip(nd).ToList();
        return new HybridSets(new TranslationBatcher(tok, sp, seqLen, [source]).Examples.ToList(),
            new TranslationBatcher(tok, tp, seqLen, [target]).Examples.ToList(), sp, tp);
    }

    /// <summary>FNV-1a over the UTF-16 code units: stable across runs and machines (string.GetHashCode is not).</summary>
    public static ulong StableHash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in s) { h ^= ch; h *= 1099511628211UL; }
        return h;
    }
}
