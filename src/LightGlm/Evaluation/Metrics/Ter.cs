// TER as sacreBLEU 2.x reports it (metrics/ter.py): Tercom tokenization of rstrip()ped lines,
// lib_ter edits per segment, score = 100 · Σedits / Σref_len.
namespace LightGlm.Evaluation.Metrics;

/// <summary>A TER result: score (percent), total edits and total reference length.</summary>
public sealed record TerScore(double Score, long Edits, double RefLength, string Signature)
{
    /// <summary>sacreBLEU's text line: <c>TER|sig = 27.79</c>.</summary>
    public string Format(string signatureShown) => $"TER|{signatureShown} = {PyText.Fixed(Score, 2)}";
}

/// <summary>TER with one reference; case-insensitive, punctuation kept (sacreBLEU defaults).</summary>
public sealed class Ter(bool normalized = false, bool asianSupport = false)
{
    readonly TercomTokenizer _tokenizer = new(normalized, noPunct: false, asianSupport, caseSensitive: false);

    public TercomTokenizer Tokenizer => _tokenizer;

    static string YesNo(bool b) => b ? "yes" : "no";
    public string Signature => $"nrefs:1|case:lc|tok:tercom|norm:{YesNo(normalized)}|punct:yes|asian:{YesNo(asianSupport)}|version:{Bleu.Version}";
    public string ShortSignature => $"#:1|c:lc|t:tercom|nr:{YesNo(normalized)}|pn:yes|as:{YesNo(asianSupport)}|v:{Bleu.Version}";

    public TerEdits SegmentEdits(string hypothesis, string reference)
    {
        var h = PyText.Split(_tokenizer.Tokenize(PyText.RStrip(hypothesis)));
        var r = PyText.Split(_tokenizer.Tokenize(PyText.RStrip(reference)));
        return TerAlgorithm.Compute(h, r);
    }

    public TerScore SentenceScore(string hypothesis, string reference)
    {
        var e = SegmentEdits(hypothesis, reference);
        return Compute(e.Edits, e.RefLength);
    }

    public TerScore CorpusScore(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        MetricInput.CheckSameLength(hypotheses, references);
        long edits = 0; double refLen = 0;
        for (int i = 0; i < hypotheses.Count; i++)
        {
            var e = SegmentEdits(hypotheses[i], references[i]);
            edits += e.Edits; refLen += e.RefLength;
        }
        return Compute(edits, refLen);
    }

    TerScore Compute(long edits, double refLen)
    {
        // Empty reference(s): 100 when anything had to be inserted, else 0.
        double score = refLen > 0 ? edits / refLen : edits > 0 ? 1.0 : 0.0;
        return new TerScore(100 * score, edits, refLen, Signature);
    }
}
