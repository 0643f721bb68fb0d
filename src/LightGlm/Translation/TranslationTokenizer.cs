// Adapts the project's tokenizers (src/LightGlm/Text/Tokenizers) to what the translation task needs.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>The project's tokenizer seen as the translation task needs it: plain text never yields special ids.</summary>
public sealed class TranslationTokenizer(ITokenizer inner) : ITranslationTokenizer
{
    public ITokenizer Inner => inner;
    public int VocabSize => inner.VocabSize;
    public int[] Encode(string text) => inner.Encode(text, parseSpecialTokens: false);
    public string Decode(ReadOnlySpan<int> ids) => inner.Decode(ids, skipSpecialTokens: true);
    public int? SpecialTokenId(string token) => inner.SpecialTokens.TryGetValue(token, out int id) ? id : null;
}
