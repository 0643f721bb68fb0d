// `lightglm corpus build|stats|split|verify`: the parallel corpus of computer language from Debian's catalogs.
using System.CommandLine;
using System.Text.Json;
using LightGlm.Text.Corpus;
using LightGlm.Text.Gettext;

namespace LightGlm.Cli.Commands;

public sealed class CorpusBuildCommand : ICliCommand
{
    public string[] Path => ["corpus", "build"];

    public Command Build()
    {
        var packages = new Option<string?>("--packages") { Description = "Pinned package list (default data/debian-catalogs.txt in the repository)" };
        var output = new Option<string?>("--output", "-o") { Description = "Output folder (default .cache/lightglm/corpus or $LIGHTGLM_CACHE/corpus)" };
        var cache = new Option<string?>("--cache") { Description = "Cache folder for .debs, extracted files and rendered pages (default $LIGHTGLM_CACHE or .cache/lightglm)" };
        var fromDir = new Option<string?>("--from-dir") { Description = "Read zh_CN/zh_Hans catalogs installed under this folder (e.g. /usr/share/locale) instead of fetching packages" };
        var allowNewer = new Option<bool>("--allow-newer") { Description = "When a pinned version has left the archive, take the current one (recorded in stats.json)" };
        var ratios = new Option<string>("--ratios") { Description = "train/dev/test proportions", DefaultValueFactory = _ => "90/5/5" };
        var noMono = new Option<bool>("--no-mono") { Description = "Skip the monolingual manual-page text" };
        var maxPages = new Option<int?>("--max-manpages") { Description = "At most this many manual pages per language" };
        var only = new Option<string?>("--only") { Description = "Only these packages of the list, PKG[,PKG] (default: all)" };
        var holdout = new Option<string?>("--holdout") { Description = "Hold these packages out of train/dev/test, PKG[,PKG]: their pairs (minus English seen in train) go to unseen.tsv" };
        var cmd = new Command("build", "Fetch the pinned Debian packages, read their Chinese catalogs and write train/dev/test TSV, glossary, mono text and stats.")
        {
            packages, output, cache, fromDir, allowNewer, ratios, noMono, maxPages, only, holdout,
        };
        cmd.SetAction(r =>
        {
            var opts = new CorpusOptions
            {
                PackageList = r.GetValue(packages), OutputDir = r.GetValue(output), CacheDir = r.GetValue(cache),
                FromDir = r.GetValue(fromDir), AllowNewer = r.GetValue(allowNewer), Ratios = Ratios(r.GetValue(ratios)!),
                Monolingual = !r.GetValue(noMono), MaxManpages = r.GetValue(maxPages), Log = m => Console.Error.WriteLine("corpus: " + m),
                Packages = Names(r.GetValue(only)), Holdout = Names(r.GetValue(holdout)),
            };
            if (opts.FromDir is not null && opts.Holdout.Count > 0) throw new CliException("--holdout needs packages; it cannot be combined with --from-dir.");
            if (opts.FromDir is null && !File.Exists(opts.ResolvedPackageList))
                throw new CliException($"package list not found: {opts.ResolvedPackageList}. Run from inside the repository (data/debian-catalogs.txt), pass --packages FILE, or use --from-dir /usr/share/locale.");
            var paths = CorpusBuilder.Build(opts);
            Console.WriteLine(paths.Dir);
            return 0;
        });
        return cmd;
    }

    static string[] Names(string? csv) => csv?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    internal static SplitRatios Ratios(string s)
    {
        try { return SplitRatios.Parse(s); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new CliException(e.Message); }
    }
}

public sealed class CorpusStatsCommand : ICliCommand
{
    public string[] Path => ["corpus", "stats"];

