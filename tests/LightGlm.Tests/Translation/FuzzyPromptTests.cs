// The prompt with a fuzzy match (TaskFormat), its length rule in training (the batcher) and at inference (the
// translator), and the prompt format a model directory records.
using LightGlm.Generation;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public sealed class FuzzyPromptTests
{
    static readonly CharTokenizer Tok = new("abcdefghijklmnopqrstuvwxyz 文件错误打开多个");
    static readonly SpecialTokens Sp = SpecialTokens.From(Tok);

    [Fact]
    public void TheMatchGoesAfterTheSourceBetweenSeparatorsAndStaysOutOfTheLoss()
    {
        var src = Tok.EncodeText("open file");
        var match = Tok.EncodeText("打开多个文件");
        var tgt = Tok.EncodeText("打开文件");
        var prompt = TaskFormat.Prompt(Sp, Direction.EnToZh, src, match);
        Assert.Equal([Sp.Bos, Sp.En2Zh, .. src, Sp.Sep, .. match, Sp.Sep], prompt);
        Assert.Equal(TaskFormat.PromptLength(src.Length, match.Length), prompt.Length);
        Assert.Equal(TaskFormat.Prompt(Sp, Direction.EnToZh, src), TaskFormat.Prompt(Sp, Direction.EnToZh, src, null));

        var ex = TaskFormat.Example(Sp, Direction.EnToZh, src, tgt, match);
        int P = prompt.Length;
        Assert.Equal(P, ex.PrefixLength); // source and match are both in the bidirectional prefix
        Assert.Equal(prompt, ex.Tokens[..P]);
        Assert.All(ex.Targets[..(P - 1)], t => Assert.Equal(-1, t)); // no loss on the match
        Assert.Equal([.. tgt, Sp.Eos], ex.Targets[(P - 1)..]);       // the last <|sep|> predicts the answer, as without a match
        Assert.Equal(P + tgt.Length, ex.Length);

        // Fits: prompt with the match + answer within seq_len, to the token.
        int n = TaskFormat.PromptLength(src.Length, match.Length) + tgt.Length;
        Assert.True(TaskFormat.MatchFits(src.Length, match.Length, tgt.Length, seqLen: n));
        Assert.False(TaskFormat.MatchFits(src.Length, match.Length, tgt.Length, seqLen: n - 1));
    }

    [Fact]
    public void TheBatcherGivesMatchesWhereTheyFitAndThePlainPromptWhereTheyDoNot()
    {
        var pairs = new List<(string, string)> { ("open file", "打开文件"), ("open files", "打开多个文件"), ("error", "错误") };
        var matches = new PairMatches?[] { new("打开多个文件", "open files"), null, new(new string('个', 40), null) };
        var b = new TranslationBatcher(Tok, pairs, maxLength: 32, matches: matches);
        var plain = new TranslationBatcher(Tok, pairs, maxLength: 32);
        Assert.Equal(plain.Examples.Count, b.Examples.Count); // a match never costs an example
        Assert.Equal(2, b.Stats.WithMatch);                   // pair 0, both directions
        Assert.Equal(1, b.Stats.MatchesTooLong);              // pair 2's 40-token match: plain prompt instead
        var ex = b.Examples[0];
        Assert.Equal(TaskFormat.Example(Sp, Direction.EnToZh, Tok.EncodeText("open file"), Tok.EncodeText("打开文件"), Tok.EncodeText("打开多个文件")).Tokens, ex.Tokens);
        Assert.Equal(TaskFormat.Example(Sp, Direction.ZhToEn, Tok.EncodeText("打开文件"), Tok.EncodeText("open file"), Tok.EncodeText("open files")).Tokens, b.Examples[1].Tokens);
        for (int i = 2; i < b.Examples.Count; i++) Assert.Equal(plain.Examples[i].Tokens, b.Examples[i].Tokens);
        Assert.Throws<ArgumentException>(() => new TranslationBatcher(Tok, pairs, 32, matches: [null]));
    }

    [Fact]
    public void TheTranslatorDecodesThePromptWithTheMatchAndDropsAMatchThatDoesNotFit()
    {
        var model = TranslatorTests.TinyModel();
        var tok = ByteTokenizer.Instance;
        var sp = SpecialTokens.From(tok);
        var tr = new GlmTranslator(model, tok, new TranslatorOptions { MaxBatch = 4, MaxLength = 128, MatchSeqLen = 48 });
        string[] texts = ["Open file", "Save", "Quit"];
        string?[] matches = ["打开文件夹", null, new string('x', 40)]; // the third: 4 + 40 + 4 + 40 > 48
        var got = tr.Translate(texts, Direction.EnToZh, maxNewTokens: 8, matches: matches);
        Assert.Equal([true, false, false], got.Select(r => r.WithMatch));
        var o = new GenerationOptions { MaxNewTokens = 8, StopTokens = [sp.Eos], BidirectionalPrompt = true };
        var withMatch = Generator.Generate(model, [TaskFormat.Prompt(sp, Direction.EnToZh, tok.EncodeText(texts[0]), tok.EncodeText(matches[0]!))], o)[0];
        Assert.Equal(withMatch.Tokens, got[0].Ids);
        Assert.Equal(tr.Translate([texts[1]], Direction.EnToZh, 8)[0].Ids, got[1].Ids);
        Assert.Equal(tr.Translate([texts[2]], Direction.EnToZh, 8)[0].Ids, got[2].Ids); // dropped: the plain prompt's answer
        Assert.NotEqual(tr.Translate([texts[0]], Direction.EnToZh, 8)[0].Ids, got[0].Ids); // the match reached the model
        // Without the trained seq_len only the window limits the match.
        var open = new GlmTranslator(model, tok, new TranslatorOptions { MaxBatch = 4, MaxLength = 128 });
        Assert.True(open.Translate([texts[2]], Direction.EnToZh, 8, matches: [matches[2]])[0].WithMatch);
        Assert.Throws<ArgumentException>(() => tr.Translate(texts, Direction.EnToZh, 8, matches: [null]));
    }

    [Fact]
    public void AMemoryGivesFuzzyMatchesToTheModelAndCountsThem()
    {
        var model = TranslatorTests.TinyModel();
        var tr = new GlmTranslator(model, ByteTokenizer.Instance, new TranslatorOptions { MaxBatch = 4, MaxLength = 128 });
        var tm = new TranslationMemory([("Open file", "打开文件"), ("Save the file", "保存文件"), ("Quit", "退出")]);
        string[] texts = ["open file", "Save a file", "Delete everything now"];
        var answer = tm.Translate(tr, texts, Direction.EnToZh, 8, fuzzyThreshold: 0.5);
        Assert.Equal([MemoryUse.Exact, MemoryUse.FuzzyPrompt, MemoryUse.Model], answer.Uses);
        Assert.Equal((1, 1), (answer.ExactHits, answer.FuzzyHits));
        Assert.Equal("打开文件", answer.Results[0].Text);
        Assert.Equal(tr.Translate(["Save a file"], Direction.EnToZh, 8, matches: ["保存文件"])[0].Ids, answer.Results[1].Ids);
        var exactOnly = tm.Translate(tr, texts, Direction.EnToZh, 8);
        Assert.Equal([MemoryUse.Exact, MemoryUse.Model, MemoryUse.Model], exactOnly.Uses);
    }

    [Fact]
    public void APromptFormatRoundTripsAndABadOneIsNamed()
    {
        string dir = Directory.CreateTempSubdirectory("lightglm-pf-").FullName;
        try
        {
            Assert.Null(PromptFormat.Load(dir));
            var f = new PromptFormat(FuzzyMatches: true, FuzzyThreshold: 0.6, FuzzyFraction: 0.5, SeqLen: 48);
            f.Save(dir);
            Assert.Equal(f, PromptFormat.Load(dir));
            Assert.True(ModelDirectory.IsModelFile(ModelDirectory.PromptFormatFile)); // a new model written there drops a stale one
            string path = Path.Combine(dir, ModelDirectory.PromptFormatFile);
            foreach (var bad in new[] { "{not json", """{"fuzzy_matches": true, "fuzzy_threshold": 0, "fuzzy_fraction": 0.5, "seq_len": 48}""" })
            {
                File.WriteAllText(path, bad);
                var e = Assert.Throws<InvalidDataException>(() => PromptFormat.Load(dir));
                Assert.Contains(path, e.Message);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
