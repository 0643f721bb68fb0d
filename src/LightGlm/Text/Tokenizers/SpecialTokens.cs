// The special tokens of the translation task and their ids in one tokenizer: names fixed here, ids looked up once.
// BpeTrainer reserves them as ids 0..5; the byte tokenizer puts them after the 256 bytes (256..261).
namespace LightGlm.Text.Tokenizers;

public sealed record SpecialTokens(int Pad, int Bos, int Eos, int En2Zh, int Zh2En, int Sep)
{
    public const string PadText = "<|pad|>", BosText = "<|bos|>", EosText = "<|eos|>",
        En2ZhText = "<|en2zh|>", Zh2EnText = "<|zh2en|>", SepText = "<|sep|>";

    /// <summary>In this order they take ids 0..5 of every tokenizer BpeTrainer writes, and 256..261 of <see cref="ByteTokenizer"/>.</summary>
    public static readonly string[] All = [PadText, BosText, EosText, En2ZhText, Zh2EnText, SepText];

    /// <summary>The ids BpeTrainer gives them.</summary>
    public static readonly SpecialTokens Reserved = new(0, 1, 2, 3, 4, 5);

    /// <summary>Looks every special token up in <paramref name="tok"/>; names each missing one.</summary>
    public static SpecialTokens From(ITokenizer tok)
    {
        var missing = All.Where(t => !tok.SpecialTokens.ContainsKey(t)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"the tokenizer lacks the special token(s) {string.Join(' ', missing)} that translation needs; " +
                $"train one with `lightglm tokenizer train` (it reserves {string.Join(' ', All)})");
        int Id(string t) => tok.SpecialTokens[t];
        return new SpecialTokens(Id(PadText), Id(BosText), Id(EosText), Id(En2ZhText), Id(Zh2EnText), Id(SepText));
    }
}
