// The readers for other corpora's formats (WMT sgm/tsv, UM-Corpus, AI Challenger, IWSLT xml/tags, TSV, JSONL):
// each reads a small file written the way that corpus ships, and each bad input names file:line and the fix.
using LightGlm.Text.Corpus;

namespace LightGlm.Tests.Text.Corpus;

public sealed class ParallelFormatsTests : IDisposable
{
    readonly string _dir = TextTestData.TempDir("formats");
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string content)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, content);
        return p;
    }

    static readonly TranslationPair[] Expected =
    [
        new("Permission denied", "权限不够"),
        new("cannot open %s: R&D <dir>", "无法打开 %s：R&D <dir>"),
        new("No such file or directory", "没有那个文件或目录"),
    ];

    [Fact]
    public void WmtSgm_PairsSegmentsByDocAndId()
    {
        string en = Write("newstest-src.en.sgm", """
            <srcset setid="newstest2017" srclang="any">
            <doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
            <p>
            <seg id="1">Permission denied</seg>
            <seg id="2">cannot open %s: R&amp;D &lt;dir&gt;</seg>
            </p>
            </doc>
            <doc sysid="ref" docid="1013-xyz" genre="news" origlang="en">
            <seg id="1">No such file or directory</seg>
            </doc>
            </srcset>
            """);
        // The reference lists documents in another order: pairing is by (docid, seg id), not by position.
        string zh = Write("newstest-ref.zh.sgm", """
            <refset setid="newstest2017" srclang="any" trglang="zh">
            <doc sysid="ref" docid="1013-xyz" genre="news" origlang="en">
            <seg id="1">没有那个文件或目录</seg>
            </doc>
            <doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
            <seg id="1">权限不够</seg>
            <seg id="2">无法打开 %s：R&amp;D &lt;dir&gt;</seg>
            </doc>
            </refset>
            """);
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.WmtSgm, en, zh), out _));
    }

    [Fact]
    public void WmtSgm_MissingCounterpart_NamesTheSegment()
    {
        string en = Write("a.en.sgm", "<doc docid=\"d1\">\n<seg id=\"1\">a</seg>\n<seg id=\"2\">b</seg>\n</doc>\n");
        string zh = Write("a.zh.sgm", "<doc docid=\"d1\">\n<seg id=\"1\">甲</seg>\n</doc>\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.WmtSgm, en, zh), out _));
        Assert.Contains("a.en.sgm:3", e.Message);
        Assert.Contains("seg 2", e.Message);
    }

    [Fact]
    public void IwsltXml_ReadsSegments_AndRejectsAnUnclosedOne()
    {
        string en = Write("IWSLT17.TED.tst2015.en-zh.en.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mteval>\n<srcset setid=\"iwslt2017-tst2015\" srclang=\"english\">\n<doc docid=\"2307\" genre=\"lectures\">\n<url>http://www.ted.com/talks/x</url>\n<talkid>2307</talkid>\n<seg id=\"1\"> Permission denied </seg>\n<seg id=\"2\">cannot open %s: R&amp;D &lt;dir&gt;</seg>\n<seg id=\"3\">No such file or directory</seg>\n</doc>\n</srcset>\n</mteval>\n");
        string zh = Write("IWSLT17.TED.tst2015.en-zh.zh.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mteval>\n<refset setid=\"iwslt2017-tst2015\" srclang=\"english\" trglang=\"chinese\">\n<doc docid=\"2307\" genre=\"lectures\">\n<seg id=\"1\">权限不够</seg>\n<seg id=\"2\">无法打开 %s：R&amp;D &lt;dir&gt;</seg>\n<seg id=\"3\">没有那个文件或目录</seg>\n</doc>\n</refset>\n</mteval>\n");
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.IwsltXml, en, zh), out _));
        File.AppendAllText(zh, "<seg id=\"4\">没有结束\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.IwsltXml, en, zh), out _));
        Assert.Contains(".zh.xml:11", e.Message);
        Assert.Contains("</seg>", e.Message);
    }

    [Fact]
    public void IwsltTags_DropsMetadataLines_AndChecksAlignment()
    {
        string en = Write("train.tags.en-zh.en", "<url>http://www.ted.com/talks/x</url>\n<keywords>talks</keywords>\n<talkid>1</talkid>\nPermission denied\ncannot open %s: R&D <dir>\n<title>t</title>\nNo such file or directory\n");
        string zh = Write("train.tags.en-zh.zh", "<url>http://www.ted.com/talks/x</url>\n<talkid>1</talkid>\n权限不够\n无法打开 %s：R&D <dir>\n没有那个文件或目录\n");
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.IwsltTags, en, zh), out _));
        File.AppendAllText(zh, "多余的一行\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.IwsltTags, en, zh), out _));
        Assert.Contains("3 text lines", e.Message);
        Assert.Contains("has 4", e.Message);
    }

    [Fact]
    public void UmCorpus_AlternatesLines_AndDetectsABrokenAlternation()
    {
        string ok = Write("Bi-Software.txt", "Permission denied\r\n权限不够\r\ncannot open %s: R&D <dir>\r\n无法打开 %s：R&D <dir>\r\nNo such file or directory\r\n没有那个文件或目录\r\n\r\n");
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.UmCorpus, ok), out _));
        string odd = Write("odd.txt", "Permission denied\n权限不够\nNo such file or directory\n");
        Assert.Contains("odd number", Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.UmCorpus, odd), out _)).Message);
        string shifted = Write("shifted.txt", "Permission denied\n权限不够\n无法打开文件\nNo such file or directory\n没有那个文件或目录\nDone\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.UmCorpus, shifted), out _));
        Assert.Contains("shifted.txt:3", e.Message);
    }

    [Fact]
    public void AiChallenger_ReadsAlignedFiles_AndNamesBothCountsWhenTheyDiffer()
    {
        string en = Write("train.en", string.Join('\n', Expected.Select(p => p.English)) + "\n");
        string zh = Write("train.zh", string.Join('\n', Expected.Select(p => p.Chinese)) + "\n");
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.AiChallenger, en, zh), out _));
        string shortZh = Write("short.zh", "权限不够\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.AiChallenger, en, shortZh), out _));
        Assert.Contains("3 text lines", e.Message);
        Assert.Contains("short.zh has 1", e.Message);
    }

    [Fact]
    public void WmtTsv_IgnoresExtraColumns_SkipsEmptySides_AndReadsChineseFirst()
    {
        string p = Write("news-commentary-v16.en-zh.tsv", "Permission denied\t权限不够\t0.9\n\t\ncannot open %s: R&D <dir>\t无法打开 %s：R&D <dir>\nNo such file or directory\t没有那个文件或目录\n");
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.WmtTsv, p), out int skipped));
        Assert.Equal(1, skipped);
        string rev = Write("zh-en.tsv", string.Join('\n', Expected.Select(x => $"{x.Chinese}\t{x.English}")));
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.WmtTsv, rev) { ChineseFirst = true }, out _));
    }

    [Fact]
    public void Tsv_IsStrictAboutColumns()
    {
        string p = Write("pairs.tsv", "Permission denied\t权限不够\nonly one column\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.Tsv, p), out _));
        Assert.Contains("pairs.tsv:2", e.Message);
        Assert.Contains("found 1", e.Message);
    }

    [Fact]
    public void Jsonl_ReadsTopLevelAndTranslationObjects_WithConfigurableKeys()
    {
        string p = Write("a.jsonl", """
            {"en": "Permission denied", "zh": "权限不够"}
            {"translation": {"en": "cannot open %s: R&D <dir>", "zh": "无法打开 %s：R&D <dir>"}}

            {"en": "No such file or directory", "zh": "没有那个文件或目录", "id": 3}
            """);
        Assert.Equal(Expected, ParallelFormats.Read(new ParallelSource(ParallelFormat.Jsonl, p), out _));
        string q = Write("b.jsonl", "{\"source\": \"Permission denied\", \"target\": \"权限不够\"}\n");
        Assert.Equal([Expected[0]], ParallelFormats.Read(new ParallelSource(ParallelFormat.Jsonl, q) { EnglishKey = "source", ChineseKey = "target" }, out _));
    }

    [Theory]
    [InlineData("{\"en\": \"a\", \"zh\": ", "not valid JSON")]
    [InlineData("[1, 2]", "JSON Array where an object")]
    [InlineData("{\"en\": \"a\", \"cn\": \"甲\"}", "no \"zh\" field (it has: en, cn)")]
    [InlineData("{\"en\": \"a\", \"zh\": 3}", "\"zh\" is a JSON Number")]
    public void Jsonl_BadLines_NameFileLineAndProblem(string line, string expected)
    {
        string p = Write("bad.jsonl", "{\"en\": \"ok\", \"zh\": \"好\"}\n" + line + "\n");
        var e = Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.Jsonl, p), out _));
        Assert.Contains("bad.jsonl:2", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InvalidUtf8_AndHugeLines_AreClearErrors()
    {
        string bad = Path.Combine(_dir, "latin1.tsv");
        File.WriteAllBytes(bad, [.. "ok\t好\n"u8, 0x63, 0x61, 0x66, 0xE9, 0x09, 0x41, 0x0A]);
        Assert.Contains("latin1.tsv:2: not valid UTF-8", Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.Tsv, bad), out _)).Message);
        string huge = Write("huge.jsonl", "{\"en\": \"" + new string('a', ParallelCorpus.MaxLineChars + 10) + "\"}\n");
        Assert.Contains("huge.jsonl:1: line longer than", Assert.Throws<InvalidDataException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.Jsonl, huge), out _)).Message);
    }

    [Fact]
    public void WrongNumberOfFiles_IsAnArgumentError()
    {
        string p = Write("x.tsv", "a\tb\n");
        Assert.Throws<ArgumentException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.AiChallenger, p), out _));
        Assert.Throws<ArgumentException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.Tsv, p, p), out _));
        Assert.Throws<FileNotFoundException>(() => ParallelFormats.Read(new ParallelSource(ParallelFormat.Tsv, p + ".missing"), out _));
    }
}
