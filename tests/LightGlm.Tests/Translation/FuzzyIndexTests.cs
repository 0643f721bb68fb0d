// Fuzzy matching: the CAT-tool score over tokens, the inverted index against a scan of every entry, exclusion of the
// query's own source, and the training matches (chosen fraction, cache) built on it.
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public sealed class FuzzyIndexTests
{
    [Fact]
    public void EditDistanceCountsInsertionsDeletionsAndSubstitutions()
    {
        int[] kitten = [1, 2, 3, 3, 4, 5], sitting = [6, 2, 3, 3, 2, 5, 7];
        Assert.Equal(3, FuzzyIndex.EditDistance(kitten, sitting));
        Assert.Equal(3, FuzzyIndex.EditDistance(sitting, kitten));
        Assert.Equal(0, FuzzyIndex.EditDistance(kitten, kitten));
        Assert.Equal(6, FuzzyIndex.EditDistance(kitten, []));
        Assert.Equal(1, FuzzyIndex.EditDistance([1, 2, 3], [1, 3]));
        // Beyond maxDistance the answer is only "more": maxDistance + 1.
        Assert.Equal(2, FuzzyIndex.EditDistance(kitten, sitting, maxDistance: 1));
        Assert.Equal(3, FuzzyIndex.EditDistance(kitten, sitting, maxDistance: 3));
        var rng = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            var a = Enumerable.Range(0, rng.Next(0, 9)).Select(_ => rng.Next(4)).ToArray();
            var b = Enumerable.Range(0, rng.Next(0, 9)).Select(_ => rng.Next(4)).ToArray();
            int d = FuzzyIndex.EditDistance(a, b);
            Assert.Equal(NaiveDistance(a, b), d);
            for (int max = 0; max <= 9; max++) Assert.Equal(d <= max ? d : max + 1, FuzzyIndex.EditDistance(a, b, max));
        }
    }

    static int NaiveDistance(int[] a, int[] b) // the recursive definition
    {
        var memo = new Dictionary<(int, int), int>();
        int D(int i, int j) => i == 0 ? j : j == 0 ? i : memo.TryGetValue((i, j), out int v) ? v
            : memo[(i, j)] = Math.Min(Math.Min(D(i - 1, j) + 1, D(i, j - 1) + 1), D(i - 1, j - 1) + (a[i - 1] == b[j - 1] ? 0 : 1));
        return D(a.Length, b.Length);
    }

    [Fact]
    public void TheScoreIsOneMinusTokenEditDistanceOverTheLongerLength()
    {
        // English: lower-cased words, each punctuation mark a token, spaces ignored.
        Assert.Equal(["can", "'", "t", "open", "'", "file", ".", "txt", "'"], FuzzyIndex.Tokenize("Can't  OPEN 'file.txt'", Direction.EnToZh));
        Assert.Equal(1 - 1 / 3.0, FuzzyIndex.Score("Open the file", "open a file", Direction.EnToZh), 12);
        Assert.Equal(1 - 2 / 5.0, FuzzyIndex.Score("Cannot open file", "cannot open the file.", Direction.EnToZh), 12);
        Assert.Equal(1.0, FuzzyIndex.Score("Save  As", "save as", Direction.EnToZh));
        Assert.Equal(0.0, FuzzyIndex.Score("Quit", "Save", Direction.EnToZh));
        // Chinese: every non-space character.
        Assert.Equal(["打", "开", "%", "s"], FuzzyIndex.Tokenize("打开 %s", Direction.ZhToEn));
        Assert.Equal(1 - 1 / 5.0, FuzzyIndex.Score("打开文件", "打开文件夹", Direction.ZhToEn), 12);
        Assert.Equal(1 - 2 / 4.0, FuzzyIndex.Score("打开文件", "保存文件", Direction.ZhToEn), 12);
    }

    /// <summary>The index returns exactly what a scan of every entry returns: the highest score ≥ the threshold (ties: the
    /// lower entry), never the query's own source — on random small memories over a tiny vocabulary, so that near misses,
    /// ties and repeated tokens are common.</summary>
    [Theory]
    [InlineData(Direction.EnToZh, 0.3)]
    [InlineData(Direction.EnToZh, 0.5)]
    [InlineData(Direction.EnToZh, 0.75)]
    [InlineData(Direction.ZhToEn, 0.5)]
    [InlineData(Direction.ZhToEn, 0.6)]
    public void TheIndexFindsTheSameBestMatchAsABruteForceScan(Direction d, double threshold)
    {
        string[] words = d == Direction.EnToZh ? ["open", "File", "the", "save", "a", ".", "disk", "%s"] : ["打", "开", "文", "件", "保", "存", "。", "盘"];
        string sep = d == Direction.EnToZh ? " " : "";
        var rng = new Random(d == Direction.EnToZh ? 11 : 12);
        string Text() => string.Join(sep, Enumerable.Range(0, rng.Next(1, 8)).Select(_ => words[rng.Next(words.Length)]));
        int found = 0, compared = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            var sources = Enumerable.Range(0, rng.Next(5, 60)).Select(_ => Text()).ToList();
            var pairs = sources.Select((s, i) => d == Direction.EnToZh ? (s, $"t{i}") : ($"t{i}", s)).ToList();
            var tm = new TranslationMemory(pairs);
            var index = new FuzzyIndex(EntriesOf(tm, pairs, d), d);
            for (int q = 0; q < 25; q++)
            {
                // Half the queries are stored sources with one token changed: near and exact matches, not only random ones.
                string query = q % 2 == 0 ? Text() : Mutate(sources[rng.Next(sources.Count)], words, sep, rng);
                var expected = Oracle(index.Entries, query, d, threshold);
                var actual = tm.Fuzzy(query, d, threshold);
                Assert.Equal(expected?.Source, actual?.Source);
                Assert.Equal(expected?.Score, actual?.Score);
                Assert.Equal(expected?.Target, actual?.Target);
                compared++;
                if (actual is not null) found++;
            }
        }
        Assert.True(found > compared / 8, $"only {found} of {compared} queries had a match: the test would not test the index");
    }

    static IEnumerable<MemoryMatch> EntriesOf(TranslationMemory tm, List<(string, string)> pairs, Direction d) =>
        pairs.Select(p => tm.Lookup(d == Direction.EnToZh ? p.Item1 : p.Item2, d)!).DistinctBy(m => m.Source);

    static string Mutate(string text, string[] words, string sep, Random rng)
    {
        var t = (sep.Length > 0 ? text.Split(sep) : text.Select(c => c.ToString()).ToArray()).ToList();
        t[rng.Next(t.Count)] = words[rng.Next(words.Length)];
        return string.Join(sep, t);
    }

    static FuzzyMatch? Oracle(IReadOnlyList<MemoryMatch> entries, string query, Direction d, double threshold)
    {
        string key = string.Join(' ', query.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (d == Direction.EnToZh) key = key.ToLowerInvariant();
        FuzzyMatch? best = null;
        foreach (var e in entries)
        {
            if (e.Source == key) continue;
            double s = FuzzyIndex.Score(query, e.Source, d);
            if (s >= threshold && (best is null || s > best.Score)) best = new FuzzyMatch(e.Source, e.Target, s);
        }
        return best;
    }

    [Fact]
    public void AQueryNeverRetrievesAPairWithItsOwnNormalisedSource()
    {
        var tm = new TranslationMemory([("Open file", "打开文件"), ("open   FILE", "打开文件。"), ("Open files", "打开多个文件"), ("Quit", "退出")]);
        var m = tm.Fuzzy("Open File", Direction.EnToZh)!;
        Assert.Equal("open files", m.Source); // not "open file", its own normalised source, though that scores 1
        Assert.Equal("打开多个文件", m.Target);
        Assert.Equal(1 / 2.0, m.Score, 12); // [open, file] vs [open, files]
        Assert.Null(tm.Fuzzy("Quit", Direction.EnToZh)); // nothing else is similar enough
        Assert.Equal("打开文件", tm.Fuzzy("打开多个文件", Direction.ZhToEn)!.Source);
        Assert.Throws<ArgumentOutOfRangeException>(() => tm.Fuzzy("Quit", Direction.EnToZh, threshold: 0));

        // Training matches: pair 0's match may not be pair 1 (the same source up to case and spaces) — it is pair 2.
        var pairs = new List<(string, string)> { ("Open file", "打开文件"), ("open   FILE", "打开文件。"), ("Open files", "打开多个文件"), ("Quit", "退出") };
        var found = FuzzyTrainingMatches.Find(pairs, fraction: 1, threshold: 0.5, seed: 1);
        Assert.Equal("打开多个文件", found[0]!.EnToZh);
        Assert.Equal("打开多个文件", found[1]!.EnToZh);
        Assert.Equal("打开文件", found[2]!.EnToZh); // "open files" → "open file", whose established translation is pair 0's (a tie, the first)
        Assert.Null(found[3]);
    }

    [Fact]
    public void TheChosenFractionIsDeterministicAndAboutRight()
    {
        foreach (double f in new[] { 0.0, 0.25, 0.5, 1.0 })
        {
            int chosen = 0;
            for (int i = 0; i < 10_000; i++)
                foreach (var d in Directions.Both)
                {
                    bool c = FuzzyTrainingMatches.Chosen(i, d, f, seed: 42);
                    Assert.Equal(c, FuzzyTrainingMatches.Chosen(i, d, f, seed: 42));
                    if (c) chosen++;
                }
            Assert.InRange(chosen / 20_000.0, f - 0.02, f + 0.02);
        }
        var a = Enumerable.Range(0, 200).Select(i => FuzzyTrainingMatches.Chosen(i, Direction.EnToZh, 0.5, 1)).ToList();
        var b = Enumerable.Range(0, 200).Select(i => FuzzyTrainingMatches.Chosen(i, Direction.EnToZh, 0.5, 2)).ToList();
        Assert.NotEqual(a, b); // the seed matters
    }

    [Fact]
    public void TrainingMatchesAreCachedAndACacheOfOtherSettingsIsNotUsed()
    {
        var pairs = new List<(string, string)> { ("Open file", "打开文件"), ("Open files", "打开多个文件"), ("Save file", "保存文件"), ("Quit", "退出") };
        string dir = Directory.CreateTempSubdirectory("lightglm-fuzzy-").FullName;
        try
        {
            string cache = Path.Combine(dir, "fuzzy.tsv");
            var first = FuzzyTrainingMatches.Cached(cache, pairs, 1, 0.5, 7);
            Assert.Equal(FuzzyTrainingMatches.Find(pairs, 1, 0.5, 7), first);
            Assert.True(File.Exists(cache));
            // Read back: a hand-edited line shows the file is what is read.
            File.WriteAllText(cache, File.ReadAllText(cache).Replace("打开多个文件", "EDITED"));
            Assert.Contains(FuzzyTrainingMatches.Cached(cache, pairs, 1, 0.5, 7), m => m?.EnToZh == "EDITED");
            // Another threshold: found again (and the file rewritten).
            var strict = FuzzyTrainingMatches.Cached(cache, pairs, 1, 0.9, 7);
            Assert.All(strict, Assert.Null);
            Assert.DoesNotContain("EDITED", File.ReadAllText(cache));
            // A bad line names the file.
            File.AppendAllText(cache, "x\ty\n");
            var e = Assert.Throws<InvalidDataException>(() => FuzzyTrainingMatches.Cached(cache, pairs, 1, 0.9, 7));
            Assert.Contains(cache, e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
