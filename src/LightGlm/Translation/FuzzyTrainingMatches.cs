// Fuzzy matches for training (neural fuzzy repair, Bulte & Tezcan 2019): a chosen fraction of a corpus's examples get, in
// their prompt, the translation of the pair whose source is most like theirs — found in the corpus itself, never a pair
// with the same normalised source (that would teach copying; at inference an exact match never reaches the model).
// Found once and cached in a file keyed by the corpus and the settings, so a resumed run reads them back.
using System.Security.Cryptography;
using System.Text;
using LightGlm.IO;

namespace LightGlm.Translation;

public static class FuzzyTrainingMatches
{
    /// <summary>
    /// One entry per pair (null = no match in either direction): for each direction chosen by <see cref="Chosen"/>, the
    /// target of its best fuzzy match with a score ≥ <paramref name="threshold"/>, when one exists. Deterministic.
    /// </summary>
    public static PairMatches?[] Find(IReadOnlyList<(string English, string Chinese)> pairs, double fraction, double threshold, ulong seed)
    {
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the fraction of examples given a fuzzy match must be in [0, 1]");
        var memory = new TranslationMemory(pairs);
        var result = new PairMatches?[pairs.Count];
        if (fraction == 0) return result;
        LightGlm.Kernels.KernelParallel.For(pairs.Count, 64, (a, b) =>
        {
            for (int i = a; i < b; i++)
            {
                string? Match(Direction d, string source) => Chosen(i, d, fraction, seed) ? memory.Fuzzy(source, d, threshold)?.Target : null;
                var (en, zh) = (Match(Direction.EnToZh, pairs[i].English), Match(Direction.ZhToEn, pairs[i].Chinese));
                result[i] = en is null && zh is null ? null : new PairMatches(en, zh);
            }
        });
        return result;
    }

    /// <summary>Whether example (pair, direction) is one of the <paramref name="fraction"/> given a match: a hash of (seed, pair, direction) below it.</summary>
    public static bool Chosen(int pair, Direction d, double fraction, ulong seed)
    {
        // SplitMix64's finaliser over the three: uniform 53-bit fractions, the same on every machine.
        ulong z = LightGlm.Model.Rng.Mix(seed * 0x9E3779B97F4A7C15UL + (ulong)pair * 2 + (d == Direction.EnToZh ? 0UL : 1UL) + 0x632BE59BD9B4E019UL);
        return (z >> 11) * (1.0 / (1UL << 53)) < fraction;
    }

    /// <summary>
    /// <see cref="Find"/>, read back from <paramref name="cachePath"/> when that file was written for the same pairs and
    /// settings, else found and written there (one line per pair with a match: index, en→zh match, zh→en match).
    /// </summary>
    public static PairMatches?[] Cached(string cachePath, IReadOnlyList<(string English, string Chinese)> pairs, double fraction, double threshold, ulong seed)
    {
        string header = $"# fuzzy matches v1 pairs={pairs.Count} sha256={Hash(pairs)} fraction={fraction:R} threshold={threshold:R} seed={seed}";
        if (File.Exists(cachePath) && File.ReadLines(cachePath).FirstOrDefault() == header)
        {
            var read = new PairMatches?[pairs.Count];
            foreach (var line in File.ReadLines(cachePath).Skip(1))
            {
                var f = line.Split('\t');
                if (f.Length != 3 || !int.TryParse(f[0], out int i) || i < 0 || i >= pairs.Count)
                    throw new InvalidDataException($"{cachePath}: bad line '{line}' (index<TAB>en→zh match<TAB>zh→en match); delete the file and it is found again");
                read[i] = new PairMatches(f[1].Length > 0 ? f[1] : null, f[2].Length > 0 ? f[2] : null);
            }
            return read;
        }
        var found = Find(pairs, fraction, threshold, seed);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(cachePath))!);
        AtomicFile.WriteText(cachePath, w =>
        {
            w.Write(header + "\n");
            for (int i = 0; i < found.Length; i++)
                if (found[i] is { } m) w.Write($"{i}\t{Clean(m.EnToZh)}\t{Clean(m.ZhToEn)}\n");
        });
        return found;

        static string Clean(string? s) => (s ?? "").Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
    }

    static string Hash(IReadOnlyList<(string English, string Chinese)> pairs)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (en, zh) in pairs) sha.AppendData(Encoding.UTF8.GetBytes(en + "\t" + zh + "\n"));
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }
}
