// The BPE merge loop shared by all BPE tokenizers: repeatedly merge the adjacent pair of best priority
// (lowest merge rank for Hugging Face BPE, highest piece score for SentencePiece BPE), leftmost on ties.
// A binary heap over a linked list of symbols makes a long word O(n log n) instead of O(n^2).
namespace LightGlm.Text.Tokenizers;

internal sealed class BpeMerger
{
    /// <summary>(left id, right id) -> (priority, merged id); smaller priority merges first.</summary>
    readonly Dictionary<long, (float Priority, int Merged)> _pairs;

    public BpeMerger(Dictionary<long, (float Priority, int Merged)> pairs) => _pairs = pairs;

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    public bool TryGet(int left, int right, out (float Priority, int Merged) m) => _pairs.TryGetValue(Key(left, right), out m);

    /// <summary>Merges <paramref name="symbols"/> in place semantics and appends the result to <paramref name="into"/>.</summary>
    public void Merge(List<int> symbols, List<int> into)
    {
        int n = symbols.Count;
        if (n == 1) { into.Add(symbols[0]); return; }
        if (n <= 16) { MergeSmall(symbols, into); return; }
        var id = symbols.ToArray();
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        // Heap entries remember the ids they saw, so stale entries (a neighbour merged since) are skipped.
        var heap = new PriorityQueue<(int Pos, int Left, int Right, int Merged), (float, int)>();
        for (int i = 0; i + 1 < n; i++) Push(i);
        while (heap.TryDequeue(out var e, out _))
        {
            int j = next[e.Pos];
            if (id[e.Pos] != e.Left || j < 0 || id[j] != e.Right) continue;
            id[e.Pos] = e.Merged;
            id[j] = -1;
            next[e.Pos] = next[j];
            if (next[j] >= 0) prev[next[j]] = e.Pos;
            if (prev[e.Pos] >= 0) Push(prev[e.Pos]);
            Push(e.Pos);
        }
        for (int i = 0; i >= 0; i = next[i]) into.Add(id[i]);

        void Push(int p)
        {
            int q = next[p];
            if (q < 0 || id[p] < 0) return;
            if (_pairs.TryGetValue(Key(id[p], id[q]), out var m)) heap.Enqueue((p, id[p], id[q], m.Merged), (m.Priority, p));
        }
    }

    /// <summary>Short words: scan for the best pair each round (no allocation beyond the list).</summary>
    void MergeSmall(List<int> s, List<int> into)
    {
        var w = new List<int>(s);
        while (w.Count > 1)
        {
            int best = -1;
            float bestP = float.MaxValue;
            int merged = 0;
            for (int i = 0; i + 1 < w.Count; i++)
                if (_pairs.TryGetValue(Key(w[i], w[i + 1]), out var m) && m.Priority < bestP) { bestP = m.Priority; best = i; merged = m.Merged; }
            if (best < 0) break;
            w[best] = merged;
            w.RemoveAt(best + 1);
        }
        into.AddRange(w);
    }
}
