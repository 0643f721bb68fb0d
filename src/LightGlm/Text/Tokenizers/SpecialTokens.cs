// Our reserved special tokens and their fixed ids in tokenizers trained by LightGlm (BpeTrainer).
namespace LightGlm.Text.Tokenizers;

public static class SpecialTokens
{
    public const string Pad = "<|pad|>";
    public const string Bos = "<|bos|>";
    public const string Eos = "<|eos|>";
    public const string En2Zh = "<|en2zh|>";
    public const string Zh2En = "<|zh2en|>";
    public const string Sep = "<|sep|>";

    /// <summary>In this order they take ids 0..5 of every tokenizer BpeTrainer writes.</summary>
    public static readonly string[] All = [Pad, Bos, Eos, En2Zh, Zh2En, Sep];

    public const int PadId = 0, BosId = 1, EosId = 2, En2ZhId = 3, Zh2EnId = 4, SepId = 5;
}

/// <summary>
/// The translation prompt built from the special tokens:
/// <c>&lt;|bos|&gt; &lt;|en2zh|&gt; source-ids &lt;|sep|&gt; target-ids &lt;|eos|&gt;</c> (or &lt;|zh2en|&gt;).
/// The prompt (up to and including &lt;|sep|&gt;) is the GLM prefix; the loss covers the target and &lt;|eos|&gt;.
/// </summary>
public static class TranslationPrompt
{
    /// <summary>Ids of the prompt: bos, direction, source, sep. Throws if the tokenizer lacks our specials.</summary>
    public static int[] Prompt(ITokenizer tok, string source, bool englishToChinese)
    {
        var src = tok.Encode(source, parseSpecialTokens: false);
        var ids = new int[src.Length + 3];
        ids[0] = Id(tok, SpecialTokens.Bos);
        ids[1] = Id(tok, englishToChinese ? SpecialTokens.En2Zh : SpecialTokens.Zh2En);
        src.CopyTo(ids, 2);
        ids[^1] = Id(tok, SpecialTokens.Sep);
        return ids;
    }

    /// <summary>A full training example: prompt ids, then target ids and eos. PromptLength = prefix length P.</summary>
    public static (int[] Ids, int PromptLength) Example(ITokenizer tok, string source, string target, bool englishToChinese)
    {
        var p = Prompt(tok, source, englishToChinese);
        var t = tok.Encode(target, parseSpecialTokens: false);
        var ids = new int[p.Length + t.Length + 1];
        p.CopyTo(ids, 0);
        t.CopyTo(ids, p.Length);
        ids[^1] = Id(tok, SpecialTokens.Eos);
        return (ids, p.Length);
    }

    static int Id(ITokenizer tok, string special) =>
        tok.SpecialTokens.TryGetValue(special, out int id) ? id
        : throw new InvalidOperationException($"the tokenizer has no {special} token; train one with `lightglm tokenizer train` (it reserves {string.Join(" ", SpecialTokens.All)}).");
}
