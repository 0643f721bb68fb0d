// The BPE merge loop shared by all BPE tokenizers: repeatedly merge the adjacent pair of best priority
// (lowest merge rank for Hugging Face BPE, highest piece score for SentencePiece BPE), leftmost on ties.
// Short words scan for the best pair in place; longer ones use a binary heap over a linked list of symbols
// (O(n log n) instead of O(n^2)), as Hugging Face's Word::merge_all does. Buffers are per thread: no allocation.
namespace LightGlm.Text.Tokenizers;

internal sealed class BpeMerger
{
    /// <summary>(left id, right id) -> (priority, merged id); smaller priority merges first.</summary>
    readonly Dictionary<long, (float Priority, int Merged)> _pairs;

    public BpeMerger(Dictionary<long, (float Priority, int Merged)> pairs) => _pairs = pairs;

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    public bool TryGet(int left, int right, out (float Priority, int Merged) m) => _pairs.TryGetValue(Key(left, right), out m);

    /// <summary>One heap entry: the pair at position Pos as it was when pushed (stale when a neighbour has merged since).</summary>
    readonly record struct Entry(float Priority, int Pos, int Left, int Right, int Merged);

    sealed class Scratch
    {
        public int[] Id = new int[64], Prev = new int[64], Next = new int[64];
        public Entry[] Heap = new Entry[128];
    }

    [ThreadStatic] static Scratch? _scratch;

    /// <summary>Merges the symbol ids <paramref name="symbols"/> and appends the resulting ids to <paramref name="into"/>.</summary>
    public void Merge(ReadOnlySpan<int> symbols, List<int> into)
    {
        int n = symbols.Length;
        if (n == 0) return;
        if (n == 1) { into.Add(symbols[0]); return; }
        if (n <= 16) { MergeSmall(symbols, into); return; }
        var sc = _scratch ??= new Scratch();
        if (sc.Id.Length < n) { int size = Math.Max(n, 2 * sc.Id.Length); sc.Id = new int[size]; sc.Prev = new int[size]; sc.Next = new int[size]; }
        var id = sc.Id; var prev = sc.Prev; var next = sc.Next;
        symbols.CopyTo(id);
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        int count = 0;
        for (int i = 0; i + 1 < n; i++) Push(i);
        while (count > 0)
        {
            var e = Pop();
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
            if (q < 0 || id[p] < 0 || !_pairs.TryGetValue(Key(id[p], id[q]), out var m)) return;
            var e = new Entry(m.Priority, p, id[p], id[q], m.Merged);
            if (count == sc.Heap.Length) Array.Resize(ref sc.Heap, 2 * count);
            var heap = sc.Heap;
            int i = count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Before(e, heap[parent])) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = e;
        }

        Entry Pop()
        {
            var heap = sc.Heap;
            var top = heap[0];
            var last = heap[--count];
            int i = 0;
            while (true)
            {
                int c = 2 * i + 1;
                if (c >= count) break;
                if (c + 1 < count && Before(heap[c + 1], heap[c])) c++;
                if (!Before(heap[c], last)) break;
                heap[i] = heap[c];
                i = c;
            }
            heap[i] = last;
            return top;
        }
    }

    /// <summary>Priority first, then the leftmost position.</summary>
    static bool Before(in Entry a, in Entry b) => a.Priority < b.Priority || (a.Priority == b.Priority && a.Pos < b.Pos);

    /// <summary>Short words: scan for the best pair each round, merging in a stack buffer.</summary>
    void MergeSmall(ReadOnlySpan<int> s, List<int> into)
    {
        Span<int> w = stackalloc int[s.Length];
        s.CopyTo(w);
        int n = w.Length;
        while (n > 1)
        {
            int best = -1, merged = 0;
            float bestP = float.MaxValue;
            for (int i = 0; i + 1 < n; i++)
                if (_pairs.TryGetValue(Key(w[i], w[i + 1]), out var m) && m.Priority < bestP) { bestP = m.Priority; best = i; merged = m.Merged; }
            if (best < 0) break;
            w[best] = merged;
            w[(best + 2)..n].CopyTo(w[(best + 1)..]);
            n--;
        }
        foreach (int x in w[..n]) into.Add(x);
    }
}
