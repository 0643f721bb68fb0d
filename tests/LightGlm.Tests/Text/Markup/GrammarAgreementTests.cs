// The corpus cleaner and the translator read placeholders and accelerators with one grammar: on real catalog strings the
// cleaner keeps exactly the English text the translator sends to the model, and both accept or refuse the same Chinese.
using LightGlm.Text.Corpus;
using LightGlm.Text.Markup;
using LightGlm.Translation;

namespace LightGlm.Tests.Text.Markup;

public sealed class GrammarAgreementTests
{
    // (English msgid, its Chinese msgstr as catalogs write it, placeholders of the English, accelerator "" or marker+key,
    // the label without accelerator). Strings from coreutils, git, gnome, KDE and LibreOffice catalogs.
    public static TheoryData<string, string, string, string, string> Rows => new()
    {
        { "cannot open %s: %m", "无法打开 %s：%m", "%s|%m", "", "cannot open %s: %m" },
        { "%<PRIuMAX> bytes copied", "已复制 %<PRIuMAX> 字节", "%<PRIuMAX>", "", "%<PRIuMAX> bytes copied" },
        { "%1$s copied to %2$s", "%2$s 复制自 %1$s", "%1$s|%2$s", "", "%1$s copied to %2$s" },
        { "%s of %d", "%2$d 的 %1$s", "%s|%d", "", "%s of %d" },
        { "%(name)s is %(size)d bytes", "%(name)s 有 %(size)d 字节", "%(name)s|%(size)d", "", "%(name)s is %(size)d bytes" },
        { "Cannot expand ${HOME} or $PATH", "无法展开 ${HOME} 或 $PATH", "${HOME}|$PATH", "", "Cannot expand ${HOME} or $PATH" },
        { "<b>Warning:</b> file {0} exists", "<b>警告：</b>文件 {0} 已存在", "<b>|</b>|{0}", "", "<b>Warning:</b> file {0} exists" },
        { "usage: git add [<options>] <pathspec>", "用法：git add [<选项>] <路径规格>", "", "", "usage: git add [<options>] <pathspec>" },
        { "&File", "文件(&F)", "", "&F", "File" },
        { "_File", "文件(_F)", "", "_F", "File" },
        { "~File", "文件(~F)", "", "~F", "File" },
        { "Save _As…", "另存为(_A)…", "", "_A", "Save As…" },
        { "Re_do", "重做(_D)", "", "_d", "Redo" },
        { "Fill empt&y lines", "填补空行(&Y)", "", "&y", "Fill empty lines" },
        { "&Open %s", "打开 %s(&O)", "%s", "&O", "Open %s" },
        { "file_name is %s", "file_name 是 %s", "%s", "", "file_name is %s" },
        { "<string table index: %3ld>", "<字串表索引：%3ld>", "%3ld", "", "<string table index: %3ld>" },
        // strftime directives are not placeholders (neither grammar ever knew them); "%_H" is not a mnemonic
        { "%k hour, space padded ( 0..23); same as %_H", "%k 小时，以空格填充 ( 0..23)；等于 %_H", "", "", "%k hour, space padded ( 0..23); same as %_H" },
        { "AT&T modem", "AT&T 调制解调器", "", "", "AT&T modem" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void CleanerAndTranslatorAgree(string english, string chinese, string placeholders, string accelerator, string label)
    {
        Assert.Equal(placeholders, string.Join('|', Placeholders.Extract(english)));
        Assert.Equal(accelerator, Accelerators.Detect(english) is { } a ? $"{a.Marker}{a.Key}" : "");

        var cleaner = new PairCleaner();
        var pair = Assert.Single(cleaner.Clean(english, chinese));
        Assert.Equal(label, pair.English);

        var (sent, report, msgstr) = FillOne(english, _ => pair.Chinese);
        Assert.Equal([label], sent); // the translator asks the model for the cleaner's English
        Assert.Equal((1, 0), (report.Filled, report.LeftPlaceholders));
        Assert.Equal(chinese, msgstr); // and puts the accelerator back as the catalog had it
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void BothRefuseATranslationThatLosesAPlaceholder(string english, string chinese, string placeholders, string accelerator, string label)
    {
        _ = accelerator; _ = label;
        if (placeholders.Length == 0) return;
        string dropped = Placeholders.Extract(chinese)[0];
        int at = chinese.IndexOf(dropped, StringComparison.Ordinal);
        string broken = chinese.Remove(at, dropped.Length);
        Assert.NotEqual(chinese, broken);

        var cleaner = new PairCleaner();
        Assert.Empty(cleaner.Clean(english, broken));
        Assert.Equal(1, cleaner.Dropped["placeholder-mismatch"]);
        var (_, report, _) = FillOne(english, _ => broken);
        Assert.Equal((0, 1), (report.Filled, report.LeftPlaceholders));
    }

    /// <summary>Fills a one-message catalog through <see cref="PoFiller"/>: what the model was asked, the report, the msgstr written.</summary>
    static (List<string> Sent, PoFillReport Report, string MsgStr) FillOne(string english, Func<string, string> model)
    {
        var dir = Directory.CreateTempSubdirectory("lightglm-grammar-").FullName;
        try
        {
            string po = Path.Combine(dir, "one.po");
            File.WriteAllText(po, "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\n" +
                $"msgid \"{english}\"\nmsgstr \"\"\n");
            var sent = new List<string>();
            var report = PoFiller.Fill(po, po, texts => { sent.AddRange(texts); return texts.Select(model).ToList(); });
            var entry = LightGlm.Text.Gettext.PoDocument.Load(po).Catalog.Messages.Single(m => m.Id == english);
            return (sent, report, entry.Translations[0]);
        }
        finally { Directory.Delete(dir, true); }
    }
}
