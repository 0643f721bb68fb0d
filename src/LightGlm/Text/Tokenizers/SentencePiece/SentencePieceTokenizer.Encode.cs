// SentencePiece encoding (sentencepiece 0.1.97's ids exactly): normalise, then the unigram Viterbi lattice or BPE merges
// by piece score. Hot path: per-thread scratch buffers (no allocation per text beyond the result), trie steps through
// an open-addressing table, and BPE pairs of known pieces found in one hash lookup instead of a walk over their bytes.
using System.Runtime.InteropServices;
using System.Text;

namespace LightGlm.Text.Tokenizers.SentencePiece;

public sealed partial class SentencePieceTokenizer
{
    /// <summary>Per-thread buffers reused by every Encode call on that thread (tokenizers are shared across threads).</summary>
    sealed class Scratch
    {
        public byte[] Utf8 = new byte[256];
        public readonly List<byte> Normalized = new(256);
        public readonly List<int> Ids = new(128);
        public float[] Score = new float[64];
        public int[] Int0 = new int[64], Int1 = new int[64], Int2 = new int[64], Int3 = new int[64], Int4 = new int[64];
        public readonly List<(int Start, int Length, int Id)> Pieces = new(64);
        public BpeAgenda Agenda = new();

        public void Ensure(int n)
        {
            if (Score.Length >= n) return;
            int size = Math.Max(n, Score.Length * 2);
            Score = new float[size];
            Int0 = new int[size]; Int1 = new int[size]; Int2 = new int[size]; Int3 = new int[size]; Int4 = new int[size];
        }
    }

    [ThreadStatic] static Scratch? _scratch;

