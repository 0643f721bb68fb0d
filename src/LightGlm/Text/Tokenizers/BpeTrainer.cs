// Trains our byte-level BPE tokenizer (LightGlm pre-tokenization: Qwen's pattern with Han runs apart) and
// writes a Hugging Face tokenizer.json: ids 0..5 our special tokens, 6..261 the 256 bytes, then merges.
using System.Text;

namespace LightGlm.Text.Tokenizers;

public sealed record BpeTrainerOptions
{
    public int VocabSize { get; init; } = 16000;

    /// <summary>Pairs seen fewer times than this are never merged.</summary>
    public int MinFrequency { get; init; } = 2;
}

public static class BpeTrainer
{
    /// <summary>
    /// Counts pre-tokens (words) of <paramref name="texts"/>, then repeatedly merges the most frequent adjacent
    /// pair (ties: smallest (left, right) ids) until the vocabulary is full. Pair counts are updated
    /// incrementally per affected word; a lazy max-heap finds the best pair, so training is seconds, not minutes.
    /// </summary>
    public static void Train(IEnumerable<string> texts, BpeTrainerOptions options, Stream tokenizerJson)
    {
        int specials = SpecialTokens.All.Length, baseId = specials;
        if (options.VocabSize < baseId + 256) throw new ArgumentException($"vocab size {options.VocabSize} is smaller than {baseId + 256} (specials + bytes).");
        var pre = PreTokenizer.ForPattern(PreTokenizer.LightGlmPattern);

        // 1. Word counts.
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var pieces = new List<(int Start, int Length)>();
        foreach (var t in texts)
        {
            pieces.Clear();
            pre.Split(t, pieces);
            foreach (var (a, l) in pieces)
            {
                var w = t.Substring(a, l);
                counts[w] = counts.GetValueOrDefault(w) + 1;
            }
        }
        var words = new List<int[]>(counts.Count);
        var freq = new List<int>(counts.Count);
        foreach (var (w, c) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            words.Add(Encoding.UTF8.GetBytes(w).Select(b => baseId + b).ToArray());
            freq.Add(c);
        }

        // 2. Pair statistics.
        var pairCount = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        for (int wi = 0; wi < words.Count; wi++) AddPairs(wi, +1);
        var heap = new PriorityQueue<long, (long NegCount, long Key)>();
        foreach (var (k, c) in pairCount) heap.Enqueue(k, (-c, k));

        var tokens = new List<byte[]>();                         // id - baseId -> bytes
        for (int b = 0; b < 256; b++) tokens.Add([(byte)b]);
        var merges = new List<(int, int)>();
        var known = new Dictionary<string, int>(StringComparer.Ordinal); // token bytes -> id (two merges may build the same bytes)
        for (int b = 0; b < 256; b++) known[ByteLevelBpeJson.Str(tokens[b])] = baseId + b;
        while (baseId + tokens.Count < options.VocabSize && heap.TryDequeue(out long key, out var pr))
        {
            long c = pairCount.GetValueOrDefault(key);
            if (c != -pr.NegCount) continue;                    // stale entry
            if (c < options.MinFrequency) break;
            int left = (int)(key >> 32), right = (int)(uint)key;
            byte[] bytes = [.. tokens[left - baseId], .. tokens[right - baseId]];
            if (!known.TryGetValue(ByteLevelBpeJson.Str(bytes), out int merged))
            {
                merged = baseId + tokens.Count;
                tokens.Add(bytes);
                known[ByteLevelBpeJson.Str(bytes)] = merged;
            }
            merges.Add((left, right));
            var touched = new HashSet<long>();
            foreach (int wi in where[key].ToArray())
            {
                var w = words[wi];
                if (!Contains(w, left, right)) continue;
                AddPairs(wi, -1, touched);
                words[wi] = Replace(w, left, right, merged);
                AddPairs(wi, +1, touched);
            }
            foreach (long k in touched)
                if (pairCount.TryGetValue(k, out long nc) && nc > 0) heap.Enqueue(k, (-nc, k));
        }
        Write(tokenizerJson, tokens, merges, baseId);

        void AddPairs(int wi, int sign, HashSet<long>? touched = null)
        {
            var w = words[wi];
            for (int i = 0; i + 1 < w.Length; i++)
            {
                long k = ((long)w[i] << 32) | (uint)w[i + 1];
                long v = pairCount.GetValueOrDefault(k) + sign * (long)freq[wi];
                if (v == 0) pairCount.Remove(k); else pairCount[k] = v;
                if (sign > 0)
                {
                    if (!where.TryGetValue(k, out var set)) where[k] = set = [];
                    set.Add(wi);
                }
                touched?.Add(k);
            }
        }
    }

    static bool Contains(int[] w, int a, int b)
    {
        for (int i = 0; i + 1 < w.Length; i++) if (w[i] == a && w[i + 1] == b) return true;
        return false;
    }

    static int[] Replace(int[] w, int a, int b, int merged)
    {
        var r = new List<int>(w.Length);
        for (int i = 0; i < w.Length; i++)
        {
            if (i + 1 < w.Length && w[i] == a && w[i + 1] == b) { r.Add(merged); i++; }
            else r.Add(w[i]);
        }
        return r.ToArray();
    }

    static void Write(Stream s, List<byte[]> tokens, List<(int, int)> merges, int baseId)
    {
        var strings = tokens.Select(ByteLevelBpeJson.Str).ToArray();
        ByteLevelBpeJson.Write(s, strings, baseId, merges.Select(m => (strings[m.Item1 - baseId], strings[m.Item2 - baseId])),
            SpecialTokens.All.Select((t, i) => (t, i)), PreTokenizer.LightGlmPattern, ignoreMerges: false);
    }
}
