// Our .po/.mo readers against GNU gettext (msgfmt/msgunfmt) on a committed sample and on real catalogs.
using LightGlm.Text.Gettext;
using LightGlm.Tests.Text;

namespace LightGlm.Tests.Text.Gettext;

public sealed class GettextReaderTests
{
    static readonly string Sample = TextTestData.File("sample.zh_CN.po");

    [Fact]
    public void PoReader_ParsesEveryFeatureOfTheSample()
    {
        var cat = PoReader.Read(Sample);
        Assert.Equal("zh_CN", cat.Language);
        Assert.Equal("nplurals=1; plural=0;", cat.PluralForms);
        var e = cat.Entries.ToDictionary(x => x.Key);

        var fmt = e["cannot open file '%s': %s"];
        Assert.Equal(["无法打开文件“%s”：%s"], fmt.Translations);
        Assert.Contains("c-format", fmt.Flags);
        Assert.Equal(new LineSpan(12, 17), fmt.Lines);      // "#." line .. msgstr line (0-based, end-exclusive)
        Assert.Equal(new LineSpan(16, 17), fmt.MsgStrLines);

        var usage = e.Values.Single(x => x.Id.StartsWith("Usage:"));
        Assert.Equal("Usage: sample [OPTION]... FILE\nPrint the FILE with \"quotes\", tabs\tand a backslash \\.\n", usage.Id);
        Assert.Equal(3, usage.MsgStrLines.Count);

        Assert.Equal("打开(_O)", e["menu\u0004_Open"].Translations[0]);
        Assert.Equal("menu", e["menu\u0004_Open"].Context);
        Assert.Equal("打开", e["verb\u0004Open"].Translations[0]);

        var plural = e["%d file removed"];
        Assert.Equal("%d files removed", plural.IdPlural);
        Assert.Equal(["已删除 %d 个文件"], plural.Translations);

        var fuzzy = e["Permission denied (publickey)"];
        Assert.True(fuzzy.IsFuzzy);
        Assert.Contains("#| msgid \"Permission denied\"", fuzzy.Comments);

        Assert.True(e["Untranslated message"].IsUntranslated);
        Assert.Equal("Octal é and hex A escapes\a", e.Keys.Single(k => k.StartsWith("Octal")));
        Assert.Equal("表情 🙂 和增补 𠀀 字符", e["Emoji 🙂 and supplementary 𠀀 characters"].Translations[0]);

        var obsolete = cat.Entries.Where(x => x.IsObsolete).ToList();
        Assert.Equal(2, obsolete.Count);
        Assert.Equal("Obsolete multi\nline", obsolete[1].Id);
        Assert.True(obsolete[1].IsFuzzy);
        Assert.Equal(9, cat.Messages.Count());
    }

    [Theory]
    [InlineData("little")]
    [InlineData("big")]
    public void MoReader_AgreesWithPoReader_OnMsgfmtOutput_BothByteOrders(string endianness)
    {
        string dir = TextTestData.TempDir("mo");
        string mo = Path.Combine(dir, "sample.mo");
        TextTestData.Run("msgfmt", $"--endianness={endianness}", "-o", mo, Sample);
        var fromMo = MoReader.Read(mo).Entries.ToDictionary(x => x.Key);
        // msgfmt keeps the header and translated, non-fuzzy, non-obsolete messages.
        var expected = PoReader.Read(Sample).Entries.Where(x => !x.IsObsolete && !x.IsFuzzy && !x.IsUntranslated).ToList();
        Assert.Equal(expected.Count, fromMo.Count);
        foreach (var x in expected)
        {
            var m = fromMo[x.Key];
            Assert.Equal(x.Context, m.Context);
            Assert.Equal(x.IdPlural, m.IdPlural);
            Assert.Equal(x.Translations, m.Translations);
        }
        Assert.Empty(MsgunfmtCheck.Compare(mo));
    }

    [Fact]
    public void MoReader_AgreesWithMsgunfmt_OnRealCatalogs()
    {
        // The committed real catalog, plus up to 12 zh_CN catalogs installed on this machine.
        var files = new List<string> { TextTestData.File("real-m4.zh_CN.mo") };
        const string installed = "/usr/share/locale/zh_CN/LC_MESSAGES";
        if (Directory.Exists(installed))
            files.AddRange(Directory.GetFiles(installed, "*.mo").Order(StringComparer.Ordinal).Take(12));
        int messages = 0;
        foreach (var f in files)
        {
            var diffs = MsgunfmtCheck.Compare(f);
            Assert.True(diffs.Count == 0, string.Join("\n", diffs));
            messages += MoReader.Read(f).Entries.Count;
        }
        Assert.True(messages > 100, $"only {messages} messages read from {files.Count} catalogs");
    }

    [Fact]
    public void PoDocument_ReplacesOnlyTheMsgStrLines()
    {
        var doc = PoDocument.Load(Sample);
        var target = doc.Catalog.Entries.Single(x => x.Id == "Untranslated message");
        string text = doc.Render([(target.MsgStrLines, PoString.FormatMsgStr(["未翻译的消息\n第二行"], plural: false))]);
        string original = File.ReadAllText(Sample);
        var a = original.Split('\n');
        var b = text.Split('\n');
        Assert.Equal(a.Length + 2, b.Length); // one msgstr line became three
        Assert.Equal(a[..target.MsgStrLines.Start], b[..target.MsgStrLines.Start]);
        Assert.Equal(a[target.MsgStrLines.End..], b[(target.MsgStrLines.End + 2)..]);
        // The edited file parses, and the entry now carries the translation.
        var reread = PoReader.Parse(text, GettextEncoding.StrictUtf8, "edited");
        Assert.Equal("未翻译的消息\n第二行", reread.Entries.Single(x => x.Id == "Untranslated message").Translations[0]);
        // No replacement reproduces the file byte for byte.
        Assert.Equal(original, doc.Render([]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\\\"b\\\\c\\n")]
    [InlineData("控制\u0001字符\t和\r回车")]
    public void PoString_EscapeThenParse_RoundTrips(string s)
    {
        var sb = new System.Text.StringBuilder();
        PoString.Parse("\"" + PoString.Escape(s) + "\"", 0, sb, GettextEncoding.StrictUtf8, m => new Exception(m));
        Assert.Equal(s, sb.ToString());
    }
}
