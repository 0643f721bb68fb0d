// Our byte-level BPE: trained on real corpus strings, it round-trips any Unicode text exactly (FsCheck),
// reserves our special tokens at ids 0..5, and its tokenizer.json loads back with the same behaviour.
using FsCheck;
using FsCheck.Fluent;
using LightGlm.Text.Gettext;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Tests.Text.Tokenizers;

public sealed class BpeTrainerTests
{
    static readonly Lazy<HfTokenizer> Trained = new(() =>
    {
        // Real text: every message of the committed real catalog and the sample, both languages.
        var texts = new List<string>();
        foreach (var f in new[] { "real-m4.zh_CN.mo", "sample.zh_CN.po" })
            foreach (var e in GettextCatalog.Load(TextTestData.File(f)).Messages)
                texts.AddRange([e.Id, .. e.Translations]);
        var ms = new MemoryStream();
        BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 1200 }, ms);
        ms.Position = 0;
        return HfTokenizer.Create(ms);
    });

    [Fact]
    public void Trained_HasSpecialsBytesAndMerges()
    {
        var tok = Trained.Value;
        Assert.Equal(1200, tok.VocabSize);
        for (int i = 0; i < SpecialTokens.All.Length; i++) Assert.Equal(i, tok.SpecialTokens[SpecialTokens.All[i]]);
        Assert.Equal(6 + 'A', tok.TokenToId("A"));
        // Frequent words of the catalog became single tokens.
        Assert.True(tok.Encode("file").Length <= 2);
        Assert.True(tok.Encode("文件").Length < 6);
        Assert.Equal(SpecialTokens.Reserved, SpecialTokens.From(tok));
        var ex = TaskFormat.Example(SpecialTokens.From(tok), Direction.EnToZh, tok.EncodeText("cannot open file"), tok.EncodeText("无法打开文件"));
        int[] ids = [.. ex.Tokens, ex.Targets[^1]];
        int p = ex.PrefixLength;
        Assert.Equal([SpecialTokens.Reserved.Bos, SpecialTokens.Reserved.En2Zh], ids[..2]);
        Assert.Equal(SpecialTokens.Reserved.Sep, ids[p - 1]);
        Assert.Equal(SpecialTokens.Reserved.Eos, ids[^1]);
        Assert.Equal("无法打开文件", tok.Decode(ids[p..^1]));
    }

    [Fact]
    public void RoundTrip_AnyValidUnicode_Exactly()
    {
        var tok = Trained.Value;
        Prop.ForAll<string>(s =>
        {
            s ??= "";
            if (Utf16HasLone(s)) s = s.Replace('\uD800', 'x'); // lone surrogates are not Unicode text
            if (Utf16HasLone(s)) return true;
            return tok.Decode(tok.Encode(s, parseSpecialTokens: false)) == s;
        }).QuickCheckThrowOnFailure();
        // And on hand-picked hard cases, supplementary planes, controls, long runs.
        foreach (var s in new[] { "", "\0", "🙂👨‍👩‍👧", "𠀀\r\n\t  x", new string('中', 5000), "a\u0301\u200d", "<|eos|> literal" })
            Assert.Equal(s, tok.Decode(tok.Encode(s, parseSpecialTokens: false)));
    }

    static bool Utf16HasLone(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }
}
