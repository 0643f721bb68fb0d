// Where micro-batches come from: a source fills micro-batch number i deterministically, so resuming = remembering i.
using LightGlm.Text.Tokenizers;
using LightGlm.Model;

namespace LightGlm.Training;

/// <summary>
/// Fills <paramref name="batch"/> with micro-batch number <paramref name="index"/> (0, 1, 2, … over the whole run).
/// Must be a pure function of index (and the source's own fixed inputs): that is what makes a resumed run bit-identical.
/// Set Tokens, Targets (−1 = ignored) and optionally PrefixLengths / SampleWeights; the trainer sets LossScale.
/// </summary>
public interface IBatchSource
{
    void Fill(Batch batch, long index);
}

/// <summary>
/// Language-model windows over one token stream: micro-batch i takes B windows of T+1 tokens at offsets drawn from
/// Rng.Derive(seed, i); tokens = window[0..T), targets = window[1..T].
/// </summary>
public sealed class TokenStreamSource : IBatchSource
{
    public int[] Tokens { get; }
    readonly ulong _seed;

    public TokenStreamSource(int[] tokens, ulong seed)
    {
        Tokens = tokens;
        _seed = seed;
    }

    public void Fill(Batch batch, long index)
    {
        int T = batch.T;
        if (Tokens.Length < T + 1)
            throw new InvalidOperationException($"the training text has {Tokens.Length} tokens, fewer than seq_len + 1 = {T + 1}: add data or lower seq_len");
        var rng = Rng.Derive(_seed, (ulong)index);
        for (int b = 0; b < batch.B; b++)
        {
            int start = rng.NextInt(Tokens.Length - T);
            Tokens.AsSpan(start, T).CopyTo(batch.Tokens.AsSpan(b * T, T));
            Tokens.AsSpan(start + 1, T).CopyTo(batch.Targets.AsSpan(b * T, T));
        }
    }

    /// <summary>Reads text files, tokenizes each, and frames each as [BOS] text [EOS] (when the tokenizer has them).</summary>
    public static int[] Tokenize(IEnumerable<string> files, ITokenizer tokenizer)
    {
        var all = new List<int>();
        foreach (var f in files)
        {
            if (!File.Exists(f)) throw new FileNotFoundException($"{f}: training text file not found", f);
            if (tokenizer.BosId is { } bos) all.Add(bos);
            all.AddRange(tokenizer.EncodeText(File.ReadAllText(f)));
            if (tokenizer.EosId is { } eos) all.Add(eos);
        }
        return all.ToArray();
    }
}

/// <summary>Random tokens and targets (micro-batch i from seed i + 1) for timing a step: the planner's measurement,
/// Figure 3's command and the recipe's time estimate. With a prefix, its positions have no target (prefix LM).</summary>
public sealed class RandomTokenSource(int vocab, int prefix = 0) : IBatchSource
{
    public void Fill(Batch batch, long index)
    {
        var rng = new Rng((ulong)index + 1);
        for (int i = 0; i < batch.Tokens.Length; i++)
        {
            batch.Tokens[i] = rng.NextInt(vocab);
            batch.Targets[i] = i % batch.T < prefix ? -1 : rng.NextInt(vocab);
        }
        if (prefix > 0) batch.PrefixLengths = Enumerable.Repeat(prefix, batch.B).ToArray();
    }
}
