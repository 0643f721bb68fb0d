// Fuzzy matches of a translation memory, scored as CAT tools score them: 1 − edit distance / max(length) over tokens
// (lower-cased words and punctuation marks for English, characters for Chinese). An inverted index over the tokens picks
// the candidates and bounds their scores, so the best match is the one a scan of every entry would find, while the edit
// distance runs on a handful of entries.
using System.Text;

namespace LightGlm.Translation;

/// <summary>The stored pair whose (normalised) source is most like a query's, and its score in (0, 1].</summary>
public sealed record FuzzyMatch(string Source, string Target, double Score);

/// <summary>One direction of a memory (its normalised sources and their translations), indexed for fuzzy lookups. Thread-safe.</summary>
public sealed class FuzzyIndex
{
    /// <summary>The usual CAT-tool floor: below half the tokens in common, a match misleads more than it helps.</summary>
    public const double DefaultThreshold = 0.5;

    readonly Direction _direction;
    readonly MemoryMatch[] _entries;
    readonly int[][] _tokens;                  // each entry's source as token ids, in order
    readonly int[] _length;                    // |s| of each entry, and its bag (ids sorted) at _bags[_bagStart[e]..]: flat, as the
    readonly int[] _bags, _bagStart;           // scan reads them for thousands of entries per query (one cache line, not an object each)
    readonly int[][] _postings;                // token id → the entries holding it, each once, by (length, index)
    readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> _entryOfKey = new(StringComparer.Ordinal);
    readonly ThreadLocal<(int[] Seen, int Stamp)> _scratch; // per thread: the query that last made each entry a candidate

    /// <summary>The entries in index order (ties between equal scores go to the lower index).</summary>
    public IReadOnlyList<MemoryMatch> Entries => _entries;

    /// <param name="entries">Distinct normalised sources (<see cref="TranslationMemory"/>'s keys) with their translations.</param>
    public FuzzyIndex(IEnumerable<MemoryMatch> entries, Direction direction)
    {
        _direction = direction;
        _entries = entries.ToArray();
        _tokens = new int[_entries.Length][];
        var postings = new List<List<int>>();
        for (int e = 0; e < _entries.Length; e++)
        {
            _entryOfKey[_entries[e].Source] = e;
            var ids = Tokenize(_entries[e].Source, direction).Select(t =>
            {
                if (!_vocab.TryGetValue(t, out int id)) { _vocab[t] = id = _vocab.Count; postings.Add([]); }
                return id;
            }).ToArray();
            _tokens[e] = ids;
            foreach (int id in ids.Distinct()) postings[id].Add(e);
        }
        _length = _tokens.Select(t => t.Length).ToArray();
        _bagStart = new int[_entries.Length];
        _bags = new int[_length.Sum()];
        for (int e = 0, at = 0; e < _entries.Length; at += _length[e], e++)
        {
            _bagStart[e] = at;
            _tokens[e].CopyTo(_bags, at);
            Array.Sort(_bags, at, _length[e]);
        }
        _postings = postings.Select(p => p.OrderBy(e => _tokens[e].Length).ThenBy(e => e).ToArray()).ToArray();
        _scratch = new ThreadLocal<(int[], int)>(() => (new int[_entries.Length], 0));
    }

