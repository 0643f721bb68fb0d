// BLEU as sacreBLEU 2.x computes it (metrics/bleu.py): clipped word n-gram counts over tokenized
// text, closest reference length, brevity penalty, exp smoothing and (sentence level) effective order.
namespace LightGlm.Evaluation.Metrics;

/// <summary>Sufficient statistics of BLEU; corpus BLEU sums them over segments before scoring.</summary>
public sealed record BleuStats(int SysLen, int RefLen, int[] Correct, int[] Total)
{
    public static BleuStats Zero(int order) => new(0, 0, new int[order], new int[order]);

    public BleuStats Add(BleuStats o)
    {
        var c = new int[Correct.Length]; var t = new int[Total.Length];
        for (int n = 0; n < c.Length; n++) { c[n] = Correct[n] + o.Correct[n]; t[n] = Total[n] + o.Total[n]; }
        return new BleuStats(SysLen + o.SysLen, RefLen + o.RefLen, c, t);
    }
}

/// <summary>A BLEU result with everything sacreBLEU prints.</summary>
public sealed record BleuScore(double Score, BleuStats Stats, double[] Precisions, double BrevityPenalty, string Signature)
{
    public double Ratio => Stats.RefLen == 0 ? 0 : (double)Stats.SysLen / Stats.RefLen;

    /// <summary>sacreBLEU's text line, e.g.
    /// <c>BLEU|#:1|… = 72.22 90.9/81.2/73.5/67.3 (BP = 0.929 ratio = 0.931 hyp_len = 5140 ref_len = 5520)</c>.</summary>
    public string Format(string signatureShown) =>
        $"BLEU|{signatureShown} = {PyText.Fixed(Score, 2)} " +
        string.Join('/', Precisions.Select(p => PyText.Fixed(p, 1))) +
        $" (BP = {PyText.Fixed(BrevityPenalty, 3)} ratio = {PyText.Fixed(Ratio, 3)} hyp_len = {Stats.SysLen} ref_len = {Stats.RefLen})";
}

/// <summary>BLEU with one reference per segment, <c>smooth:exp</c>, case-sensitive (sacreBLEU defaults).</summary>
public sealed class Bleu(IBleuTokenizer tokenizer, bool effectiveOrder = false, int maxOrder = 4)
{
    public const string Version = "2.6.0";

    public IBleuTokenizer Tokenizer => tokenizer;

    public string Signature => $"nrefs:1|case:mixed|eff:{(effectiveOrder ? "yes" : "no")}|tok:{tokenizer.Name}|smooth:exp|version:{Version}";
    public string ShortSignature => $"#:1|c:mixed|e:{(effectiveOrder ? "yes" : "no")}|tok:{tokenizer.Name}|s:exp|v:{Version}";

    /// <summary>Statistics of one segment. Both sides are <c>rstrip()</c>ped, tokenized, split.</summary>
    public BleuStats SegmentStats(string hypothesis, string reference)
    {
        var hyp = PyText.Split(tokenizer.Tokenize(PyText.RStrip(hypothesis)));
        var refw = PyText.Split(tokenizer.Tokenize(PyText.RStrip(reference)));
        var correct = new int[maxOrder];
        var total = new int[maxOrder];
        for (int n = 1; n <= maxOrder; n++)
        {
            total[n - 1] = Math.Max(0, hyp.Count - n + 1);
            var refCounts = Ngrams(refw, n);
            foreach (var (ng, count) in Ngrams(hyp, n))
                if (refCounts.TryGetValue(ng, out var rc)) correct[n - 1] += Math.Min(count, rc); // clipped counts
        }
        return new BleuStats(hyp.Count, refw.Count, correct, total);
    }

    // Word n-grams of one order, keyed by length-prefixed tokens so that no two n-grams collide.
    static Dictionary<string, int> Ngrams(List<string> tokens, int n)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            sb.Clear();
            for (int k = i; k < i + n; k++) sb.Append(tokens[k].Length).Append(':').Append(tokens[k]);
            var key = sb.ToString();
            d[key] = d.GetValueOrDefault(key) + 1;
        }
        return d;
    }

    public BleuScore SentenceScore(string hypothesis, string reference) => Compute(SegmentStats(hypothesis, reference));

    public BleuScore CorpusScore(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        MetricInput.CheckSameLength(hypotheses, references);
        var s = BleuStats.Zero(maxOrder);
        for (int i = 0; i < hypotheses.Count; i++) s = s.Add(SegmentStats(hypotheses[i], references[i]));
        return Compute(s);
    }

    /// <summary>sacreBLEU's <c>compute_bleu</c> with <c>smooth_method='exp'</c>.</summary>
    public BleuScore Compute(BleuStats s)
    {
        // BP = exp(1 − r/c) when c < r (0 when c = 0), else 1.
        double bp = s.SysLen < s.RefLen ? (s.SysLen > 0 ? Math.Exp(1.0 - (double)s.RefLen / s.SysLen) : 0.0) : 1.0;
        var p = new double[maxOrder];
        if (s.Correct.All(c => c == 0)) return new BleuScore(0.0, s, p, bp, Signature);

        double smoothMteval = 1.0;
        int effOrder = maxOrder;
        for (int n = 1; n <= maxOrder; n++)
        {
            if (s.Total[n - 1] == 0) break;
            if (effectiveOrder) effOrder = n;
            if (s.Correct[n - 1] == 0)
            {
                smoothMteval *= 2; // k-th zero order gets 100 / (2^k · total)
                p[n - 1] = 100.0 / (smoothMteval * s.Total[n - 1]);
            }
            else p[n - 1] = 100.0 * s.Correct[n - 1] / s.Total[n - 1];
        }
        // score = BP · exp(Σ_{n ≤ effOrder} log p_n / effOrder), log 0 := −9999999999 (my_log).
        double sum = 0;
        for (int n = 0; n < effOrder; n++) sum += p[n] == 0.0 ? -9999999999.0 : Math.Log(p[n]);
        return new BleuScore(bp * Math.Exp(sum / effOrder), s, p, bp, Signature);
    }
}

static class MetricInput
{
    public static void CheckSameLength(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        if (hypotheses.Count != references.Count)
            throw new ArgumentException($"hypotheses ({hypotheses.Count} segments) and references ({references.Count} segments) differ in length");
    }
}
