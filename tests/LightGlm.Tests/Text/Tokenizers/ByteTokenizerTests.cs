// The one byte tokenizer keeps the ids of both byte tokenizers it replaced: the translation one (bytes, then the six
// specials at 256..261) that saved models without tokenizer.json were trained with, and the generation one (pad 256,
// bos 257, eos 258) of older `train --tokenizer byte` models.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class ByteTokenizerTests
{
    static readonly ByteTokenizer Tok = ByteTokenizer.Instance;

    [Fact]
    public void IdLayoutIsUnchanged()
    {
        Assert.Equal(262, Tok.VocabSize);
        Assert.Equal(new SpecialTokens(Pad: 256, Bos: 257, Eos: 258, En2Zh: 259, Zh2En: 260, Sep: 261), SpecialTokens.From(Tok));
        Assert.Equal((257, 258, 256), (Tok.BosId!.Value, Tok.EosId!.Value, Tok.PadId!.Value)); // the 259-id layout's specials
        Assert.Equal([0x6c, 0x73, 0x20, 0xe6, 0x96, 0x87], Tok.EncodeText("ls 文"));           // UTF-8 bytes are their ids
        Assert.True(ByteTokenizer.Fits(259) && ByteTokenizer.Fits(262) && !ByteTokenizer.Fits(300));
    }

    [Theory]
    [InlineData("error: 文件未找到 (file not found)")]
    [InlineData("")]
    [InlineData("tab\there, emoji 🙂, ascii ~")]
    public void RoundTripsUtf8(string s) => Assert.Equal(s, Tok.DecodeText(Tok.EncodeText(s)));

    [Fact]
    public void SpecialTokenTextIsParsedOnlyWhenAsked()
    {
        Assert.Equal([0x61, 258, 0x62], Tok.Encode("a<|eos|>b"));
        Assert.DoesNotContain(258, Tok.EncodeText("a<|eos|>b"));
        Assert.Equal("a<|eos|>b", Tok.Decode([0x61, 258, 0x62]));
        Assert.Equal("ab", Tok.DecodeText([0x61, 258, 0x62, 999]));
        Assert.Equal("\ufffd", Tok.DecodeText([0xe6, 0x96])); // a cut character
    }

    [Fact]
    public void TokensNameBytesAndSpecials()
    {
        Assert.Equal("<0x41>", Tok.IdToToken(0x41));
        Assert.Equal("<|sep|>", Tok.IdToToken(261));
        Assert.Null(Tok.IdToToken(262));
        Assert.Equal(0x41, Tok.TokenToId("<0x41>"));
        Assert.Equal(259, Tok.TokenToId("<|en2zh|>"));
        Assert.Null(Tok.TokenToId("A"));
    }
}
