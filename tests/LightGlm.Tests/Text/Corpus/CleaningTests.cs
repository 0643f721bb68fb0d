// The cleaning rules of the corpus builder, each shown on real-looking catalog strings.
using LightGlm.Text.Corpus;
using LightGlm.Text.Markup;

namespace LightGlm.Tests.Text.Corpus;

public sealed class CleaningTests
{
    [Theory]
    [InlineData("_File", "文件(_F)", "File", "文件")]
    [InlineData("Save _As…", "另存为(_A)…", "Save As…", "另存为…")]
    [InlineData("&Open", "打开(&O)", "Open", "打开")]
    [InlineData("Op_en", "打开(_E)", "Open", "打开")]
    [InlineData("Fill empt&y lines", "填补空行", "Fill empty lines", "填补空行")]
    [InlineData("~Format", "格式(~O)", "Format", "格式")]
    [InlineData("file_name is %s", "file_name 是 %s", "file_name is %s", "file_name 是 %s")]
    [InlineData("_NET_WM_NAME", "_NET_WM_NAME 属性", "_NET_WM_NAME", "_NET_WM_NAME 属性")]
    [InlineData("Tom &amp; Jerry && more", "汤姆 &amp; 杰瑞", "Tom &amp; Jerry && more", "汤姆 &amp; 杰瑞")] // "&&" is Qt's escape only in a label with a mnemonic
    [InlineData("Search && &Replace", "查找和替换(&R)", "Search & Replace", "查找和替换")]
    [InlineData("AT&T modem", "AT&T 调制解调器", "AT&T modem", "AT&T 调制解调器")]
    public void Accelerators_AreStripped_IdentifiersKept(string en, string zh, string wantEn, string wantZh) =>
        Assert.Equal((wantEn, wantZh), Accelerators.Strip(en, zh));

    [Theory]
    [InlineData("cannot open %s: %s", "无法打开 %s：%s", true)]
    [InlineData("%1$s copied to %2$s", "%2$s 复制自 %1$s", true)]
    [InlineData("%(name)s is %(size)d bytes", "%(name)s 有 %(size)d 字节", true)]
    [InlineData("Commit {0} by {author}", "{author} 的提交 {0}", true)]
    [InlineData("%<PRIuMAX> bytes", "%<PRIuMAX> 字节", true)]
    [InlineData("100%% done, 50% of files", "100%% 完成，一半文件", true)]
    [InlineData("cannot open %s", "无法打开", false)]
    [InlineData("%d files", "%s 个文件", false)]
    [InlineData("{0} and {1}", "{0}", false)]
    public void Placeholders_MustMatch(string en, string zh, bool match) => Assert.Equal(match, Placeholders.Preserved(en, zh));

    [Fact]
    public void Cleaner_SplitsAlignedHelpText_AndCountsEveryDrop()
    {
        var c = new PairCleaner();
        var lines = c.Clean("  -a, --all     do not ignore entries\n  -l            use a long listing format\n",
                            "  -a, --all     不忽略条目\n  -l            使用较长格式列出信息\n").ToList();
        Assert.Equal([new TranslationPair("-a, --all do not ignore entries", "-a, --all 不忽略条目"),
                      new TranslationPair("-l use a long listing format", "-l 使用较长格式列出信息")], lines);
        Assert.Empty(c.Clean("one\ntwo", "一二"));
        Assert.Empty(c.Clean("Permission denied", ""));
        Assert.Empty(c.Clean("OK", "OK"));
        Assert.Empty(c.Clean("Close window", "Close window now"));
        Assert.Empty(c.Clean("cannot open %s", "无法打开"));
        Assert.Empty(c.Clean("a very long English sentence about files", "文"));
        Assert.Empty(c.Clean("bell\a", "响铃\a"));
        Assert.Equal(1, c.Dropped["multiline-unaligned"]);
        Assert.Equal(1, c.Dropped["empty-or-untranslated"]);
        Assert.Equal(1, c.Dropped["identical"]);
        Assert.Equal(1, c.Dropped["no-chinese"]);
        Assert.Equal(1, c.Dropped["placeholder-mismatch"]);
        Assert.Equal(1, c.Dropped["length-ratio"]);
        Assert.Equal(1, c.Dropped["control-characters"]);
    }

    [Fact]
    public void Splitter_KeepsEachNormalisedEnglishInOneSplit_NearTheRatios()
    {
        var pairs = Enumerable.Range(0, 20000).SelectMany(i => new[]
        {
            new TranslationPair($"Message number {i}", $"消息 {i}"),
            new TranslationPair($"message  NUMBER {i}", $"第 {i} 条消息"), // same normalised English
        }).ToList();
        var (train, dev, test) = CorpusSplitter.Apply(pairs, SplitRatios.Default);
        var sets = new[] { train, dev, test }.Select(s => s.Select(p => CorpusSplitter.Normalise(p.English)).ToHashSet()).ToArray();
        Assert.Empty(sets[0].Intersect(sets[1]));
        Assert.Empty(sets[0].Intersect(sets[2]));
        Assert.Empty(sets[1].Intersect(sets[2]));
        Assert.InRange(train.Count / 40000.0, 0.88, 0.92);
        Assert.InRange(dev.Count / 40000.0, 0.04, 0.06);
        Assert.Equal(SplitRatios.Parse("90/5/5"), SplitRatios.Default with { });
        Assert.Throws<FormatException>(() => SplitRatios.Parse("90/5"));
    }

    [Fact]
    public void Glossary_KeepsTermsThatAgreeAcrossPackages()
    {
        var pairs = new (string, TranslationPair)[]
        {
            ("coreutils", new("Permission denied", "权限不够")),
            ("tar", new("Permission denied", "权限不够")),
            ("grep", new("permission denied.", "权限不够。")),
            ("wget", new("Permission denied", "拒绝访问")),
            ("git", new("commit", "提交")),
            ("git", new("commit", "提交")),          // one package votes once
            ("tar", new("Open %s", "打开 %s")),       // placeholders are not terms
            ("a", new("directory", "目录")), ("b", new("directory", "文件夹")),
        };
        var g = GlossaryMiner.Mine(pairs);
        var e = Assert.Single(g);
        Assert.Equal(("Permission denied", "权限不够", 3, 0.75), (e.English, e.Chinese, e.Packages, e.Agreement));
    }
}