    /// <summary>
    /// Encodes like SentencePieceProcessor::EncodeAsIds (no BOS/EOS). With <paramref name="parseSpecialTokens"/>, the
    /// literal text of a control piece (e.g. &lt;|sep|&gt;) becomes its id and the text between is encoded segment by
    /// segment (as Hugging Face's slow tokenizers do); without, the whole text goes to SentencePiece, where control
    /// pieces are never matched (exactly spm's ids).
    /// </summary>
    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        var sc = _scratch ??= new Scratch();
        var ids = sc.Ids;
        ids.Clear();
        if (!parseSpecialTokens || _specials.IsEmpty) EncodeSegment(text, ids, sc);
        else _specials.Encode(text, ids, (segment, list) => EncodeSegment(segment, list, sc));
        return [.. ids];
    }

    void EncodeSegment(ReadOnlySpan<char> text, List<int> ids, Scratch sc)
    {
        if (text.IsEmpty) return;
        // Lone surrogates become U+FFFD (UTF-8 cannot carry them; the C++ library never sees them).
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (sc.Utf8.Length < max) sc.Utf8 = new byte[Math.Max(max, sc.Utf8.Length * 2)];
        int nUtf8 = Encoding.UTF8.GetBytes(text, sc.Utf8);
        var normalized = sc.Normalized;
        _normalizer.Normalize(sc.Utf8.AsSpan(0, nUtf8), normalized);
        if (normalized.Count == 0) return;
        var s = CollectionsMarshal.AsSpan(normalized);
        var pieces = sc.Pieces;
        pieces.Clear();
        if (_m.ModelType == SentencePieceModelType.Unigram) EncodeUnigram(s, pieces, sc); else EncodeBpe(s, pieces, sc);
        // A run of unknown pieces is one unknown piece (as spm_encode gives, for unigram and BPE alike).
        int w = 0;
        for (int i = 0; i < pieces.Count; i++)
        {
            var p = pieces[i];
            if (w > 0 && p.Id == _unk && pieces[w - 1].Id == _unk) pieces[w - 1] = (pieces[w - 1].Start, pieces[w - 1].Length + p.Length, _unk);
            else pieces[w++] = p;
        }
        for (int i = 0; i < w; i++)
        {
            var (start, length, id) = pieces[i];
            if (id == _unk && _m.ByteFallback)
                for (int k = 0; k < length; k++) ids.Add(_byteIds[s[start + k]]);
            else ids.Add(id);
        }
    }

    /// <summary>unigram_model.cc EncodeOptimized: best-scoring path over the lattice of pieces; an unknown character costs min score − 10.</summary>
    void EncodeUnigram(ReadOnlySpan<byte> s, List<(int Start, int Length, int Id)> result, Scratch sc)
    {
        int n = s.Length;
        sc.Ensure(n + 1);
        var bestScore = sc.Score.AsSpan(0, n + 1);
        var startsAt = sc.Int0.AsSpan(0, n + 1);
        var bestId = sc.Int1.AsSpan(0, n + 1);
        bestScore.Clear();
        startsAt.Fill(-1);
        float unkScore = _minScore - 10f;
        for (int start = 0; start < n;)
        {
            float tillHere = bestScore[start];
            bool hasSingle = false;
            int mblen = Math.Min(Utf8.OneCharLen(s[start]), n - start);
            int node = 0;
            for (int k = start; k < n;)
            {
                if (!_trie.Step(ref node, s[k])) break;
                k++;
                int id = _trie.Value(node);
                if (id < 0) continue;
                var type = _types[id];
                if (type == PieceType.Unused) continue;
                int length = k - start;
                // User-defined pieces get a bonus so that they are always chosen (computed in double, as in C++).
                double score = type == PieceType.UserDefined ? length * (double)_maxScore - 0.1 : _scores[id];
                double candidate = score + tillHere;
                if (startsAt[k] == -1 || candidate > bestScore[k]) { bestScore[k] = (float)candidate; startsAt[k] = start; bestId[k] = id; }
                if (!hasSingle && length == mblen) hasSingle = true;
            }
            if (!hasSingle)
            {
                int k = start + mblen;
                double candidate = (double)unkScore + tillHere;
                if (startsAt[k] == -1 || candidate > bestScore[k]) { bestScore[k] = (float)candidate; startsAt[k] = start; bestId[k] = _unk; }
            }
            start += mblen;
        }
        for (int end = n; end > 0; end = startsAt[end]) result.Add((startsAt[end], end - startsAt[end], bestId[end]));
        result.Reverse();
    }

    /// <summary>Words up to this many bytes are cached (word -> pieces), as Hugging Face's BPE cache.</summary>
    const int BpeCacheMaxWordBytes = 64, BpeCacheCapacity = 200_000;
    int _bpeCacheCount;

    /// <summary>
    /// When no piece has "▁" after its first character (<see cref="_bpeWordCache"/> is set), no merge crosses the start
    /// of a "▁" word, so each word merges on its own exactly as inside the whole text; its pieces are cached.
    /// </summary>
    void EncodeBpe(ReadOnlySpan<byte> s, List<(int Start, int Length, int Id)> result, Scratch sc)
    {
        if (_bpeWordCache is null) { EncodeBpeWord(s, result, sc); return; }
        var cache = _bpeWordCache.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> key = stackalloc char[BpeCacheMaxWordBytes];
        int w0 = 0;
        for (int i = 1; i <= s.Length; i++)
        {
            if (i < s.Length && !(s[i] == 0xE2 && i + 2 < s.Length && s[i + 1] == 0x96 && s[i + 2] == 0x81)) continue;
            var word = s[w0..i];
            int before = result.Count;
            if (word.Length > BpeCacheMaxWordBytes) EncodeBpeWord(word, result, sc);
            else
            {
                var k = key[..word.Length];
                for (int j = 0; j < word.Length; j++) k[j] = (char)word[j]; // bytes as Latin-1 chars: an exact key
                if (cache.TryGetValue(k, out var cached))
                    for (int j = 0; j < cached.Length; j += 3) result.Add((cached[j], cached[j + 1], cached[j + 2]));
                else
                {
                    EncodeBpeWord(word, result, sc);
                    var value = new int[3 * (result.Count - before)];
                    for (int j = before; j < result.Count; j++) (value[3 * (j - before)], value[3 * (j - before) + 1], value[3 * (j - before) + 2]) = result[j];
                    if (Interlocked.Increment(ref _bpeCacheCount) > BpeCacheCapacity) { _bpeWordCache.Clear(); Interlocked.Exchange(ref _bpeCacheCount, 0); }
                    cache.TryAdd(k, value);
                }
            }
            if (w0 > 0) for (int j = before; j < result.Count; j++) result[j] = (result[j].Start + w0, result[j].Length, result[j].Id);
            w0 = i;
        }
    }

    /// <summary>
    /// bpe_model.cc Encode: repeatedly merge the adjacent pair whose concatenation is the best-scoring piece (leftmost on
    /// ties). Stale agenda entries are recognised, as in C++, by the two symbols' lengths no longer adding up.
    /// Pieces are appended with offsets relative to <paramref name="s"/>.
    /// </summary>
    void EncodeBpeWord(ReadOnlySpan<byte> s, List<(int Start, int Length, int Id)> result, Scratch sc)
    {
        sc.Ensure(s.Length);
        var start = sc.Int0; var len = sc.Int1; var prev = sc.Int2; var next = sc.Int3; var sid = sc.Int4; // sid: trie id of the symbol, -1 none, -2 frozen
        int count = 0;
        for (int pos = 0; pos < s.Length;)
        {
            int ud = _userDefined?.LongestPrefix(s[pos..]) ?? 0;
            int mblen = ud > 0 ? ud : Math.Min(s.Length - pos, Utf8.OneCharLen(s[pos]));
            start[count] = pos; len[count] = mblen;
            sid[count] = ud > 0 ? -2 : _trie.Lookup(s.Slice(pos, mblen));
            prev[count] = count - 1;
            pos += mblen;
            next[count] = pos < s.Length ? count + 1 : -1;
            count++;
        }
        var agenda = sc.Agenda;
        agenda.Clear();
        Dictionary<int, (int LeftStart, int LeftLen, int RightStart, int RightLen)>? revMerge = null; // unused piece id -> its parts
        for (int i = 1; i < count; i++) MaybeAdd(i - 1, i, s);
        while (agenda.TryPop(out var top))
        {
            if (len[top.Left] == 0 || len[top.Right] == 0 || len[top.Left] + len[top.Right] != top.Size) continue;
            len[top.Left] += len[top.Right];
            sid[top.Left] = top.Id;
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            len[top.Right] = 0;
            MaybeAdd(prev[top.Left], top.Left, s);
            MaybeAdd(top.Left, next[top.Left], s);
        }
        for (int i = 0; i != -1 && count > 0; i = next[i]) Resegment(start[i], len[i], sid[i], s);

        void MaybeAdd(int left, int right, ReadOnlySpan<byte> s)
        {
            if (left == -1 || right == -1 || sid[left] == -2 || sid[right] == -2) return;
            int size = len[left] + len[right];
            int id;
            if (sid[left] >= 0 && sid[right] >= 0) { if (!_bpePairs!.TryGetValue(PairKey(sid[left], sid[right]), out id)) return; }
            else if ((id = _trie.Lookup(s.Slice(start[left], size))) < 0) return;
            agenda.Push(new BpeAgenda.Entry(_scores[id], left, right, size, id));
            if (_types[id] == PieceType.Unused) (revMerge ??= [])[id] = (start[left], len[left], start[right], len[right]);
        }

        void Resegment(int st, int ln, int known, ReadOnlySpan<byte> s)
        {
            int id = PieceToId(s.Slice(st, ln), known);
            if (_types[id] != PieceType.Unused || revMerge is null || !revMerge.TryGetValue(id, out var parts)) { result.Add((st, ln, id)); return; }
            Resegment(parts.LeftStart, parts.LeftLen, _trie.Lookup(s.Slice(parts.LeftStart, parts.LeftLen)), s);
            Resegment(parts.RightStart, parts.RightLen, _trie.Lookup(s.Slice(parts.RightStart, parts.RightLen)), s);
        }
    }

    static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>(left piece, right piece) -> the normal piece spelled by their concatenation, for every such split of every piece.</summary>
    Dictionary<long, int> BuildBpePairs()
    {
        var pairs = new Dictionary<long, int>();
        for (int p = 0; p < _pieces.Length; p++)
        {
            if (_pieces[p].Type is not (PieceType.Normal or PieceType.UserDefined or PieceType.Unused)) continue;
            var b = Encoding.UTF8.GetBytes(_pieces[p].Text);
            if (_trie.Lookup(b) != p) continue;
            for (int k = 1; k < b.Length; k++)
            {
                int x = _trie.Lookup(b.AsSpan(0, k));
                if (x < 0) continue;
                int y = _trie.Lookup(b.AsSpan(k));
                if (y >= 0) pairs[PairKey(x, y)] = p;
            }
        }
        return pairs;
    }

    /// <summary>ModelInterface::PieceToId: reserved pieces first, then normal ones (<paramref name="known"/> when the caller has it), else unk.</summary>
    int PieceToId(ReadOnlySpan<byte> piece, int known = -1)
    {
        if (_reservedTrie.Lookup(piece) is >= 0 and var r) return r;
        int id = known >= 0 ? known : _trie.Lookup(piece);
        return id >= 0 ? id : _unk;
    }
}

/// <summary>SentencePiece BPE's agenda: a binary max-heap by piece score, then the leftmost pair (smaller left symbol index).</summary>
internal sealed class BpeAgenda
{
    public readonly record struct Entry(float Score, int Left, int Right, int Size, int Id);

    Entry[] _heap = new Entry[64];
    int _count;

    public void Clear() => _count = 0;

    static bool Before(in Entry a, in Entry b) => a.Score > b.Score || (a.Score == b.Score && a.Left < b.Left);

    public void Push(Entry e)
    {
        if (_count == _heap.Length) Array.Resize(ref _heap, _count * 2);
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Before(e, _heap[parent])) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = e;
    }

    public bool TryPop(out Entry top)
    {
        if (_count == 0) { top = default; return false; }
        top = _heap[0];
        var last = _heap[--_count];
        int i = 0;
        while (true)
        {
            int c = 2 * i + 1;
            if (c >= _count) break;
            if (c + 1 < _count && Before(_heap[c + 1], _heap[c])) c++;
            if (!Before(_heap[c], last)) break;
            _heap[i] = _heap[c];
            i = c;
        }
        _heap[i] = last;
        return true;
    }
}