    public Command Build()
    {
        var dir = new Option<string?>("--corpus") { Description = "Corpus folder (default .cache/lightglm/corpus)" };
        var cmd = new Command("stats", "Print a built corpus's statistics: pairs per split and package, characters per language, drops per rule.") { dir };
        cmd.SetAction(r =>
        {
            var paths = new CorpusPaths(r.GetValue(dir) ?? RepoPaths.DefaultCorpusDir);
            if (!File.Exists(paths.Stats)) throw new CliException($"{paths.Stats} not found; run `lightglm corpus build` first.");
            try { PrintStats(paths); }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new CliException($"{paths.Stats}: not a stats.json written by `lightglm corpus build` ({e.Message}); build the corpus again");
            }
            return 0;
        });
        return cmd;
    }

    static void PrintStats(CorpusPaths paths)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(paths.Stats));
        var root = doc.RootElement;
        Console.WriteLine($"corpus {paths.Dir}: {root.GetProperty("pairs").GetInt32()} pairs from {root.GetProperty("messages").GetInt32()} messages, {root.GetProperty("glossary_terms").GetInt32()} glossary terms");
        foreach (var s in root.GetProperty("splits").EnumerateObject())
            Console.WriteLine($"  {s.Name,-6} {s.Value.GetProperty("pairs").GetInt32(),8} pairs  {s.Value.GetProperty("english_chars").GetInt64(),10} en chars  {s.Value.GetProperty("chinese_chars").GetInt64(),10} zh chars");
        if (root.TryGetProperty("unseen", out var u) && u.GetProperty("pairs").GetInt32() + u.GetProperty("dropped_in_train").GetInt32() > 0)
            Console.WriteLine($"  unseen {u.GetProperty("pairs").GetInt32(),8} pairs from {string.Join(", ", u.GetProperty("packages").EnumerateArray().Select(p => p.GetString()))} ({u.GetProperty("dropped_in_train").GetInt32()} dropped: English in train)");
        Console.WriteLine("  dropped: " + string.Join(", ", root.GetProperty("dropped").EnumerateObject().Select(p => $"{p.Name} {p.Value.GetInt32()}")));
        foreach (var m in new[] { "mono_en", "mono_zh" })
            if (root.TryGetProperty(m, out var mono))
                Console.WriteLine($"  {m}: {mono.GetProperty("pages").GetInt32()} pages, {mono.GetProperty("lines").GetInt64()} lines, {mono.GetProperty("chars").GetInt64()} chars");
        Console.WriteLine($"  {"package",-24} {"version",-28} {"pairs",7} {"train",7} {"dev",6} {"test",6}");
        foreach (var p in root.GetProperty("packages").EnumerateArray())
            Console.WriteLine($"  {p.GetProperty("name").GetString(),-24} {p.GetProperty("version").GetString(),-28} {p.GetProperty("pairs").GetInt32(),7} {p.GetProperty("train").GetInt32(),7} {p.GetProperty("dev").GetInt32(),6} {p.GetProperty("test").GetInt32(),6}");
    }
}

public sealed class CorpusSplitCommand : ICliCommand
{
    public string[] Path => ["corpus", "split"];

    public Command Build()
    {
        var input = new Option<string>("--input", "-i") { Description = "Pairs to split (english<TAB>chinese TSV)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Folder for train.tsv, dev.tsv, test.tsv", Required = true };
        var ratios = new Option<string>("--ratios") { Description = "train/dev/test proportions", DefaultValueFactory = _ => "90/5/5" };
        var cmd = new Command("split", "Split a TSV of pairs by a hash of the normalised English (no English string in two splits).") { input, output, ratios };
        cmd.SetAction(r =>
        {
            var pairs = ParallelCorpus.ReadTsv(r.GetValue(input)!);
            var (train, dev, test) = CorpusSplitter.Apply(pairs, CorpusBuildCommand.Ratios(r.GetValue(ratios)!));
            var paths = new CorpusPaths(r.GetValue(output)!);
            ParallelCorpus.WriteTsv(paths.Train, train);
            ParallelCorpus.WriteTsv(paths.Dev, dev);
            ParallelCorpus.WriteTsv(paths.Test, test);
            Console.WriteLine($"train {train.Count}, dev {dev.Count}, test {test.Count} -> {paths.Dir}");
            return 0;
        });
        return cmd;
    }
}

public sealed class CorpusVerifyCommand : ICliCommand
{
    public string[] Path => ["corpus", "verify"];

    public Command Build()
    {
        var cache = new Option<string?>("--cache") { Description = "Cache folder holding extracted catalogs (default .cache/lightglm)" };
        var dir = new Option<string?>("--dir") { Description = "Check every .mo under this folder instead" };
        var cmd = new Command("verify", "Check our .mo and .po readers against msgunfmt on every catalog of the built corpus (or a folder).") { cache, dir };
        cmd.SetAction(r =>
        {
            if (!MsgunfmtCheck.Available) throw new CliException("msgunfmt not found; install Debian's gettext (scripts/setup.sh does).");
            string root = r.GetValue(dir) ?? System.IO.Path.Combine(r.GetValue(cache) ?? RepoPaths.CacheDir, "extract");
            if (!Directory.Exists(root)) throw new CliException($"{root} not found; run `lightglm corpus build` first or pass --dir.");
            var files = Directory.EnumerateFiles(root, "*.mo", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            int bad = 0, messages = 0;
            foreach (var f in files)
            {
                var diffs = MsgunfmtCheck.Compare(f);
                messages += MoReader.Read(f).Entries.Count;
                if (diffs.Count == 0) continue;
                bad++;
                foreach (var d in diffs) Console.WriteLine(d);
            }
            Console.WriteLine($"{files.Count} catalogs, {messages} messages: {files.Count - bad} agree with msgunfmt, {bad} differ");
            return bad == 0 ? 0 : 1;
        });
        return cmd;
    }
}

public sealed class CorpusImportCommand : ICliCommand
{
    public string[] Path => ["corpus", "import"];

