// Turns English–Chinese pairs into padded training batches of the translation task (both directions):
// (B, T) ids, next-token targets (−1 on prompt and padding) and per-row GLM prefix lengths.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>One batch in the model's layout: row-major (B, T) arrays, right padding with &lt;|pad|&gt;.</summary>
public sealed record TranslationBatch(int B, int T, int[] Tokens, int[] Targets, int[] PrefixLengths)
{
    public int TargetCount => Targets.Count(t => t >= 0);
}

/// <summary>Counts of what the batcher kept and dropped (reported by the trainer).</summary>
public sealed record BatcherStats(int Pairs, int Examples, int DroppedTooLong, int DroppedEmpty);

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
    /// mid-sentence. Pairs with an empty side are dropped too.
    /// </summary>
    public TranslationBatcher(ITokenizer tokenizer, IEnumerable<(string English, string Chinese)> pairs,
        int maxLength, IReadOnlyList<Direction>? directions = null)
    {
        if (maxLength < 8) throw new ArgumentOutOfRangeException(nameof(maxLength), $"max length {maxLength} is too short for a prompt and an answer (>= 8)");
        _sp = SpecialTokens.From(tokenizer);
        MaxLength = maxLength;
        directions ??= Directions.Both;
        int tooLong = 0, empty = 0;
        // Encoding is most of the work: both sides of every pair, split over threads by the one parallel policy.
        var list = pairs as IReadOnlyList<(string English, string Chinese)> ?? pairs.ToList();
        var encoded = new (int[] En, int[] Zh)?[list.Count];
        LightGlm.Kernels.KernelParallel.For(list.Count, 32, (a, b) =>
        {
            for (int i = a; i < b; i++)
            {
                var (en, zh) = list[i];
                if (en.Trim().Length > 0 && zh.Trim().Length > 0) encoded[i] = (tokenizer.EncodeText(en), tokenizer.EncodeText(zh));
            }
        });
        foreach (var e in encoded)
        {
            if (e is not { } pair) { empty++; continue; }
            var (enIds, zhIds) = pair;
            foreach (var d in directions)
            {
                var (src, tgt) = d == Direction.EnToZh ? (enIds, zhIds) : (zhIds, enIds);
                if (src.Length + tgt.Length + 3 > maxLength) { tooLong++; continue; }
                _examples.Add(TaskFormat.Example(_sp, d, src, tgt));
            }
        }
        Stats = new BatcherStats(list.Count, _examples.Count, tooLong, empty);
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
