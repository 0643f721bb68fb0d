// The translation task layout (prompt, targets, prefix) and the batcher that pads it for the trainer.
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public sealed class TaskFormatTests
{
    static readonly CharTokenizer Tok = new("abcdefghijklmnopqrstuvwxyz 文件错误打开");
    static readonly SpecialTokens Sp = SpecialTokens.From(Tok);

    [Fact]
    public void ExampleHasPromptPrefixAndLossOnTargetOnly()
    {
        var src = Tok.EncodeText("open file");
        var tgt = Tok.EncodeText("打开文件");
        var ex = TaskFormat.Example(Sp, Direction.EnToZh, src, tgt);
        int P = src.Length + 3;
        Assert.Equal(P, ex.PrefixLength);
        Assert.Equal(new[] { Sp.Bos, Sp.En2Zh }, ex.Tokens[..2]);
        Assert.Equal(Sp.Sep, ex.Tokens[P - 1]);
        Assert.Equal(P + tgt.Length, ex.Tokens.Length); // full minus the last token
        for (int t = 0; t < P - 1; t++) Assert.Equal(-1, ex.Targets[t]);
        Assert.Equal(tgt, ex.Targets[(P - 1)..(P - 1 + tgt.Length)]);
        Assert.Equal(Sp.Eos, ex.Targets[^1]);
        // Targets are the next tokens wherever they count.
        for (int t = P - 1; t < ex.Tokens.Length - 1; t++) Assert.Equal(ex.Tokens[t + 1], ex.Targets[t]);
        Assert.Equal(Sp.Zh2En, TaskFormat.Example(Sp, Direction.ZhToEn, tgt, src).Tokens[1]);
    }

    [Fact]
    public void BatcherMakesBothDirectionsAndPads()
    {
        var pairs = new List<(string, string)> { ("open file", "打开文件"), ("error", "错误"), ("", "空"), (new string('a', 200), "文件") };
        var b = new TranslationBatcher(Tok, pairs, maxLength: 64);
        Assert.Equal(new BatcherStats(4, 4, 2, 1), b.Stats);
        var batches = b.Epoch(3, seed: 7).ToList();
        Assert.Equal(4, batches.Sum(x => x.B));
        foreach (var batch in batches)
        {
            Assert.Equal(0, batch.T % TranslationBatcher.LengthQuantum);
            for (int r = 0; r < batch.B; r++)
            {
                int P = batch.PrefixLengths[r];
                Assert.Equal(Sp.Bos, batch.Tokens[r * batch.T]);
                Assert.Equal(Sp.Sep, batch.Tokens[r * batch.T + P - 1]);
                // Padding is pad ids with no loss; the last counted target is eos.
                int last = Enumerable.Range(0, batch.T).Last(t => batch.Targets[r * batch.T + t] >= 0);
                Assert.Equal(Sp.Eos, batch.Targets[r * batch.T + last]);
                for (int t = last + 2; t < batch.T; t++) { Assert.Equal(Sp.Pad, batch.Tokens[r * batch.T + t]); Assert.Equal(-1, batch.Targets[r * batch.T + t]); }
            }
        }
        // Same seed, same batches; another seed, another order.
        Assert.Equal(batches.Select(x => string.Join(',', x.Tokens)), b.Epoch(3, 7).Select(x => string.Join(',', x.Tokens)));
    }

    [Theory]
    [InlineData("en-zh", Direction.EnToZh)]
    [InlineData("zh-en", Direction.ZhToEn)]
    public void DirectionsParse(string s, Direction d) { Assert.Equal(d, Directions.Parse(s)); Assert.Equal(s, d.Name()); }

    [Fact]
    public void MissingSpecialTokenIsNamed()
    {
        var e = Assert.Throws<InvalidDataException>(() => SpecialTokens.From(new NoSpecials()));
        Assert.Contains("<|sep|>", e.Message);
    }

    sealed class NoSpecials : ITokenizer
    {
        public int VocabSize => 10;
        public IReadOnlyDictionary<string, int> SpecialTokens { get; } = new Dictionary<string, int> { [LightGlm.Text.Tokenizers.SpecialTokens.PadText] = 0 };
        public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true) => [];
        public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false) => "";
        public string? IdToToken(int id) => null;
        public int? TokenToId(string token) => null;
    }
}
