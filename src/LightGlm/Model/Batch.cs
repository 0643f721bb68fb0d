// One micro-batch of training input: token ids, targets (−1 = ignored), GLM prefix lengths, loss weights, dropout seed.
namespace LightGlm.Model;

/// <summary>
/// Arrays are allocated once per (B, T) and refilled by the data loader. Loss normalisation: each non-ignored target
/// contributes <see cref="LossScale"/>·weight[b]·CE; set LossScale = 1 / (targets counted over the WHOLE batch, across all
/// micro-batches) so that accumulating gradients over micro-batches equals one big batch (see docs/ENGINE.md "Model API").
/// </summary>
public sealed class Batch
{
    public int B { get; }
    public int T { get; }
    /// <summary>(B, T) input token ids.</summary>
    public int[] Tokens { get; }
    /// <summary>(B, T) next-token targets; −1 = no loss at this position.</summary>
    public int[] Targets { get; }
    /// <summary>(B) GLM prefix length P_b (bidirectional attention over keys j &lt; P_b); null or 0 = causal.</summary>
    public int[]? PrefixLengths { get; set; }
    /// <summary>
    /// (B, T) packed rows (several examples per row, <see cref="Kernels.AttentionSegments"/>): the first position of each
    /// token's example in its row; null = one example per row. Set together with <see cref="SegmentPrefixEnds"/>; the
    /// model then restarts rotary positions at every example and PrefixLengths is not used.
    /// </summary>
    public int[]? SegmentStarts { get; set; }
    /// <summary>(B, T) where each token's example's bidirectional prefix ends (absolute position in the row).</summary>
    public int[]? SegmentPrefixEnds { get; set; }
    /// <summary>Tokens that are not padding (prompt + target of every example), set by the source; 0 = unknown.</summary>
    public int RealTokens { get; set; }
    /// <summary>(B) per-sequence loss weight (e.g. α / 1−α of hybrid-data fine-tuning); null = 1.</summary>
    public float[]? SampleWeights { get; set; }
    /// <summary>Multiplies every target's loss; default 1 / (non-ignored targets in this batch) after <see cref="NormaliseByOwnCount"/>.</summary>
    public float LossScale { get; set; } = 1f;
    /// <summary>Dropout on when true and the config's hidden_dropout &gt; 0.</summary>
    public bool Training { get; set; }
    /// <summary>Seed of this micro-batch's dropout masks (block i uses streams 2i, 2i+1: independent of pipeline stages).</summary>
    public ulong DropoutSeed { get; set; }

    public Batch(int b, int t)
    {
        if (b <= 0 || t <= 0) throw new ArgumentOutOfRangeException(nameof(b), $"batch shape ({b}, {t}) must be positive");
        B = b; T = t;
        Tokens = new int[b * t];
        Targets = new int[b * t];
    }

    /// <summary>Builds a batch from arrays (copied); targets default to −1 everywhere.</summary>
    public static Batch From(int b, int t, ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets = default)
    {
        var batch = new Batch(b, t);
        if (tokens.Length != b * t) throw new ArgumentException($"tokens has {tokens.Length} ids, expected B·T = {b}·{t} = {b * t}");
        tokens.CopyTo(batch.Tokens);
        if (targets.IsEmpty) Array.Fill(batch.Targets, -1);
        else if (targets.Length != b * t) throw new ArgumentException($"targets has {targets.Length} ids, expected B·T = {b * t}");
        else targets.CopyTo(batch.Targets);
        batch.NormaliseByOwnCount();
        return batch;
    }

    /// <summary>Number of targets that count (≠ −1).</summary>
    public int TargetCount()
    {
        int n = 0;
        foreach (int t in Targets) if (t >= 0) n++;
        return n;
    }

    /// <summary>LossScale = 1 / (this batch's target count): the mean loss of this batch alone.</summary>
    public void NormaliseByOwnCount() => LossScale = 1f / Math.Max(1, TargetCount());

    /// <summary>Checks ids against the vocabulary and lengths against the cache; names the offending value.</summary>
    public void Validate(ModelConfig c)
    {
        for (int i = 0; i < Tokens.Length; i++)
            if ((uint)Tokens[i] >= (uint)c.V) throw new ArgumentException($"token id {Tokens[i]} at (b={i / T}, t={i % T}) is outside the vocabulary [0, {c.V})");
        for (int i = 0; i < Targets.Length; i++)
            if (Targets[i] < -1 || Targets[i] >= c.V) throw new ArgumentException($"target {Targets[i]} at (b={i / T}, t={i % T}) is outside [0, {c.V}) and not −1");
        if (PrefixLengths is { } p && p.Length != B) throw new ArgumentException($"prefix lengths has {p.Length} entries, expected B = {B}");
        if ((SegmentStarts is null) != (SegmentPrefixEnds is null))
            throw new ArgumentException("a packed batch needs both segment starts and segment prefix ends");
        if (SegmentStarts is { } ss && ss.Length != B * T) throw new ArgumentException($"segment starts has {ss.Length} entries, expected B·T = {B * T}");
        if (SegmentPrefixEnds is { } se && se.Length != B * T) throw new ArgumentException($"segment prefix ends has {se.Length} entries, expected B·T = {B * T}");
        if (SampleWeights is { } w && w.Length != B) throw new ArgumentException($"sample weights has {w.Length} entries, expected B = {B}");
        if (T > c.MaxPositionEmbeddings) throw new ArgumentException($"sequence length {T} exceeds max_position_embeddings = {c.MaxPositionEmbeddings}");
    }
}
