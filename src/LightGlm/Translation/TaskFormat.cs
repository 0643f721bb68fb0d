// The translation task as GLM prefix-LM sequences: prompt = <|bos|> <|tag|> source <|sep|> (bidirectional),
// answer = target <|eos|> (causal), loss on the answer only. With a fuzzy match from a translation memory the prompt is
// <|bos|> <|tag|> source <|sep|> match_target <|sep|>: the one place either prompt is built.
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
    public static int[] Prompt(SpecialTokens sp, Direction d, ReadOnlySpan<int> source) => Prompt(sp, d, source, null);

    /// <summary>
    /// [bos, tag, source…, sep, match…, sep] when <paramref name="match"/> (the stored translation of a similar source,
    /// neural fuzzy repair) is given, else [bos, tag, source…, sep]. The match goes after the source so the answer still
    /// starts after the last &lt;|sep|&gt;, and it is fenced by the existing &lt;|sep|&gt; rather than a new special token
    /// (a new token would change every tokenizer's ids). The prompt is bidirectional, so the model reads source and
    /// match together.
    /// </summary>
    public static int[] Prompt(SpecialTokens sp, Direction d, ReadOnlySpan<int> source, int[]? match)
    {
        var p = new int[PromptLength(source.Length, match?.Length)];
        p[0] = sp.Bos; p[1] = sp.Tag(d);
        source.CopyTo(p.AsSpan(2));
        p[source.Length + 2] = sp.Sep;
        if (match is not null)
        {
            match.CopyTo(p.AsSpan(source.Length + 3));
            p[^1] = sp.Sep;
        }
        return p;
    }

    /// <summary>Tokens of a prompt: source + 3, and match + 1 more with a match.</summary>
    public static int PromptLength(int source, int? match) => source + 3 + (match is { } m ? m + 1 : 0);

    /// <summary>
    /// Whether a prompt with a match of <paramref name="match"/> tokens and an answer of <paramref name="answer"/> tokens
    /// fits a training sequence of <paramref name="seqLen"/> (prompt + answer + eos − 1 tokens). When it does not, the
    /// match is dropped and the plain prompt is used: training (with the target's length) and inference (with the
    /// match's length standing in for the answer's, at the seq_len the model was trained at) apply the same rule.
    /// </summary>
    public static bool MatchFits(int source, int match, int answer, int seqLen) => PromptLength(source, match) + answer <= seqLen;

    /// <summary>
    /// full = prompt ++ target ++ [eos] (length n). Tokens = full[0..n−1); Targets[t] = full[t+1] for t ≥ P−1 (the
    /// position of &lt;|sep|&gt; predicts the first target token), −1 before: the loss covers target and eos only.
    /// PrefixLength = P = prompt length: keys j &lt; P are visible to every query (ENGINE.md prefix mask), the rest
    /// is causal — so the same prompt seen at inference (prefilled bidirectionally) gives the same activations.
    /// </summary>
    public static TaskExample Example(SpecialTokens sp, Direction d, ReadOnlySpan<int> source, ReadOnlySpan<int> target, int[]? match = null)
    {
        var prompt = Prompt(sp, d, source, match);
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
