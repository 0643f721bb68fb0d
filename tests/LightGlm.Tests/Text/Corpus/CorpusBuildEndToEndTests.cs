// End to end on real Debian packages (two small ones, from the apt cache or downloaded): fetch, verify,
// extract, read, clean, split, write; a second build is byte-identical.
using LightGlm.Text.Corpus;

namespace LightGlm.Tests.Text.Corpus;

public sealed class CorpusBuildEndToEndTests
{
    [Fact]
    public void Build_TwoRealPackages_IsDeterministic()
    {
        var all = PackageList.Read(RepoPaths.DefaultPackageList);
        var chosen = all.Where(p => p.Name is "sed" or "grep").ToList();
        Assert.Equal(2, chosen.Count);
        string dir = TextTestData.TempDir("corpus");
        string list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, chosen.Select(p => $"{p.Name}\t{p.Version}\t{p.Architecture}\t{p.Sha256}"));
        string cache = Path.Combine(dir, "cache");
        // Reuse .debs of the repository cache when present (a fresh machine downloads them).
        Directory.CreateDirectory(Path.Combine(cache, "debs"));
        foreach (var name in chosen.Select(p => p.DebFileName).Append("manpages-zh_1.6.4.0-1_all.deb"))
        {
            string src = Path.Combine(RepoPaths.CacheDir, "debs", name);
            if (File.Exists(src)) File.Copy(src, Path.Combine(cache, "debs", name));
        }
        var opts = new CorpusOptions { PackageList = list, CacheDir = cache, OutputDir = Path.Combine(dir, "out1"), MaxManpages = 2 };
        var a = CorpusBuilder.Build(opts);
        var b = CorpusBuilder.Build(opts with { OutputDir = Path.Combine(dir, "out2") });
        foreach (var f in new[] { "train.tsv", "dev.tsv", "test.tsv", "stats.json", "glossary.tsv", "mono.en.txt", "mono.zh.txt" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Dir, f)), File.ReadAllBytes(Path.Combine(b.Dir, f)));
        var train = ParallelCorpus.ReadTsv(a.Train);
        Assert.True(train.Count > 150, $"only {train.Count} training pairs from sed+grep");
        Assert.Contains(train.Concat(ParallelCorpus.ReadTsv(a.Dev)).Concat(ParallelCorpus.ReadTsv(a.Test)), p => p.English.Contains("%s") && p.Chinese.Contains("%s"));
        Assert.Contains("\"name\": \"sed\"", File.ReadAllText(a.Stats));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void MissingPackageList_SaysWhatToDo()
    {
        var e = Assert.Throws<FileNotFoundException>(() => PackageList.Read("/nonexistent/list.txt"));
        Assert.Contains("--from-dir", e.Message);
    }

    [Fact]
    public void BadPackageLine_NamesTheLine()
    {
        string f = Path.Combine(TextTestData.TempDir("pl"), "l.txt");
        File.WriteAllText(f, "# c\nsed\t4.9\tamd64\tnothex\n");
        Assert.Contains(":2:", Assert.Throws<InvalidDataException>(() => PackageList.Read(f)).Message);
    }
}
