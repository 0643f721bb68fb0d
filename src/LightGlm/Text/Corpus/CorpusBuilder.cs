// `lightglm corpus build`: pinned Debian packages -> zh_CN catalogs -> cleaned, deduplicated, split parallel
// corpus + glossary + monolingual manual-page text + stats.json. Same inputs give byte-identical files.
using System.Diagnostics;
using LightGlm.IO;

namespace LightGlm.Text.Corpus;

public static class CorpusBuilder
{
    public static CorpusPaths Build(CorpusOptions options)
    {
        var log = options.Log ?? (_ => { });
        options.Ratios.Validate();
        string cacheDir = options.ResolvedCacheDir;
        var paths = new CorpusPaths(options.ResolvedOutputDir);
        RefuseForeignFiles(paths.Dir, cacheDir);
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
            cache.Prefetch(specs.Where(s => !CatalogSource.IsExtracted(s, cacheDir, options.Monolingual)));
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
        if (kept.Count == 0) // nothing usable: an error, and the old corpus (if any) stays
        {
            int catalogs = pkgStats.Sum(p => p.Catalogs), unreadable = pkgStats.Sum(p => p.Errors.Count);
            string first = pkgStats.SelectMany(p => p.Errors).FirstOrDefault() is { } e ? $"; first error: {e}" : "";
            throw new InvalidDataException($"no usable translation pairs: {packages.Count} package(s), {catalogs} catalog(s), {unreadable} unreadable, " +
                                           $"{pkgStats.Sum(p => p.Messages)} message(s), {cleaner.Dropped.Values.Sum()} dropped by cleaning{first}. Nothing was written to {paths.Dir}");
        }

        // 3. Splits by hash of normalised English.
        var splits = new[] { new List<TranslationPair>(), new List<TranslationPair>(), new List<TranslationPair>() };
        var byName = pkgStats.ToDictionary(p => p.Name);
        foreach (var (pkg, p) in kept)
        {
            var s = CorpusSplitter.Assign(p.English, options.Ratios);
            splits[(int)s].Add(p);
            byName[pkg].PerSplit[(int)s]++;
        }
        var unseen = Unseen(heldOut, splits[0], byName);
        // 4. Write everything under DIR.partial, then rename it into place: a killed build leaves the old corpus or the
        // new one, never train/dev/test without stats.json.
        var glossary = GlossaryMiner.Mine(kept);
        log($"{kept.Count} pairs (train {splits[0].Count}, dev {splits[1].Count}, test {splits[2].Count}), {glossary.Count} glossary terms, {sw.Elapsed.TotalSeconds:F1}s");
        if (options.Holdout.Count > 0)
            log($"unseen: {unseen.Pairs.Count} pairs from {string.Join(", ", options.Holdout)} ({unseen.InTrain} dropped: their English is in train)");
        AtomicDirectory.Write(paths.Dir, partial =>
        {
            var tmp = new CorpusPaths(partial);
            ParallelCorpus.WriteTsv(tmp.Train, splits[0]);
            ParallelCorpus.WriteTsv(tmp.Dev, splits[1]);
            ParallelCorpus.WriteTsv(tmp.Test, splits[2]);
            ParallelCorpus.WriteTsv(tmp.Unseen, unseen.Pairs);
            if (options.Holdout.Count > 0) ParallelCorpus.WriteTsv(tmp.UnseenAll, unseen.All);
            GlossaryMiner.Write(tmp.Glossary, glossary);

            // 5. Monolingual text from manual pages.
            MonoStats? en = null, zh = null;
            if (options.Monolingual)
            {
                if (!Manpages.ManpageRenderer.Available) log("warning: groff not found; skipping mono.en.txt / mono.zh.txt (install groff-base).");
                else
                {
                    var enPages = packages.Where(p => !options.Holdout.Contains(p.Spec.Name)).SelectMany(p => p.Manpages.Select(f => (p.Spec.Name, f))).ToList();
                    en = MonoWriter.Write(tmp.MonoEnglish, enPages, Path.Combine(cacheDir, "mono", "en"), options.MaxManpages, log);
                    var zhPages = ChineseManpages(cache, options, cacheDir, log);
                    zh = MonoWriter.Write(tmp.MonoChinese, zhPages.Pages, Path.Combine(cacheDir, "mono", "zh"), options.MaxManpages, log);
                    zh = zh with { Package = zhPages.Spec?.ToString(), Sha256 = zhPages.Spec?.Sha256 };
                }
            }
            CorpusStats.Write(tmp.Stats, options, pkgStats, splits, unseen, cleaner.Dropped, kept.Count, glossary.Count, en, zh);
        });
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
        var all = new List<(ulong Key, TranslationPair Pair)>();
        int inTrain = 0;
        foreach (var (pkg, p) in heldOut)
        {
            all.Add((CorpusSplitter.Hash(p.English), p));
            if (trainEnglish.Contains(CorpusSplitter.Normalise(p.English))) { inTrain++; byName[pkg].UnseenInTrain++; continue; }
            pairs.Add((CorpusSplitter.Hash(p.English), p));
            byName[pkg].Unseen++;
        }
        static List<TranslationPair> Ordered(List<(ulong Key, TranslationPair Pair)> xs) => xs.OrderBy(x => x.Key)
            .ThenBy(x => x.Pair.English, StringComparer.Ordinal).ThenBy(x => x.Pair.Chinese, StringComparer.Ordinal).Select(x => x.Pair).ToList();
        return new UnseenSplit(Ordered(pairs), inTrain, Ordered(all));
    }

    /// <summary>
    /// The output directory is replaced whole when the build completes, so it may hold only a corpus: refuse one with
    /// other files (--out . or --out $HOME would otherwise be swapped for the corpus) or one that holds the cache.
    /// </summary>
    static void RefuseForeignFiles(string dir, string cacheDir)
    {
        string full = Path.GetFullPath(dir).TrimEnd('/') + "/";
        if ((Path.GetFullPath(cacheDir).TrimEnd('/') + "/").StartsWith(full, StringComparison.Ordinal))
            throw new IOException($"--output {dir} holds the package cache {cacheDir}; the corpus directory is replaced whole when written: choose another --output");
        if (!Directory.Exists(dir)) return;
        string[] ours = ["train.tsv", "dev.tsv", "test.tsv", "unseen.tsv", "unseen-all.tsv", "glossary.tsv", "mono.en.txt", "mono.zh.txt", "stats.json"];
        var foreign = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Where(n => !ours.Contains(n)).Take(3).ToList();
        if (foreign.Count > 0)
            throw new IOException($"--output {dir} holds files that are not a corpus ({string.Join(", ", foreign)}); the corpus directory is replaced " +
                                  "whole when written: choose an empty or new directory");
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
                AtomicFile.WriteAllText(Path.Combine(dir, ".done"), u.Sha256);
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
