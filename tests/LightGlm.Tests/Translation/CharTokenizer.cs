// A test tokenizer: the six special tokens as ids 0..5, then one id per UTF-16 char of a fixed alphabet.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Tests.Translation;

internal sealed class CharTokenizer : ITokenizer
{
    readonly Dictionary<char, int> _ids = new();
    readonly List<char> _chars = [];
    static readonly int Specials = LightGlm.Text.Tokenizers.SpecialTokens.All.Length;

    public CharTokenizer(string alphabet)
    {
        foreach (var c in alphabet.Distinct()) { _ids[c] = Specials + _chars.Count; _chars.Add(c); }
    }

    public int VocabSize => Specials + _chars.Count;
    public IReadOnlyDictionary<string, int> SpecialTokens { get; } =
        LightGlm.Text.Tokenizers.SpecialTokens.All.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);

    /// <summary>Characters outside the alphabet are dropped; special-token text is never parsed.</summary>
    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        var ids = new List<int>(text.Length);
        foreach (char c in text) if (_ids.TryGetValue(c, out int id)) ids.Add(id);
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var id in ids)
        {
            if (id >= Specials && id < VocabSize) sb.Append(_chars[id - Specials]);
            else if (!skipSpecialTokens && id is >= 0 && id < Specials) sb.Append(LightGlm.Text.Tokenizers.SpecialTokens.All[id]);
        }
        return sb.ToString();
    }

    public string? IdToToken(int id) => id < 0 || id >= VocabSize ? null : id < Specials ? LightGlm.Text.Tokenizers.SpecialTokens.All[id] : _chars[id - Specials].ToString();
    public int? TokenToId(string token) => SpecialTokens.TryGetValue(token, out int s) ? s : token.Length == 1 && _ids.TryGetValue(token[0], out int id) ? id : null;
}
