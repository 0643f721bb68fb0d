// Placeholder extraction/checks and accelerator handling on real-style gettext messages.
using LightGlm.Text.Markup;

namespace LightGlm.Tests.Text.Markup;

public sealed class PlaceholderAcceleratorTests
{
    [Theory]
    [InlineData("cannot open '%s': %s", "%s,%s")]
    [InlineData("%1$s has %2$d items (%%)", "%1$s,%2$d")]
    [InlineData("%-10.3f%% done, %ld left", "%-10.3f,%ld")]
    [InlineData("Hello {0}, you have {count} messages in ${HOME}", "{0},{count},${HOME}")]
    [InlineData("%(name)s is %(size)d bytes", "%(name)s,%(size)d")]
    [InlineData("50% of the disk, $PATH unset, <b>bold</b>", "$PATH,<b>,</b>")]
    [InlineData("plain text", "")]
    [InlineData("<string table index: %3ld>", "%3ld")]                    // a metavariable, not a tag; its placeholder counts
    [InlineData("usage: git add [<options>] <pathspec>", "")]
    [InlineData("<a href=\"%s\">link</a> <br>", "%s,</a>,<br>")]
    [InlineData("lbr$set_module() failed, status = %d", "%d")]
    [InlineData("请在配置中启用$cfg['x']", "$cfg")]
    [InlineData("%d of %m, %<PRIu64> total", "%d,%m,%<PRIu64>")]
    public void ExtractsPlaceholders(string text, string expected) =>
        Assert.Equal(expected, string.Join(',', Placeholders.Extract(text)));

    [Theory]
    [InlineData("cannot open '%s': %s", "无法打开“%s”：%s", true)]
    [InlineData("cannot open '%s': %s", "无法打开“%s”", false)]
    [InlineData("%s of %d", "%d 的 %s", false)]          // unnumbered printf reordered: msgfmt -c rejects it
    [InlineData("%1$s of %2$d", "%2$d 的 %1$s", true)]   // positional: reordering is allowed
    [InlineData("{0} and {1}", "{1} 和 {0}", true)]
    [InlineData("file", "文件 %s", false)]               // an added placeholder is wrong too
    public void PreservedChecksMultisetAndPrintfOrder(string src, string tr, bool ok) =>
        Assert.Equal(ok, Placeholders.Preserved(src, tr));

    [Theory]
    [InlineData("_Open", '_', 'O')]
    [InlineData("Save _As…", '_', 'A')]
    [InlineData("Re_do", '_', 'd')]
    [InlineData("&File", '&', 'F')]
    public void DetectsAccelerators(string text, char marker, char key) =>
        Assert.Equal(new Accelerator(marker, key), Accelerators.Detect(text));

    [Theory]
    [InlineData("file_name")]
    [InlineData("Tom & Jerry")]
    [InlineData("Use &amp; here")]
    [InlineData("a_b_c")]
    [InlineData("no marker")]
    [InlineData("KP_Begin")]
    [InlineData("SCSI_host host device")]
    [InlineData("Sampling_step: %u")]
    [InlineData("same as %_H")]
    [InlineData("-K, --backup-converted back up as X_orig")]
    [InlineData("AT&T")]
    [InlineData("~/config")]
    public void IgnoresNonAccelerators(string text) => Assert.Null(Accelerators.Detect(text));

    [Theory]
    [InlineData("Save _As…", "另存为…", "另存为(_A)…")]
    [InlineData("_Open", "打开", "打开(_O)")]
    [InlineData("_Open", "打开(_O)", "打开(_O)")]
    [InlineData("&Name:", "名称：", "名称(&N)：")]
    [InlineData("Re_do", "重做", "重做(_D)")]
    public void AppliesChineseConvention(string src, string tr, string expected)
    {
        var acc = Accelerators.Detect(src)!.Value;
        Assert.Equal(expected, Accelerators.ApplyChinese(tr, acc));
        Assert.DoesNotContain(acc.Marker, Accelerators.Strip(src, acc));
    }
}
