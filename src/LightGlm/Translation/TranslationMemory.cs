// Translation memory: what every localisation tool does before machine translation. A string that was translated
// before (same text up to whitespace and, for English, case) gets its stored translation; only new strings go to
// the model. `translate|eval --memory FILE.tsv`.
namespace LightGlm.Translation;

/// <summary>A stored translation found for a source text.</summary>
public sealed record MemoryMatch(string Source, string Target, int Occurrences);

public sealed class TranslationMemory
{
    readonly Dictionary<string, MemoryMatch> _en = new(StringComparer.Ordinal), _zh = new(StringComparer.Ordinal);

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

    /// <summary>Whitespace collapsed; English also lower-cased (a UI string's case rarely changes its Chinese).</summary>
    static string Key(string text, Direction d)
    {
        var k = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return d == Direction.EnToZh ? k.ToLowerInvariant() : k;
    }

    /// <summary>
    /// Translates through the memory first: hits take the stored translation (0 ms, no tokens), the rest go to
    /// <paramref name="translator"/> in one call. Returns the results in input order and the number of hits.
    /// </summary>
    public (IReadOnlyList<TranslationResult> Results, int Hits) Translate(GlmTranslator translator, IReadOnlyList<string> texts, Direction d,
        int maxNewTokens, int beam = 0)
    {
        var results = new TranslationResult[texts.Count];
        var misses = new List<int>();
        for (int i = 0; i < texts.Count; i++)
            if (Lookup(texts[i], d) is { } m) results[i] = new TranslationResult(m.Target, [], Stopped: true, Milliseconds: 0);
            else misses.Add(i);
        if (misses.Count > 0)
        {
            var model = translator.Translate(misses.Select(i => texts[i]).ToList(), d, maxNewTokens, beam);
            for (int j = 0; j < misses.Count; j++) results[misses[j]] = model[j];
        }
        return (results, texts.Count - misses.Count);
    }
}
