// cl100k_base (GPT-4's tiktoken vocabulary, from the NuGet data package) converted to a tokenizer.json: our HfTokenizer
// on it gives Microsoft.ML.Tokenizers' TiktokenTokenizer's ids and text back; a bad ranks file is refused with its line.
using System.Text;
using LightGlm.Text.Tokenizers;
using Ml = Microsoft.ML.Tokenizers;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class TiktokenConverterTests
{
    static readonly Lazy<ITokenizer> Cl100k = new(() =>
    {
        byte[][] tokens;
        using (var ranks = TiktokenConverter.OpenCl100kBase()) tokens = TiktokenConverter.ReadRanks(ranks);
        var json = new MemoryStream();
        TiktokenConverter.WriteTokenizerJson(tokens, TiktokenConverter.Cl100kPattern, TiktokenConverter.Cl100kSpecialTokens, json);
        string path = Path.Combine(Path.GetTempPath(), $"cl100k-{Guid.NewGuid():N}.tokenizer.json");
        File.WriteAllBytes(path, json.ToArray());
        try { return TokenizerLoader.Load(path); }
        finally { File.Delete(path); }
    });

    [Theory]
    [InlineData("Hello world! It's 2026, isn't it?")]
    [InlineData("Cannot open file '%s': permission denied\n")]
    [InlineData("无法打开文件“%s”：权限不够")]
    [InlineData("  indented   code\t{ return x++; }\r\n\r\n")]
    [InlineData("emoji 😀 and ümlauts, 12345678 digits")]
    [InlineData("<|endoftext|> after the end")]
    public void OurTokenizerOnTheConvertedFileGivesTiktokensIds(string text)
    {
        var ml = Ml.TiktokenTokenizer.CreateForEncoding("cl100k_base");
        int[] theirs = [.. ml.EncodeToIds(text)];
        int[] ours = Cl100k.Value.Encode(text);
        Assert.Equal(theirs, ours);
        Assert.Equal(text, Cl100k.Value.Decode(ours));
    }

    [Theory]
    [InlineData("SGk= 0\nIQ== 0\n", "line 2", "rank 0 appears twice")]
    [InlineData("SGk= 0\nIQ== 2\n", "ranks are not 0..1", null)]
    [InlineData("SGk= 0\n*** 1\n", "line 2", "not base64")]
    [InlineData("SGk= x\n", "line 1", "expected 'base64 rank'")]
    [InlineData("", "no tokens", null)]
    public void BadRanksFilesAreRefusedWithTheLine(string file, string where, string? what)
    {
        var e = Assert.Throws<InvalidDataException>(() => TiktokenConverter.ReadRanks(new MemoryStream(Encoding.UTF8.GetBytes(file)), "test.tiktoken"));
        Assert.Contains("test.tiktoken", e.Message);
        Assert.Contains(where, e.Message);
        if (what is not null) Assert.Contains(what, e.Message);
    }

    [Fact]
    public void BothLineFormatsReadTheSameRanks()
    {
        var a = TiktokenConverter.ReadRanks(new MemoryStream("SGk= 0\nIQ== 1\n"u8.ToArray()));
        var b = TiktokenConverter.ReadRanks(new MemoryStream("Capacity: 2\nSGk=\nIQ==\n"u8.ToArray()));
        Assert.Equal(a, b);
        Assert.Equal("Hi"u8.ToArray(), a[0]);
    }
}
