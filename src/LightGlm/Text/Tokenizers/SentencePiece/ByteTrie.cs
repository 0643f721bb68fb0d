// A trie over UTF-8 bytes: piece -> id. Walks from a position, reporting every piece that is a prefix there.
namespace LightGlm.Text.Tokenizers.SentencePiece;

internal sealed class ByteTrie
{
    readonly Dictionary<long, int> _next = new();   // (node << 8 | byte) -> child node
    readonly List<int> _value = [-1];                // node -> id, or -1

    public int Count { get; private set; }

    public void Add(ReadOnlySpan<byte> key, int id)
    {
        int node = 0;
        foreach (byte b in key)
        {
            long k = ((long)node << 8) | b;
            if (!_next.TryGetValue(k, out int child)) { child = _value.Count; _value.Add(-1); _next[k] = child; }
            node = child;
        }
        if (_value[node] < 0) Count++;
        _value[node] = id;
    }

    /// <summary>Moves from <paramref name="node"/> (0 = root) along byte <paramref name="b"/>; false when there is no such edge.</summary>
    public bool Step(ref int node, byte b) => _next.TryGetValue(((long)node << 8) | b, out node);

    /// <summary>The id stored at a node, or -1.</summary>
    public int Value(int node) => _value[node];

    /// <summary>Length of the longest key that starts <paramref name="s"/>, or 0.</summary>
    public int LongestPrefix(ReadOnlySpan<byte> s)
    {
        int node = 0, best = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (!_next.TryGetValue(((long)node << 8) | s[i], out node)) break;
            if (_value[node] >= 0) best = i + 1;
        }
        return best;
    }
}
