// Assigns pairs to train/dev/test by a hash of the normalised English, so one English string never
// lands in two splits (its variants across packages stay together).
namespace LightGlm.Text.Corpus;

public enum Split { Train, Dev, Test }

public sealed record SplitRatios(double Train, double Dev, double Test)
{
    /// <summary>The paper's Table 1 proportions.</summary>
    public static readonly SplitRatios Default = new(0.90, 0.05, 0.05);

    public SplitRatios Validate()
    {
        if (Train < 0 || Dev < 0 || Test < 0 || Math.Abs(Train + Dev + Test - 1) > 1e-6)
            throw new ArgumentException($"split ratios must be non-negative and sum to 1, got {Train}/{Dev}/{Test}.");
        return this;
    }

    /// <summary>Parses "90/5/5" or "0.9,0.05,0.05" (percentages or fractions).</summary>
    public static SplitRatios Parse(string s)
    {
        var f = s.Split(['/', ','], StringSplitOptions.TrimEntries);
        if (f.Length != 3 || !f.All(x => double.TryParse(x, System.Globalization.CultureInfo.InvariantCulture, out _)))
            throw new FormatException($"--ratios '{s}': expected three numbers like 90/5/5.");
        var v = f.Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        double sum = v.Sum();
        if (sum <= 0) throw new FormatException($"--ratios '{s}': the numbers must sum to more than 0.");
        return new SplitRatios(v[0] / sum, v[1] / sum, v[2] / sum).Validate();
    }
}

public static class CorpusSplitter
{
    /// <summary>Lower-cased, whitespace-collapsed English: the identity that must not cross splits.</summary>
    public static string Normalise(string english) => PairCleaner.NormalizeWhitespace(english).ToLowerInvariant();

    /// <summary>u = FNV-1a-64(UTF-8 of normalised English) / 2^64; train if u &lt; r_train, dev if u &lt; r_train + r_dev, else test.</summary>
    public static Split Assign(string english, SplitRatios ratios)
    {
        double u = (Hash(english) >> 11) * (1.0 / (1UL << 53));
        return u < ratios.Train ? Split.Train : u < ratios.Train + ratios.Dev ? Split.Dev : Split.Test;
    }

    /// <summary>FNV-1a-64 of the UTF-8 of the normalised English, through a splitmix64 finaliser.</summary>
    public static ulong Hash(string english)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(Normalise(english)))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        // Finaliser (splitmix64) so short, similar strings spread uniformly.
        h ^= h >> 30; h *= 0xbf58476d1ce4e5b9UL; h ^= h >> 27; h *= 0x94d049bb133111ebUL; h ^= h >> 31;
        return h;
    }

    /// <summary>Splits pairs (order kept within each split).</summary>
    public static (List<TranslationPair> Train, List<TranslationPair> Dev, List<TranslationPair> Test) Apply(IEnumerable<TranslationPair> pairs, SplitRatios ratios)
    {
        var r = (new List<TranslationPair>(), new List<TranslationPair>(), new List<TranslationPair>());
        foreach (var p in pairs)
            (Assign(p.English, ratios) switch { Split.Train => r.Item1, Split.Dev => r.Item2, _ => r.Item3 }).Add(p);
        return r;
    }
}
