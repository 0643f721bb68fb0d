// Terminology as a soft decoding constraint: for a source that contains a glossary term, greedy decoding adds a bonus to
// the logits of the tokens that write the term's translation — the token that starts it, then the one that continues
// it — until the translation contains it. Soft (a bonus, not a forced token): a model sure of something else still wins,
// and tokenisation of the term in context may differ from any one path. Greedy decoding only.
using LightGlm.Evaluation.Metrics;
using LightGlm.Text.Tokenizers;

namespace LightGlm.Translation;

public sealed class TermConstraints
{
    readonly Glossary _glossary;
    readonly string?[] _pieces;
    readonly Dictionary<(string Remaining, bool Start, bool Chinese), int[]> _candidates = new();

    /// <summary>Logit bonus for a token that writes a pending term (0 = off).</summary>
    public float Bias { get; }

    public TermConstraints(Glossary glossary, ITokenizer tokenizer, float bias)
    {
        if (!(bias >= 0 && bias <= 50)) throw new ArgumentOutOfRangeException(nameof(bias), bias, "the term bias must be in [0, 50] (logits)");
        _glossary = glossary;
        Bias = bias;
        var special = new HashSet<int>(tokenizer.SpecialTokens.Values);
        // Each token's text on its own; a token holding part of a UTF-8 character (U+FFFD alone) cannot be matched as text.
        _pieces = new string?[tokenizer.VocabSize];
        for (int id = 0; id < _pieces.Length; id++)
        {
            if (special.Contains(id)) continue;
            string p = tokenizer.Decode([id]);
            if (p.Length > 0 && !p.Contains('\uFFFD')) _pieces[id] = p;
        }
    }

    /// <summary>The glossary translations a source text asks for (its terms as TerminologyAccuracy finds them), longest first.</summary>
    public IReadOnlyList<string> TermsFor(string source, Direction d)
    {
        bool en = d == Direction.EnToZh;
        var found = new List<string>();
        foreach (var t in _glossary.Terms)
        {
            var (s, target) = en ? (t.English, t.Chinese) : (t.Chinese, t.English);
            if (TerminologyAccuracy.Occurs(source, s, chinese: !en) && !found.Contains(target)) found.Add(target);
        }
        // A term inside a longer one ("file" in "file name") is written by the longer one; keep only the longest.
        return found.Where(a => !found.Any(b => b.Length > a.Length && b.Contains(a, StringComparison.OrdinalIgnoreCase)))
                    .OrderByDescending(a => a.Length).ToList();
    }

    /// <summary>
    /// Adds the bonus to <paramref name="logits"/> (one row) for every token that starts or continues a term of
    /// <paramref name="terms"/> not yet in <paramref name="output"/> (the translation so far, decoded).
    /// </summary>
    public void Apply(Span<float> logits, IReadOnlyList<string> terms, string output, bool chineseTarget)
    {
        if (Bias == 0 || terms.Count == 0) return;
        var boosted = new HashSet<int>();
        foreach (var term in terms)
        {
            if (TerminologyAccuracy.Occurs(output, term, chineseTarget)) continue;
            var cmp = chineseTarget ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
            // The longest end of the output that starts the term: that much is written, the rest is to come.
            int k = Math.Min(output.Length, term.Length - 1);
            while (k > 0 && !output.EndsWith(term[..k], cmp)) k--;
            string rest = term[k..];
            foreach (int id in Candidates(rest, k == 0, chineseTarget))
                if (boosted.Add(id)) logits[id] += Bias;
        }
    }

    /// <summary>Tokens whose text writes the start of <paramref name="rest"/> (or all of it and more); at a term's start an
    /// English token may carry its leading space.</summary>
    int[] Candidates(string rest, bool start, bool chinese)
    {
        if (_candidates.TryGetValue((rest, start, chinese), out var c)) return c;
        var cmp = chinese ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var list = new List<int>();
        for (int id = 0; id < _pieces.Length; id++)
        {
            string? p = _pieces[id];
            if (p is null) continue;
            if (start) p = p.TrimStart();
            if (p.Length == 0) continue;
            if (rest.StartsWith(p, cmp) || (p.StartsWith(rest, cmp) && (chinese || p.Length == rest.Length || !char.IsAsciiLetterOrDigit(p[rest.Length]))))
                list.Add(id);
        }
        return _candidates[(rest, start, chinese)] = [.. list];
    }
}
