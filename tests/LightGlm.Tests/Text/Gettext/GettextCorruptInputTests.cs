// Corrupt catalogs give clear InvalidDataException messages naming the file and the problem; never a crash or hang.
using System.Buffers.Binary;
using System.Text;
using LightGlm.Text.Gettext;
using LightGlm.Tests.Text;

namespace LightGlm.Tests.Text.Gettext;

public sealed class GettextCorruptInputTests
{
    static byte[] RealMo() => File.ReadAllBytes(TextTestData.File("real-m4.zh_CN.mo"));

    static InvalidDataException MoFails(byte[] data) =>
        Assert.Throws<InvalidDataException>(() => MoReader.Parse(data, "bad.mo"));

    [Fact]
    public void BadMagic() => Assert.Contains("bad magic", MoFails([1, 2, 3, 4, .. new byte[40]]).Message);

    [Fact]
    public void TooShort() => Assert.Contains("too short", MoFails([0xde, 0x12, 0x04, 0x95]).Message);

    [Fact]
    public void TruncatedTables()
    {
        var d = RealMo();
        Assert.Contains("truncated", MoFails(d[..40]).Message);
    }

    [Fact]
    public void TruncatedStrings()
    {
        var d = RealMo();
        Assert.Contains("runs past the end", MoFails(d[..(d.Length / 2)]).Message);
    }

    [Fact]
    public void OffsetOutOfRange()
    {
        var d = RealMo();
        int o = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(12));
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(o + 8 * 3 + 4), 0xFFFFFFF0);
        Assert.Contains("original string #3", MoFails(d).Message);
        var e = RealMo();
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(8), 0x7FFFFFFF); // absurd message count
        Assert.Contains("truncated", MoFails(e).Message);
    }

    [Fact]
    public void InvalidUtf8InMo()
    {
        var d = RealMo();
        int t = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(16));
        int off = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(t + 8 * 5 + 4));
        d[off] = 0xFF;
        Assert.Contains("not valid utf-8", MoFails(d).Message);
    }

    static InvalidDataException PoFails(string text) =>
        Assert.Throws<InvalidDataException>(() => PoReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "bad.po"));

    [Theory]
    [InlineData("msgid \"a\"\n", "no msgstr")]
    [InlineData("msgid \"a\nmsgstr \"b\"\n", "unterminated")]
    [InlineData("msgid \"a\"\nmsgstr \"b\\q\"\n", "invalid escape")]
    [InlineData("msgstr \"b\"\n", "without msgid")]
    [InlineData("msgid \"a\"\nmsgstr[0] \"b\"\n", "without msgid_plural")]
    [InlineData("\"dangling\"\n", "continuation")]
    [InlineData("msgid \"a\" x\nmsgstr \"\"\n", "after the closing quote")]
    [InlineData("foo \"a\"\n", "unknown keyword")]
    public void PoSyntaxErrors_NameLineAndProblem(string text, string expected)
    {
        var e = PoFails(text);
        Assert.Contains(expected, e.Message);
        Assert.Contains("bad.po:", e.Message);
    }

    [Fact]
    public void InvalidUtf8InPo()
    {
        var bytes = Encoding.UTF8.GetBytes("msgid \"a\"\nmsgstr \"b\"\n");
        bytes[14] = 0xC3; // lone lead byte inside msgstr
        var e = Assert.Throws<InvalidDataException>(() => PoReader.Read(new MemoryStream(bytes), "bad.po"));
        Assert.Contains("not valid utf-8", e.Message);
    }

    [Fact]
    public void HundredMegabyteLine_IsRefusedQuickly()
    {
        var big = new byte[100_000_000];
        big.AsSpan().Fill((byte)'a');
        var e = Assert.Throws<InvalidDataException>(() => PoReader.Read(new MemoryStream(big), "huge.po"));
        Assert.Contains("exceeds the limit", e.Message);
        // As a .mo it is not a catalog at all.
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => MoReader.Parse(big, "huge.mo")).Message);
    }
}
