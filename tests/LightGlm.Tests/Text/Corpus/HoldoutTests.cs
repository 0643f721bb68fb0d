// The unseen-package split on real Debian packages (sed and tar trained on, grep held out: GNU programs share gnulib
// messages, so some held-out English is also in train and must leave unseen), and the package-selection checks.
using System.Text.Json;
using LightGlm.Text.Corpus;

namespace LightGlm.Tests.Text.Corpus;

public sealed class HoldoutTests
{
    static CorpusPaths BuildSmall(string dir, string[] names, string[] holdout)
    {
        var chosen = PackageList.Read(RepoPaths.DefaultPackageList).Where(p => names.Contains(p.Name)).ToList();
        Assert.Equal(names.Length, chosen.Count);
        Directory.CreateDirectory(dir);
        string list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, chosen.Select(p => $"{p.Name}\t{p.Version}\t{p.Architecture}\t{p.Sha256}"));
        string cache = Path.Combine(dir, "cache");
        // Reuse .debs of the repository cache when present (a fresh machine downloads them).
        Directory.CreateDirectory(Path.Combine(cache, "debs"));
        foreach (var name in chosen.Select(p => p.DebFileName))
        {
            string src = Path.Combine(RepoPaths.CacheDir, "debs", name);
            if (File.Exists(src)) File.Copy(src, Path.Combine(cache, "debs", name));
        }
        return CorpusBuilder.Build(new CorpusOptions
        {
            PackageList = list, CacheDir = cache, OutputDir = Path.Combine(dir, "out"), Monolingual = false, Holdout = holdout,
        });
    }

    [Fact]
    public void Holdout_KeepsPackageOutOfTrainDevTest_AndUnseenOutOfTrain()
    {
        string dir = TextTestData.TempDir("holdout");
        var without = BuildSmall(Path.Combine(dir, "a"), ["sed", "tar", "grep"], []);
        var with = BuildSmall(Path.Combine(dir, "b"), ["sed", "tar", "grep"], ["grep"]);

        // grep's pairs (as the build without a holdout attributes them) are in no split of the build with it ...
        using var statsWithout = JsonDocument.Parse(File.ReadAllText(without.Stats));
        var grepWithout = statsWithout.RootElement.GetProperty("packages").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "grep");
        Assert.True(grepWithout.GetProperty("train").GetInt32() > 100, "grep should give pairs when not held out");
        using var stats = JsonDocument.Parse(File.ReadAllText(with.Stats));
        var grep = stats.RootElement.GetProperty("packages").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "grep");
        Assert.Equal(0, grep.GetProperty("train").GetInt32() + grep.GetProperty("dev").GetInt32() + grep.GetProperty("test").GetInt32());
        Assert.True(grep.GetProperty("holdout").GetBoolean());
        var pool = ParallelCorpus.ReadTsv(with.Train).Concat(ParallelCorpus.ReadTsv(with.Dev)).Concat(ParallelCorpus.ReadTsv(with.Test)).ToHashSet();
        var poolWithout = ParallelCorpus.ReadTsv(without.Train).Concat(ParallelCorpus.ReadTsv(without.Dev)).Concat(ParallelCorpus.ReadTsv(without.Test)).ToList();
        // grep comes first in the list, so without the holdout it wins the pairs it shares with sed and tar; held out, it gives them back.
        Assert.True(pool.Count >= poolWithout.Count - grepWithout.GetProperty("pairs").GetInt32() && pool.Count < poolWithout.Count,
            $"{pool.Count} pairs with grep held out, {poolWithout.Count} without, grep {grepWithout.GetProperty("pairs").GetInt32()}");

        // ... and unseen holds grep's pairs minus those whose English is in train (gnulib messages shared with sed and tar).
        var unseen = ParallelCorpus.ReadTsv(with.Unseen);
        var trainEnglish = ParallelCorpus.ReadTsv(with.Train).Select(p => CorpusSplitter.Normalise(p.English)).ToHashSet();
        Assert.True(unseen.Count > 50, $"only {unseen.Count} unseen pairs from grep");
        Assert.DoesNotContain(unseen, p => trainEnglish.Contains(CorpusSplitter.Normalise(p.English)));
        var u = stats.RootElement.GetProperty("unseen");
        Assert.Equal(unseen.Count, u.GetProperty("pairs").GetInt32());
        Assert.True(u.GetProperty("dropped_in_train").GetInt32() > 0, "grep shares gnulib messages with sed/tar; none were dropped from unseen");
        Assert.Equal(grep.GetProperty("pairs").GetInt32(), unseen.Count + u.GetProperty("dropped_in_train").GetInt32());
        Assert.Equal(["grep"], u.GetProperty("packages").EnumerateArray().Select(p => p.GetString()!).ToArray());
        // Without a holdout the file exists and is empty.
        Assert.Empty(ParallelCorpus.ReadTsv(without.Unseen));
        Directory.Delete(dir, true);
    }

    static readonly List<PackageSpec> Specs =
    [
        new("sed", "4.9-1", "amd64", new string('a', 64)),
        new("meld", "3.22.0-2", "all", new string('b', 64)),
        new("libreoffice-l10n-zh-cn", "4:7.4.7-1", "all", new string('c', 64)),
    ];

    [Fact]
    public void LibreOffice_IsRefusedUnlessHeldOut()
    {
        var e = Assert.Throws<InvalidDataException>(() => PackageList.Select(Specs, "list.txt", null, ["meld"]));
        Assert.Contains("libreoffice-l10n-zh-cn", e.Message);
        Assert.Contains("never be trained on", e.Message);
        Assert.Equal(3, PackageList.Select(Specs, "list.txt", null, ["libreoffice-l10n-zh-cn"]).Count);
        Assert.Single(PackageList.Select(Specs, "list.txt", ["sed"], []));
    }

    [Fact]
    public void LibreOffice_IsRefusedByTheBuilderBeforeAnyDownload()
    {
        string dir = TextTestData.TempDir("lo");
        string list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, Specs.Select(p => $"{p.Name}\t{p.Version}\t{p.Architecture}\t{p.Sha256}"));
        var e = Assert.Throws<InvalidDataException>(() => CorpusBuilder.Build(new CorpusOptions
        {
            PackageList = list, CacheDir = Path.Combine(dir, "cache"), OutputDir = Path.Combine(dir, "out"),
        }));
        Assert.Contains("LibreOffice", e.Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "cache", "debs")) && Directory.EnumerateFiles(Path.Combine(dir, "cache", "debs")).Any());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Selection_ReportsEveryProblemAtOnce()
    {
        var e = Assert.Throws<InvalidDataException>(() => PackageList.Select(Specs, "list.txt", ["sed", "nope"], ["meld", "gone"]));
        Assert.Contains("'nope'", e.Message);
        Assert.Contains("'meld'", e.Message);
        Assert.Contains("leaves it out", e.Message);
        Assert.Contains("'gone'", e.Message);
    }
}
