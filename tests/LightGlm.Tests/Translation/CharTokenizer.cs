// A test tokenizer: one id per UTF-16 char seen in a fixed alphabet, plus the six special tokens.
using LightGlm.Translation;

namespace LightGlm.Tests.Translation;

internal sealed class CharTokenizer : ITranslationTokenizer
{
    readonly Dictionary<char, int> _ids = new();
    readonly List<char> _chars = [];

    public CharTokenizer(string alphabet)
    {
        foreach (var c in alphabet.Distinct()) { _ids[c] = SpecialTokens.All.Length + _chars.Count; _chars.Add(c); }
    }

    public int VocabSize => SpecialTokens.All.Length + _chars.Count;
    public int[] Encode(string text) => text.Where(_ids.ContainsKey).Select(c => _ids[c]).ToArray();
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var id in ids) if (id >= SpecialTokens.All.Length && id < VocabSize) sb.Append(_chars[id - SpecialTokens.All.Length]);
        return sb.ToString();
    }
    public int? SpecialTokenId(string token) { int i = Array.IndexOf(SpecialTokens.All, token); return i < 0 ? null : i; }
}
