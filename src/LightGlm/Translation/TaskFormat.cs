// The translation task as GLM prefix-LM sequences: prompt = <|bos|> <|tag|> source <|sep|> (bidirectional),
// answer = target <|eos|> (causal), loss on the answer only.
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

/// <summary>One training sequence: input ids, next-token targets (−1 = no loss) and the prompt length P.</summary>
public sealed record TaskExample(int[] Tokens, int[] Targets, int PrefixLength, Direction Direction)
{
    public int Length => Tokens.Length;
}

public static class TaskFormat
{
    /// <summary>[bos, tag, source…, sep]: the prompt, attended bidirectionally (GLM prefix).</summary>
    public static int[] Prompt(SpecialTokens sp, Direction d, ReadOnlySpan<int> source)
    {
        var p = new int[source.Length + 3];
        p[0] = sp.Bos; p[1] = sp.Tag(d);
        source.CopyTo(p.AsSpan(2));
        p[^1] = sp.Sep;
        return p;
    }

    /// <summary>
    /// full = prompt ++ target ++ [eos] (length n). Tokens = full[0..n−1); Targets[t] = full[t+1] for t ≥ P−1 (the
    /// position of &lt;|sep|&gt; predicts the first target token), −1 before: the loss covers target and eos only.
    /// PrefixLength = P = prompt length: keys j &lt; P are visible to every query (ENGINE.md prefix mask), the rest
    /// is causal — so the same prompt seen at inference (prefilled bidirectionally) gives the same activations.
    /// </summary>
    public static TaskExample Example(SpecialTokens sp, Direction d, ReadOnlySpan<int> source, ReadOnlySpan<int> target)
    {
        var prompt = Prompt(sp, d, source);
        int P = prompt.Length, n = P + target.Length + 1;
        var full = new int[n];
        prompt.CopyTo(full, 0);
        target.CopyTo(full.AsSpan(P));
        full[^1] = sp.Eos;
        var tokens = full[..^1];
        var targets = new int[n - 1];
        for (int t = 0; t < n - 1; t++) targets[t] = t >= P - 1 ? full[t + 1] : -1;
        return new TaskExample(tokens, targets, P, d);
    }
}
