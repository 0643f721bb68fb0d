// Translation memory: what every localisation tool does before machine translation. A string that was translated
// before (same text up to whitespace and, for English, case) gets its stored translation; only new strings go to
// the model — for a model trained on fuzzy prompts, with the translation of the most similar stored string in its
// prompt (neural fuzzy repair, Bulte & Tezcan 2019). `translate|eval|serve --memory FILE.tsv [--fuzzy auto|on|off]`.
namespace LightGlm.Translation;

/// <summary>A stored translation found for a source text.</summary>
public sealed record MemoryMatch(string Source, string Target, int Occurrences);

/// <summary>How a text was answered: by the model alone, by the model with a fuzzy match in its prompt, or from the memory.</summary>
public enum MemoryUse { Model, FuzzyPrompt, Exact }

/// <summary>Translations in input order and how each was reached.</summary>
public sealed record MemoryTranslation(IReadOnlyList<TranslationResult> Results, IReadOnlyList<MemoryUse> Uses)
{
    public int ExactHits => Uses.Count(u => u == MemoryUse.Exact);
    public int FuzzyHits => Uses.Count(u => u == MemoryUse.FuzzyPrompt);
}

public sealed class TranslationMemory
{
    readonly Dictionary<string, MemoryMatch> _en = new(StringComparer.Ordinal), _zh = new(StringComparer.Ordinal);
    readonly Lazy<FuzzyIndex> _fuzzyEn, _fuzzyZh; // built on the first fuzzy lookup of each direction

    public int Count { get; }

    /// <summary>
    /// Indexes every pair both ways. When one source has several stored translations, the most frequent one is kept
    /// (ties: the first in the file), as a translator picks the established term.
    /// </summary>
    public TranslationMemory(IEnumerable<(string English, string Chinese)> pairs)
    {
        var en = new Dictionary<string, Dictionary<string, (int Count, int First)>>(StringComparer.Ordinal);
        var zh = new Dictionary<string, Dictionary<string, (int Count, int First)>>(StringComparer.Ordinal);
        int n = 0;
        foreach (var (english, chinese) in pairs)
        {
            if (english.Trim().Length == 0 || chinese.Trim().Length == 0) continue;
            Add(en, Key(english, Direction.EnToZh), chinese.Trim(), n);
            Add(zh, Key(chinese, Direction.ZhToEn), english.Trim(), n);
            n++;
        }
        Count = n;
        Fill(en, _en);
        Fill(zh, _zh);
        _fuzzyEn = new(() => new FuzzyIndex(_en.Values, Direction.EnToZh));
        _fuzzyZh = new(() => new FuzzyIndex(_zh.Values, Direction.ZhToEn));

        static void Add(Dictionary<string, Dictionary<string, (int Count, int First)>> d, string key, string target, int i)
        {
            if (!d.TryGetValue(key, out var targets)) d[key] = targets = new(StringComparer.Ordinal);
            targets[target] = targets.TryGetValue(target, out var c) ? (c.Count + 1, c.First) : (1, i);
        }
        static void Fill(Dictionary<string, Dictionary<string, (int Count, int First)>> from, Dictionary<string, MemoryMatch> to)
        {
            foreach (var (key, targets) in from)
            {
                var best = targets.OrderByDescending(t => t.Value.Count).ThenBy(t => t.Value.First).First();
                to[key] = new MemoryMatch(key, best.Key, best.Value.Count);
            }
        }
    }

    /// <summary>A parallel TSV (english&lt;TAB&gt;chinese, e.g. a corpus's train.tsv) as a memory; names the file when it is unusable.</summary>
    public static TranslationMemory Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"translation memory '{path}' not found: give a TSV of english<TAB>chinese lines (e.g. a corpus's train.tsv)", path);
        var memory = new TranslationMemory(ParallelTsv.Read(path));
        if (memory.Count == 0) throw new InvalidDataException($"translation memory '{path}' has no english<TAB>chinese pair");
        return memory;
    }

    /// <summary>The stored translation of <paramref name="text"/> in direction <paramref name="d"/>, or null.</summary>
    public MemoryMatch? Lookup(string text, Direction d) =>
        (d == Direction.EnToZh ? _en : _zh).TryGetValue(Key(text, d), out var m) ? m : null;

    /// <summary>
    /// The stored pair whose source is most like <paramref name="text"/> (<see cref="FuzzyIndex"/>: score ≥
    /// <paramref name="threshold"/>), never one with the same normalised source (that is <see cref="Lookup"/>'s); or null.
    /// </summary>
    public FuzzyMatch? Fuzzy(string text, Direction d, double threshold = FuzzyIndex.DefaultThreshold) =>
        (d == Direction.EnToZh ? _fuzzyEn : _fuzzyZh).Value.Best(text, threshold);

    /// <summary>Whitespace collapsed; English also lower-cased (a UI string's case rarely changes its Chinese).</summary>
    internal static string Key(string text, Direction d)
    {
        var k = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return d == Direction.EnToZh ? k.ToLowerInvariant() : k;
    }

    /// <summary>
    /// Translates through the memory first: hits take the stored translation (0 ms, no tokens), the rest go to
    /// <paramref name="translator"/> in one call — with <paramref name="fuzzyThreshold"/>, each with the translation of
    /// its best fuzzy match (if one scores that high) for the prompt, which the translator drops when it does not fit.
    /// </summary>
    public MemoryTranslation Translate(GlmTranslator translator, IReadOnlyList<string> texts, Direction d,
        int maxNewTokens, int beam = 0, double? fuzzyThreshold = null)
    {
        var results = new TranslationResult[texts.Count];
        var uses = new MemoryUse[texts.Count];
        var misses = new List<int>();
        for (int i = 0; i < texts.Count; i++)
            if (Lookup(texts[i], d) is { } m) { results[i] = new TranslationResult(m.Target, [], Stopped: true, Milliseconds: 0); uses[i] = MemoryUse.Exact; }
            else misses.Add(i);
        if (misses.Count > 0)
        {
            var matches = fuzzyThreshold is { } t ? misses.Select(i => Fuzzy(texts[i], d, t)?.Target).ToList() : null;
            var model = translator.Translate(misses.Select(i => texts[i]).ToList(), d, maxNewTokens, beam, matches);
            for (int j = 0; j < misses.Count; j++)
            {
                results[misses[j]] = model[j];
                uses[misses[j]] = model[j].WithMatch ? MemoryUse.FuzzyPrompt : MemoryUse.Model;
            }
        }
        return new MemoryTranslation(results, uses);
    }
}
