// A trie over UTF-8 bytes: piece -> id. Walks from a position, reporting every piece that is a prefix there.
// Edges live in one open-addressing hash table keyed by (node, byte): a step is a multiply, a mask and usually one
// probe, with no per-node allocation (the unigram lattice and BPE merges step through it for every byte).
namespace LightGlm.Text.Tokenizers.SentencePiece;

internal sealed class ByteTrie
{
    long[] _keys = new long[64];      // (node << 8 | byte) + 1; 0 = empty slot
    int[] _child = new int[64];
    int _edges;
    int[] _value = [-1];              // node -> id, or -1
    int _nodes = 1;

    public int Count { get; private set; }

    public void Add(ReadOnlySpan<byte> key, int id)
    {
        int node = 0;
        foreach (byte b in key)
        {
            int child = node;
            if (!Step(ref child, b)) child = AddEdge(node, b);
            node = child;
        }
        if (_value[node] < 0) Count++;
        _value[node] = id;
    }

    int AddEdge(int node, byte b)
    {
        if (2 * (_edges + 1) > _keys.Length) Grow();
        int child = _nodes++;
        if (child == _value.Length) { Array.Resize(ref _value, child * 2); _value.AsSpan(child).Fill(-1); }
        Insert(((long)node << 8 | b) + 1, child);
        _edges++;
        return child;
    }

    void Insert(long key, int child)
    {
        int mask = _keys.Length - 1, h = Slot(key, mask);
        while (_keys[h] != 0) h = (h + 1) & mask;
        _keys[h] = key;
        _child[h] = child;
    }

    void Grow()
    {
        var (keys, child) = (_keys, _child);
        _keys = new long[keys.Length * 2];
        _child = new int[keys.Length * 2];
        for (int i = 0; i < keys.Length; i++) if (keys[i] != 0) Insert(keys[i], child[i]);
    }

    static int Slot(long key, int mask) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> 40) & mask;

    /// <summary>Moves from <paramref name="node"/> (0 = root) along byte <paramref name="b"/>; false (node unchanged) when there is no such edge.</summary>
    public bool Step(ref int node, byte b)
    {
        long key = ((long)node << 8 | b) + 1;
        var keys = _keys;
        int mask = keys.Length - 1, h = Slot(key, mask);
        while (true)
        {
            long k = keys[h];
            if (k == key) { node = _child[h]; return true; }
            if (k == 0) return false;
            h = (h + 1) & mask;
        }
    }

    /// <summary>The id stored at a node, or -1.</summary>
    public int Value(int node) => _value[node];

    /// <summary>The id of exactly these bytes, or -1.</summary>
    public int Lookup(ReadOnlySpan<byte> key)
    {
        int node = 0;
        foreach (byte b in key) if (!Step(ref node, b)) return -1;
        return _value[node];
    }

    /// <summary>Length of the longest key that starts <paramref name="s"/>, or 0.</summary>
    public int LongestPrefix(ReadOnlySpan<byte> s)
    {
        int node = 0, best = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (!Step(ref node, s[i])) break;
            if (_value[node] >= 0) best = i + 1;
        }
        return best;
    }
}
