// Turns English–Chinese pairs into padded training batches of the translation task (both directions):
// (B, T) ids, next-token targets (−1 on prompt and padding) and per-row GLM prefix lengths.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>One batch in the model's layout: row-major (B, T) arrays, right padding with &lt;|pad|&gt;.</summary>
public sealed record TranslationBatch(int B, int T, int[] Tokens, int[] Targets, int[] PrefixLengths)
{
    public int TargetCount => Targets.Count(t => t >= 0);
}

/// <summary>Counts of what the batcher kept and dropped (reported by the trainer); WithMatch = examples whose prompt has a
/// fuzzy match, MatchesTooLong = matches left out because the example with them exceeded the maximum length.</summary>
public sealed record BatcherStats(int Pairs, int Examples, int DroppedTooLong, int DroppedEmpty, int WithMatch = 0, int MatchesTooLong = 0);

/// <summary>The fuzzy matches given to one pair's examples: the stored translation to put in each direction's prompt, or null.</summary>
public sealed record PairMatches(string? EnToZh, string? ZhToEn)
{
    public string? For(Direction d) => d == Direction.EnToZh ? EnToZh : ZhToEn;
}

public sealed class TranslationBatcher
{
    readonly List<TaskExample> _examples = [];
    readonly SpecialTokens _sp;

    /// <summary>Sequences are padded to a multiple of this, so a trainer needs only a few (B, T) caches.</summary>
    public const int LengthQuantum = 16;

    public int MaxLength { get; }
    public BatcherStats Stats { get; }
    public IReadOnlyList<TaskExample> Examples => _examples;

    /// <summary>
    /// Encodes every pair once per requested direction. A pair whose sequence (prompt + target + eos − 1) exceeds
    /// <paramref name="maxLength"/> is dropped, not truncated: a truncated target would teach the model to stop
    /// mid-sentence. Pairs with an empty side are dropped too. <paramref name="matches"/> (one per pair, in order) puts a
    /// fuzzy match in the prompts it names (<see cref="TaskFormat"/>); an example too long with its match keeps the plain prompt.
    /// </summary>
    public TranslationBatcher(ITokenizer tokenizer, IEnumerable<(string English, string Chinese)> pairs,
        int maxLength, IReadOnlyList<Direction>? directions = null, IReadOnlyList<PairMatches?>? matches = null)
    {
        if (maxLength < 8) throw new ArgumentOutOfRangeException(nameof(maxLength), $"max length {maxLength} is too short for a prompt and an answer (>= 8)");
        _sp = SpecialTokens.From(tokenizer);
        MaxLength = maxLength;
        directions ??= Directions.Both;
        int tooLong = 0, empty = 0;
        // Encoding is most of the work: both sides of every pair, split over threads by the one parallel policy.
        var list = pairs as IReadOnlyList<(string English, string Chinese)> ?? pairs.ToList();
        if (matches is not null && matches.Count != list.Count) throw new ArgumentException($"{matches.Count} fuzzy matches for {list.Count} pairs: give one (or null) per pair", nameof(matches));
        var encoded = new (int[] En, int[] Zh)?[list.Count];
        var encodedMatches = new (int[]? EnToZh, int[]? ZhToEn)[list.Count];
        LightGlm.Kernels.KernelParallel.For(list.Count, 32, (a, b) =>
        {
            for (int i = a; i < b; i++)
            {
                var (en, zh) = list[i];
                if (en.Trim().Length > 0 && zh.Trim().Length > 0) encoded[i] = (tokenizer.EncodeText(en), tokenizer.EncodeText(zh));
                if (matches?[i] is { } m)
                    encodedMatches[i] = (m.EnToZh is { Length: > 0 } toZh ? tokenizer.EncodeText(toZh) : null, m.ZhToEn is { Length: > 0 } toEn ? tokenizer.EncodeText(toEn) : null);
            }
        });
        int withMatch = 0, matchTooLong = 0;
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] is not { } pair) { empty++; continue; }
            var (enIds, zhIds) = pair;
            foreach (var d in directions)
            {
                var (src, tgt) = d == Direction.EnToZh ? (enIds, zhIds) : (zhIds, enIds);
                if (src.Length + tgt.Length + 3 > maxLength) { tooLong++; continue; }
                var match = d == Direction.EnToZh ? encodedMatches[i].EnToZh : encodedMatches[i].ZhToEn;
                if (match is not null && !TaskFormat.MatchFits(src.Length, match.Length, tgt.Length, maxLength)) { match = null; matchTooLong++; }
                if (match is not null) withMatch++;
                _examples.Add(TaskFormat.Example(_sp, d, src, tgt, match));
            }
        }
        Stats = new BatcherStats(list.Count, _examples.Count, tooLong, empty, withMatch, matchTooLong);
    }

    /// <summary>
    /// One epoch of batches of up to <paramref name="batchSize"/> rows, shuffled by <paramref name="seed"/>.
    /// Examples of similar length go together (sort within windows of 50 batches) to cut padding; each batch's T
    /// is its longest example rounded up to <see cref="LengthQuantum"/> (capped at MaxLength).
    /// </summary>
    public IEnumerable<TranslationBatch> Epoch(int batchSize, ulong seed)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize} must be positive");
        var order = Enumerable.Range(0, _examples.Count).ToArray();
        new Random((int)(seed ^ (seed >> 32))).Shuffle(order);
        int window = batchSize * 50;
        var batches = new List<int[]>();
        for (int w = 0; w < order.Length; w += window)
        {
            var chunk = order.Skip(w).Take(window).OrderBy(i => _examples[i].Length).ToArray();
            for (int b = 0; b < chunk.Length; b += batchSize) batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
        }
        var shuffled = batches.ToArray();
        new Random((int)(seed * 31 + 7)).Shuffle(shuffled); // batch order random too, not short-to-long
        foreach (var rows in shuffled) yield return Build(rows.Select(i => _examples[i]).ToList());
    }

    /// <summary>Pads <paramref name="rows"/> into one batch.</summary>
    public TranslationBatch Build(IReadOnlyList<TaskExample> rows)
    {
        int longest = rows.Max(r => r.Length);
        int T = Math.Min(MaxLength, (longest + LengthQuantum - 1) / LengthQuantum * LengthQuantum);
        T = Math.Max(T, longest);
        int B = rows.Count;
        var tokens = new int[B * T];
        var targets = new int[B * T];
        var prefix = new int[B];
        Array.Fill(tokens, _sp.Pad);
        Array.Fill(targets, -1);
        for (int b = 0; b < B; b++)
        {
            rows[b].Tokens.CopyTo(tokens, b * T);
            rows[b].Targets.CopyTo(targets, b * T);
            prefix[b] = rows[b].PrefixLength;
        }
        return new TranslationBatch(B, T, tokens, targets, prefix);
    }
}
