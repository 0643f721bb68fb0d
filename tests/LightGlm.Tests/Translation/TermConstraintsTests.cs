// Terminology as a soft decoding constraint: which terms a source asks for, which tokens get the bonus as a term is
// written, and the CLI refusing it with beam search.
using LightGlm.Evaluation.Metrics;
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

public class TermConstraintsTests
{
    static readonly CharTokenizer Tok = new("错误选项文件名 abcdefilmnoprstw");
    static readonly Glossary Gloss = new([new("error", "错误"), new("file", "文件"), new("file name", "文件名"), new("options", "选项")]);

    static int Id(char c) => Tok.Encode(c.ToString())[0];

    static float[] Boost(TermConstraints tc, IReadOnlyList<string> terms, string output, bool zh = true)
    {
        var logits = new float[Tok.VocabSize];
        tc.Apply(logits, terms, output, zh);
        return logits;
    }

    [Fact]
    public void TermsAreTheGlossaryEntriesTheSourceContainsLongestOnly()
    {
        var tc = new TermConstraints(Gloss, Tok, 3f);
        Assert.Equal(["文件名", "错误"], tc.TermsFor("Error: bad file name", Direction.EnToZh));
        Assert.Empty(tc.TermsFor("terrors profiles", Direction.EnToZh)); // not inside longer words
        Assert.Equal(["options"], tc.TermsFor("无效选项", Direction.ZhToEn));
    }

    [Fact]
    public void TheTokenThatStartsOrContinuesAPendingTermGetsTheBonus()
    {
        var tc = new TermConstraints(Gloss, Tok, 3f);
        var start = Boost(tc, ["错误"], "");
        Assert.Equal(3f, start[Id('错')]);
        Assert.Equal(0f, start[Id('误')]);
        var next = Boost(tc, ["错误"], "无法错"); // half written: its second character is next
        Assert.Equal(3f, next[Id('误')]);
        Assert.Equal(0f, next[Id('错')]);
        Assert.All(Boost(tc, ["错误"], "发生错误了"), x => Assert.Equal(0f, x)); // written: nothing more
        var two = Boost(tc, ["错误", "选项"], "");
        Assert.Equal(3f, two[Id('错')]);
        Assert.Equal(3f, two[Id('选')]);
        Assert.Equal(2, two.Count(x => x != 0));
        Assert.All(Boost(new TermConstraints(Gloss, Tok, 0f), ["错误"], ""), x => Assert.Equal(0f, x)); // bias 0: off
    }

    [Fact]
    public void EnglishTermsMatchWithoutCase()
    {
        var tc = new TermConstraints(Gloss, Tok, 2f);
        Assert.Equal(2f, Boost(tc, ["options"], "bad o", zh: false)[Id('p')]);
        Assert.All(Boost(tc, ["options"], "Bad Options", zh: false), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void TermsAreRefusedWithBeamSearch()
    {
        var e = Assert.Throws<ArgumentException>(() => new TranslatorOptions { MaxBeam = 4, Beam = 4, Terms = Gloss }.Validate());
        Assert.Contains("greedy decoding only", e.Message);
    }
}