    public Command Build()
    {
        var format = new Option<string>("--format", "-f") { Description = $"Input format: {string.Join(", ", ParallelSource.Names.Keys)}", Required = true };
        var input = new Option<string?>("--input", "-i") { Description = "The file holding both languages (tsv, wmt-tsv, um-corpus, jsonl)" };
        var en = new Option<string?>("--en") { Description = "English file (wmt-sgm, ai-challenger, iwslt-xml, iwslt-tags)" };
        var zh = new Option<string?>("--zh") { Description = "Chinese file (wmt-sgm, ai-challenger, iwslt-xml, iwslt-tags)" };
        var zhFirst = new Option<bool>("--zh-first") { Description = "TSV formats: the Chinese text is the first column" };
        var enKey = new Option<string>("--en-key") { Description = "JSONL: key of the English text", DefaultValueFactory = _ => "en" };
        var zhKey = new Option<string>("--zh-key") { Description = "JSONL: key of the Chinese text", DefaultValueFactory = _ => "zh" };
        var clean = new Option<bool>("--clean") { Description = "Apply the corpus cleaning rules (placeholders, accelerators, length ratios, duplicates)" };
        var output = new Option<string>("--output", "-o") { Description = "english<TAB>chinese TSV to write", Required = true };
        var cmd = new Command("import", "Convert a parallel corpus in a common format (WMT, UM-Corpus, AI Challenger, IWSLT, TSV, JSONL) to our TSV.")
        {
            format, input, en, zh, zhFirst, enKey, zhKey, clean, output,
        };
        cmd.SetAction(r =>
        {
            if (!ParallelSource.Names.TryGetValue(r.GetValue(format)!, out var f))
                throw new CliException($"unknown --format '{r.GetValue(format)}'; use one of {string.Join(", ", ParallelSource.Names.Keys)}");
            bool two = ParallelSource.IsTwoFile(f);
            string? main = two ? r.GetValue(en) : r.GetValue(input);
            if (main is null || (two && r.GetValue(zh) is null) || (!two && (r.GetValue(en) ?? r.GetValue(zh)) is not null))
                throw new CliException(two ? $"--format {r.GetValue(format)} reads two files: give --en FILE and --zh FILE" : $"--format {r.GetValue(format)} reads one file: give --input FILE");
            var src = new ParallelSource(f, main, two ? r.GetValue(zh) : null)
            {
                ChineseFirst = r.GetValue(zhFirst), EnglishKey = r.GetValue(enKey)!, ChineseKey = r.GetValue(zhKey)!,
            };
            List<TranslationPair> pairs;
            try { pairs = ParallelFormats.Read(src, out int skipped); if (skipped > 0) Console.Error.WriteLine($"corpus import: skipped {skipped} pairs with an empty side"); }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            if (r.GetValue(clean))
            {
                var cleaner = new PairCleaner();
                var seen = new HashSet<TranslationPair>();
                var kept = new List<TranslationPair>();
                foreach (var p in pairs) foreach (var c in cleaner.Clean(p.English, p.Chinese)) if (seen.Add(c)) kept.Add(c); else cleaner.Dropped["duplicate"] = cleaner.Dropped.GetValueOrDefault("duplicate") + 1;
                Console.Error.WriteLine($"corpus import: cleaning dropped {string.Join(", ", cleaner.Dropped.Select(kv => $"{kv.Key} {kv.Value}"))}");
                pairs = kept;
            }
            else
            {
                // TSV cannot carry TAB or newline inside a text: collapse them to spaces (counted).
                int fixedUp = 0;
                for (int i = 0; i < pairs.Count; i++)
                {
                    var (a, b) = (Flat(pairs[i].English), Flat(pairs[i].Chinese));
                    if (!ReferenceEquals(a, pairs[i].English) || !ReferenceEquals(b, pairs[i].Chinese)) { pairs[i] = new(a, b); fixedUp++; }
                }
                if (fixedUp > 0) Console.Error.WriteLine($"corpus import: {fixedUp} pairs had TAB/newline inside a text, replaced by spaces");
            }
            ParallelCorpus.WriteTsv(r.GetValue(output)!, pairs);
            Console.WriteLine($"{pairs.Count} pairs -> {r.GetValue(output)}");
            return 0;
        });
        return cmd;
    }

    static string Flat(string s) => s.AsSpan().IndexOfAny('\t', '\n', '\r') < 0 ? s : string.Join(' ', s.Split(['\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
}