    /// <summary>
    /// The entry most like <paramref name="query"/> with a score ≥ <paramref name="threshold"/> (ties: the lower index), or null.
    /// An entry with the query's own normalised source is never returned: it is an exact match, which the memory answers
    /// itself, and in training data it would teach the model to copy.
    /// </summary>
    public FuzzyMatch? Best(string query, double threshold = DefaultThreshold)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "a fuzzy threshold must be in (0, 1]");
        var q = Tokenize(query, _direction).Select(t => _vocab.GetValueOrDefault(t, -1)).ToArray(); // -1: in no entry
        int n = q.Length;
        if (n == 0) return null;
        int self = _entryOfKey.GetValueOrDefault(TranslationMemory.Key(query, _direction), -1);
        var bag = q.Order().ToArray();
        // Count filter: an edit changes at most one token of the bag, so d ≥ max(|q|, |s|) − overlap(q, s) and the score
        // (max − d) / max ≤ overlap / max. A match needs overlap ≥ t·max ≥ k = ⌈t·|q|⌉. Prefix filter: then it holds one of
        // the query's n − k + 1 rarest tokens (else at most the k − 1 others overlap), so only their postings are read.
        int k = Math.Max(1, (int)Math.Ceiling(threshold * n - 1e-9));
        var rarest = q.OrderBy(id => id < 0 ? 0 : _postings[id].Length).Take(n - k + 1).Where(id => id >= 0).Distinct();
        var (seen, stamp) = _scratch.Value;
        _scratch.Value = (seen, ++stamp);
        var candidates = new List<(double Bound, int Entry)>();
        // Length filter: score ≤ min(|q|, |s|) / max(|q|, |s|), so only entries of about t·|q| to |q|/t tokens are read.
        int shortest = (int)Math.Floor(threshold * n), longest = (int)Math.Min(int.MaxValue, Math.Ceiling(n / threshold));
        foreach (int id in rarest)
        {
            var posting = _postings[id];
            for (int at = FirstOfLength(posting, shortest); at < posting.Length; at++)
            {
                int e = posting[at];
                int len = _length[e];
                if (len > longest) break;
                if (seen[e] == stamp) continue;
                seen[e] = stamp;
                int m = Math.Max(n, len);
                if ((double)Math.Min(n, len) / m < threshold || e == self) continue; // the lengths alone rule it out
                double bound = (double)Overlap(bag, _bags.AsSpan(_bagStart[e], len)) / m;
                if (bound >= threshold) candidates.Add((bound, e));
            }
        }
        candidates.Sort((a, b) => a.Bound != b.Bound ? b.Bound.CompareTo(a.Bound) : a.Entry.CompareTo(b.Entry));
        int best = -1;
        double bestScore = 0;
        foreach (var (bound, e) in candidates)
        {
            // Sorted by bound, then index: no later candidate can beat the best, nor tie it with a lower index.
            if (best >= 0 && (bound < bestScore || (bound == bestScore && e > best))) break;
            double need = best >= 0 ? bestScore : threshold;
            int m = Math.Max(n, _tokens[e].Length);
            int d = EditDistance(q, _tokens[e], maxDistance: m - (int)Math.Floor(need * m)); // beyond it the score is < need
            double score = Score(d, m);
            if (score >= threshold && (best < 0 || score > bestScore || (score == bestScore && e < best))) (best, bestScore) = (e, score);
        }
        return best < 0 ? null : new FuzzyMatch(_entries[best].Source, _entries[best].Target, bestScore);
    }

    /// <summary>Index of the first entry of <paramref name="posting"/> (sorted by length) with at least <paramref name="length"/> tokens.</summary>
    int FirstOfLength(int[] posting, int length)
    {
        int lo = 0, hi = posting.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_length[posting[mid]] < length) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Size of the intersection of two sorted bags (multisets) of ids.</summary>
    static int Overlap(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int i = 0, j = 0, common = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j]) { common++; i++; j++; }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return common;
    }

    /// <summary>The fuzzy score of two texts in direction <paramref name="d"/>: 1 − edit distance / max(length) over tokens (1 when both are empty).</summary>
    public static double Score(string a, string b, Direction d)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int[] Ids(string s) => Tokenize(s, d).Select(t => vocab.TryGetValue(t, out int i) ? i : vocab[t] = vocab.Count).ToArray();
        var (x, y) = (Ids(a), Ids(b));
        return Score(EditDistance(x, y), Math.Max(x.Length, y.Length));
    }

    static double Score(int distance, int maxLength) => maxLength == 0 ? 1 : (double)(maxLength - distance) / maxLength;

    /// <summary>
    /// Levenshtein distance (insert, delete, substitute: cost 1 each) over token ids; once every cell of a row exceeds
    /// <paramref name="maxDistance"/> the answer is only known to be larger, and maxDistance + 1 is returned.
    /// </summary>
    public static int EditDistance(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int maxDistance = int.MaxValue)
    {
        if (a.Length < b.Length) { var t = a; a = b; b = t; } // rows over the longer, columns over the shorter
        if (a.Length - b.Length > maxDistance) return maxDistance + 1;
        Span<int> prev = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        Span<int> cur = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            int rowMin = i;
            for (int j = 1; j <= b.Length; j++)
            {
                // d[i][j] = min(d[i−1][j] + 1, d[i][j−1] + 1, d[i−1][j−1] + [a_i ≠ b_j])
                int v = Math.Min(Math.Min(prev[j], cur[j - 1]) + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                cur[j] = v;
                if (v < rowMin) rowMin = v;
            }
            if (rowMin > maxDistance) return maxDistance + 1; // rows never decrease their minimum
            var swap = prev; prev = cur; cur = swap;
        }
        return prev[b.Length] <= maxDistance ? prev[b.Length] : maxDistance + 1;
    }

    /// <summary>
    /// The units a fuzzy score counts, of a source in direction <paramref name="d"/>: for English (en→zh) lower-cased runs
    /// of letters and digits, and each other non-space character on its own; for Chinese (zh→en) every non-space character.
    /// </summary>
    public static List<string> Tokenize(string text, Direction d)
    {
        var tokens = new List<string>();
        var word = new StringBuilder();
        foreach (var r in text.EnumerateRunes())
        {
            bool wordChar = d == Direction.EnToZh && Rune.IsLetterOrDigit(r);
            if (wordChar) { word.Append(Rune.ToLowerInvariant(r).ToString()); continue; }
            if (word.Length > 0) { tokens.Add(word.ToString()); word.Clear(); }
            if (!Rune.IsWhiteSpace(r)) tokens.Add(r.ToString());
        }
        if (word.Length > 0) tokens.Add(word.ToString());
        return tokens;
    }
}
