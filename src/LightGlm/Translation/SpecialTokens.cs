// The ids of the special tokens the translation task uses, looked up once in the model's tokenizer.
namespace LightGlm.Translation;

/// <summary>
/// What the translation task needs from a tokenizer (an adapter wraps the project's tokenizers). Implementations are
/// shared across threads (the batcher encodes pairs in parallel): Encode and Decode must be thread-safe.
/// </summary>
public interface ITranslationTokenizer
{
    int VocabSize { get; }
    /// <summary>Ids of plain text; special-token strings inside the text are NOT turned into special ids.</summary>
    int[] Encode(string text);
    /// <summary>Text of ids; special tokens are left out.</summary>
    string Decode(ReadOnlySpan<int> ids);
    /// <summary>Id of a special token such as "&lt;|eos|&gt;", or null.</summary>
    int? SpecialTokenId(string token);
}

public sealed record SpecialTokens(int Pad, int Bos, int Eos, int En2Zh, int Zh2En, int Sep)
{
    public const string PadText = "<|pad|>", BosText = "<|bos|>", EosText = "<|eos|>",
        En2ZhText = "<|en2zh|>", Zh2EnText = "<|zh2en|>", SepText = "<|sep|>";

    public static readonly string[] All = [PadText, BosText, EosText, En2ZhText, Zh2EnText, SepText];

    public int Tag(Direction d) => d == Direction.EnToZh ? En2Zh : Zh2En;

    /// <summary>Looks every special token up; names each missing one.</summary>
    public static SpecialTokens From(ITranslationTokenizer tok)
    {
        var missing = All.Where(t => tok.SpecialTokenId(t) is null).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"the tokenizer lacks the special token(s) {string.Join(' ', missing)} that translation needs; train or load a tokenizer with {string.Join(' ', All)}");
        int Id(string t) => tok.SpecialTokenId(t)!.Value;
        return new SpecialTokens(Id(PadText), Id(BosText), Id(EosText), Id(En2ZhText), Id(Zh2EnText), Id(SepText));
    }
}
