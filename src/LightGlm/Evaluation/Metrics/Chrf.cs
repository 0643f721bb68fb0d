// chrF / chrF++ as sacreBLEU 2.x computes them (metrics/chrf.py): character n-grams over code
// points with whitespace removed, optional word n-grams, averaged P and R, F-beta (beta = 2).
using System.Text;

namespace LightGlm.Evaluation.Metrics;

/// <summary>A chrF result: score in [0, 100] and the per-order [hyp, ref, match] statistics
/// (char orders 1..nc, then word orders 1..nw).</summary>
public sealed record ChrfScore(double Score, long[] Stats, string Signature, string Name);

/// <summary>chrF (word order 0) or chrF++ (word order 2); <c>eps_smoothing=False</c>, case-sensitive,
/// whitespace excluded: sacreBLEU's defaults.</summary>
public sealed class Chrf(int wordOrder = 0, int charOrder = 6, int beta = 2)
{
    public int Order => charOrder + wordOrder;

    /// <summary>"chrF2" or "chrF2++" (sacreBLEU's name; "+" per word order... it prints "++" for 2).</summary>
    public string Name => $"chrF{beta}" + new string('+', wordOrder);

    public string Signature => $"nrefs:1|case:mixed|eff:yes|nc:{charOrder}|nw:{wordOrder}|space:no|version:{Bleu.Version}";
    public string ShortSignature => $"#:1|c:mixed|e:yes|nc:{charOrder}|nw:{wordOrder}|s:no|v:{Bleu.Version}";

    // string.punctuation: the only characters chrF++ splits off a word.
    const string Puncts = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    /// <summary>Per-order statistics of one segment (3 per order).</summary>
    public long[] SegmentStats(string hypothesis, string reference)
    {
        var stats = new long[3 * Order];
        var hypChars = PyText.CodePoints(PyText.RemoveSpaces(hypothesis));
        var refChars = PyText.CodePoints(PyText.RemoveSpaces(reference));
        for (int n = 1; n <= charOrder; n++)
            Match(Grams(hypChars, n, ""), Grams(refChars, n, ""), stats, n - 1);
        if (wordOrder > 0)
        {
            var hw = SplitPunctuation(hypothesis).ToArray();
            var rw = SplitPunctuation(reference).ToArray();
            for (int n = 1; n <= wordOrder; n++)
                Match(Grams(hw, n, " "), Grams(rw, n, " "), stats, charOrder + n - 1);
        }
        return stats;
    }

    static Dictionary<string, int> Grams(string[] units, int n, string sep)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= units.Length; i++)
        {
            var key = string.Join(sep, units, i, n);
            d[key] = d.GetValueOrDefault(key) + 1;
        }
        return d;
    }

    // _get_match_statistics: hyp count is reported as 0 when the reference has no n-gram of this order.
    static void Match(Dictionary<string, int> hyp, Dictionary<string, int> refs, long[] stats, int order)
    {
        long hypCount = 0, match = 0, refCount = 0;
        foreach (var (ng, c) in hyp)
        {
            hypCount += c;
            if (refs.TryGetValue(ng, out var rc)) match += Math.Min(c, rc);
        }
        foreach (var c in refs.Values) refCount += c;
        stats[3 * order] = refs.Count > 0 ? hypCount : 0;
        stats[3 * order + 1] = refCount;
        stats[3 * order + 2] = match;
    }

    /// <summary>chrF++ words: <c>s.split()</c>, then split ONE ASCII punctuation character off a token
    /// longer than one code point: the last if it is punctuation, else the first ("(hi)" → "(hi", ")").</summary>
    public static List<string> SplitPunctuation(string sentence)
    {
        var words = new List<string>();
        foreach (var w in PyText.Split(sentence))
        {
            var cps = PyText.CodePoints(w);
            if (cps.Length == 1) { words.Add(w); continue; }
            if (Puncts.Contains(cps[^1])) { words.Add(string.Concat(cps[..^1])); words.Add(cps[^1]); }
            else if (Puncts.Contains(cps[0])) { words.Add(cps[0]); words.Add(string.Concat(cps[1..])); }
            else words.Add(w);
        }
        return words;
    }

    /// <summary><c>_compute_f_score</c> without eps smoothing: average P and R over the orders where
    /// hyp &gt; 0 and ref &gt; 0, then F = (1+β²)PR / (β²P + R) · 100.</summary>
    public double FScore(long[] stats)
    {
        double factor = beta * beta, avgPrec = 0, avgRec = 0;
        int eff = 0;
        for (int i = 0; i < Order; i++)
        {
            long h = stats[3 * i], r = stats[3 * i + 1], m = stats[3 * i + 2];
            if (h > 0 && r > 0)
            {
                avgPrec += (double)m / h;
                avgRec += (double)m / r;
                eff++;
            }
        }
        if (eff == 0) avgPrec = avgRec = 0;
        else { avgPrec /= eff; avgRec /= eff; }
        if (avgPrec + avgRec == 0) return 0.0;
        double score = (1 + factor) * avgPrec * avgRec;
        score /= factor * avgPrec + avgRec;
        return 100 * score;
    }

    public ChrfScore SentenceScore(string hypothesis, string reference)
    {
        var s = SegmentStats(hypothesis, reference);
        return new ChrfScore(FScore(s), s, Signature, Name);
    }

    public ChrfScore CorpusScore(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        MetricInput.CheckSameLength(hypotheses, references);
        var total = new long[3 * Order];
        for (int i = 0; i < hypotheses.Count; i++)
        {
            var s = SegmentStats(hypotheses[i], references[i]);
            for (int k = 0; k < total.Length; k++) total[k] += s[k];
        }
        return new ChrfScore(FScore(total), total, Signature, Name);
    }

    /// <summary>sacreBLEU's text line: <c>chrF2|sig = 70.52</c>.</summary>
    public static string Format(ChrfScore s, string signatureShown) => $"{s.Name}|{signatureShown} = {PyText.Fixed(s.Score, 2)}";
}
