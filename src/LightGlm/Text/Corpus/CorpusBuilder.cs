// `lightglm corpus build`: pinned Debian packages -> zh_CN catalogs -> cleaned, deduplicated, split parallel
// corpus + glossary + monolingual manual-page text + stats.json. Same inputs give byte-identical files.
using System.Diagnostics;

namespace LightGlm.Text.Corpus;

public static class CorpusBuilder
{
    public static CorpusPaths Build(CorpusOptions options)
    {
        var log = options.Log ?? (_ => { });
        options.Ratios.Validate();
        string cacheDir = options.ResolvedCacheDir;
        var paths = new CorpusPaths(options.ResolvedOutputDir);
        Directory.CreateDirectory(paths.Dir);
        var sw = Stopwatch.StartNew();

        // 1. Catalogs (and English manual pages) per package.
        List<PackageFiles> packages;
        var cache = new DebCache(cacheDir, log);
        if (options.FromDir is not null)
        {
            if (options.Holdout.Count > 0) throw new ArgumentException("a holdout needs packages: --holdout cannot be combined with --from-dir.");
            packages = CatalogSource.FromDirectory(options.FromDir);
        }
        else
        {
            string listPath = options.ResolvedPackageList;
            var specs = PackageList.Select(PackageList.Read(listPath), listPath, options.Packages, options.Holdout);
            packages = [];
            foreach (var spec in specs)
            {
                packages.Add(CatalogSource.Extract(cache, spec, cacheDir, options.AllowNewer, options.Monolingual));
                log($"[{packages.Count}/{specs.Count}] {spec.Name}: {packages[^1].Catalogs.Count} catalogs, {packages[^1].Manpages.Count} manual pages");
            }
        }
        log($"packages ready in {sw.Elapsed.TotalSeconds:F1}s");

        // 2. Pairs: clean, drop exact duplicates (first package wins), attribute to packages.
        var cleaner = new PairCleaner();
        var seen = new HashSet<TranslationPair>();
        var kept = new List<(string Package, TranslationPair Pair)>();
        var heldOut = new List<(string Package, TranslationPair Pair)>();
        var seenHeldOut = new HashSet<TranslationPair>();
        var pkgStats = new List<PackageStats>();
        int duplicates = 0;
        foreach (var pf in packages)
        {
            // A held-out package's pairs never touch the training pool, not even through deduplication.
            bool holdout = options.Holdout.Contains(pf.Spec.Name);
            var (pool, seenIn) = holdout ? (heldOut, seenHeldOut) : (kept, seen);
            var ps = new PackageStats { Name = pf.Spec.Name, Version = pf.Spec.Version, Sha256 = pf.Spec.Sha256, Catalogs = pf.Catalogs.Count, Holdout = holdout };
            foreach (var mo in pf.Catalogs)
            {
                Gettext.GettextCatalog cat;
                try { cat = Gettext.MoReader.Read(mo); }
                catch (InvalidDataException e) { ps.Errors.Add(e.Message); log($"warning: {e.Message}"); continue; }
                foreach (var m in cat.Messages)
                {
                    ps.Messages++;
                    foreach (var (english, chinese) in MessagePairs(m))
                        foreach (var p in cleaner.Clean(english, chinese))
                        {
                            if (!seenIn.Add(p)) { duplicates++; continue; }
                            pool.Add((pf.Spec.Name, p));
                            ps.Pairs++;
                        }
                }
            }
            pkgStats.Add(ps);
        }
        cleaner.Dropped["duplicate"] = duplicates;

        // 3. Splits by hash of normalised English.
        var splits = new[] { new List<TranslationPair>(), new List<TranslationPair>(), new List<TranslationPair>() };
        var byName = pkgStats.ToDictionary(p => p.Name);
        foreach (var (pkg, p) in kept)
        {
            var s = CorpusSplitter.Assign(p.English, options.Ratios);
            splits[(int)s].Add(p);
            byName[pkg].PerSplit[(int)s]++;
        }
        ParallelCorpus.WriteTsv(paths.Train, splits[0]);
        ParallelCorpus.WriteTsv(paths.Dev, splits[1]);
        ParallelCorpus.WriteTsv(paths.Test, splits[2]);
        var unseen = Unseen(heldOut, splits[0], byName);
        ParallelCorpus.WriteTsv(paths.Unseen, unseen.Pairs);
        var glossary = GlossaryMiner.Mine(kept);
        GlossaryMiner.Write(paths.Glossary, glossary);
        log($"{kept.Count} pairs (train {splits[0].Count}, dev {splits[1].Count}, test {splits[2].Count}), {glossary.Count} glossary terms, {sw.Elapsed.TotalSeconds:F1}s");
        if (options.Holdout.Count > 0)
            log($"unseen: {unseen.Pairs.Count} pairs from {string.Join(", ", options.Holdout)} ({unseen.InTrain} dropped: their English is in train)");

        // 4. Monolingual text from manual pages.
        MonoStats? en = null, zh = null;
        if (options.Monolingual)
        {
            if (!Manpages.ManpageRenderer.Available) log("warning: groff not found; skipping mono.en.txt / mono.zh.txt (install groff-base).");
            else
            {
                var enPages = packages.Where(p => !options.Holdout.Contains(p.Spec.Name)).SelectMany(p => p.Manpages.Select(f => (p.Spec.Name, f))).ToList();
                en = MonoWriter.Write(paths.MonoEnglish, enPages, Path.Combine(cacheDir, "mono", "en"), options.MaxManpages, log);
                var zhPages = ChineseManpages(cache, options, cacheDir, log);
                zh = MonoWriter.Write(paths.MonoChinese, zhPages.Pages, Path.Combine(cacheDir, "mono", "zh"), options.MaxManpages, log);
                zh = zh with { Package = zhPages.Spec?.ToString(), Sha256 = zhPages.Spec?.Sha256 };
            }
        }

        CorpusStats.Write(paths.Stats, options, pkgStats, splits, unseen, cleaner.Dropped, kept.Count, glossary.Count, en, zh);
        log($"corpus written to {paths.Dir} in {sw.Elapsed.TotalSeconds:F1}s");
        return paths;
    }

