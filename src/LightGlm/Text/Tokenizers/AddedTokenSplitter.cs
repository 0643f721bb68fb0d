// Finds added (special) tokens in raw text, leftmost and then longest first, before normalisation, and encodes a text
// around them (HfTokenizer and SentencePieceTokenizer alike).
namespace LightGlm.Text.Tokenizers;

internal sealed class AddedTokenSplitter
{
    readonly Dictionary<char, (string Content, int Id)[]> _byFirst;
    readonly Dictionary<string, int> _all;

    public AddedTokenSplitter(IEnumerable<(string Content, int Id)> tokens)
    {
        var list = tokens.Where(t => t.Content.Length > 0).ToList();
        _all = list.GroupBy(t => t.Content).ToDictionary(g => g.Key, g => g.First().Id, StringComparer.Ordinal);
        _byFirst = list.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public bool IsEmpty => _byFirst.Count == 0;

    public int? Lookup(string s) => _all.TryGetValue(s, out int id) ? id : null;

    /// <summary>(position, length, id) of each occurrence, non-overlapping, left to right.</summary>
    public List<(int Pos, int Len, int Id)> Find(ReadOnlySpan<char> text)
    {
        var r = new List<(int, int, int)>();
        if (_byFirst.Count == 0) return r;
        for (int i = 0; i < text.Length; i++)
        {
            if (!_byFirst.TryGetValue(text[i], out var cands)) continue;
            foreach (var (content, id) in cands)
            {
                if (!text[i..].StartsWith(content, StringComparison.Ordinal)) continue;
                r.Add((i, content.Length, id));
                i += content.Length - 1;
                break;
            }
        }
        return r;
    }

    /// <summary>Each added token in <paramref name="text"/> becomes its id; the text before, between and after goes to
    /// <paramref name="encodeSegment"/> (which appends its ids), in order.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, Action<ReadOnlySpan<char>, List<int>> encodeSegment)
    {
        int start = 0;
        foreach (var (pos, len, id) in Find(text))
        {
            encodeSegment(text[start..pos], ids);
            ids.Add(id);
            start = pos + len;
        }
        encodeSegment(text[start..], ids);
    }
}