    /// <summary>
    /// The held-out pairs minus those whose normalised English (<see cref="CorpusSplitter.Normalise"/>) is in train,
    /// so "unseen" is honest; ordered by the split hash (a fixed shuffle), so the first N of unseen.tsv — all an
    /// evaluation capped at N sentences reads — sample every held-out package, not just the first.
    /// </summary>
    static UnseenSplit Unseen(List<(string Package, TranslationPair Pair)> heldOut, List<TranslationPair> train, Dictionary<string, PackageStats> byName)
    {
        var trainEnglish = train.Select(p => CorpusSplitter.Normalise(p.English)).ToHashSet(StringComparer.Ordinal);
        var pairs = new List<(ulong Key, TranslationPair Pair)>();
        int inTrain = 0;
        foreach (var (pkg, p) in heldOut)
        {
            if (trainEnglish.Contains(CorpusSplitter.Normalise(p.English))) { inTrain++; byName[pkg].UnseenInTrain++; continue; }
            pairs.Add((CorpusSplitter.Hash(p.English), p));
            byName[pkg].Unseen++;
        }
        return new UnseenSplit(pairs.OrderBy(x => x.Key).ThenBy(x => x.Pair.English, StringComparer.Ordinal)
            .ThenBy(x => x.Pair.Chinese, StringComparer.Ordinal).Select(x => x.Pair).ToList(), inTrain);
    }

    /// <summary>
    /// The (English, Chinese) texts of one message: msgid with msgstr[0]; for a plural message also
    /// msgid_plural with the last msgstr form (Chinese has one form, which serves both numbers).
    /// </summary>
    public static IEnumerable<(string, string)> MessagePairs(Gettext.GettextEntry m)
    {
        yield return (m.Id, m.Translations[0]);
        if (m.IdPlural is not null) yield return (m.IdPlural, m.Translations[^1]);
    }

    static (PackageSpec? Spec, List<(string, string)> Pages) ChineseManpages(DebCache cache, CorpusOptions o, string cacheDir, Action<string> log)
    {
        var parts = o.ChineseManpages.Split('=', 2);
        var spec = new PackageSpec(parts[0], parts.Length > 1 ? parts[1] : "", "all", "");
        try
        {
            PackageSpec used = spec;
            string dir = Path.Combine(cacheDir, "extract", spec.Name + "_" + spec.Version.Replace(':', '%'));
            if (!File.Exists(Path.Combine(dir, ".done")))
            {
                var (deb, u) = parts.Length > 1 ? cache.Fetch(spec, o.AllowNewer) : cache.Fetch(spec, allowNewer: true);
                used = u;
                if (Directory.Exists(dir)) Directory.Delete(dir, true);
                DebCache.Extract(deb, dir, Manpages.ManpageRenderer.IsChinesePage);
                File.WriteAllText(Path.Combine(dir, ".done"), u.Sha256);
            }
            else used = spec with { Sha256 = File.ReadAllText(Path.Combine(dir, ".done")).Trim() };
            var pages = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(f => !f.EndsWith(".done", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
                .Select(f => (spec.Name, f)).ToList();
            return (used, pages);
        }
        catch (InvalidDataException e)
        {
            log($"warning: Chinese manual pages unavailable: {e.Message}");
            return (null, []);
        }
    }
}
