// The four scores we report together (BLEU, chrF2, chrF++, TER), configured as sacreBLEU would be
// for the target language: `zh` tokenizer + TER asian/normalized for Chinese, `13a` + plain TER otherwise.
namespace LightGlm.Evaluation.Metrics;

public sealed record MetricScores(BleuScore Bleu, ChrfScore Chrf2, ChrfScore Chrf2pp, TerScore Ter);

public sealed class MetricSuite
{
    public Bleu Bleu { get; }
    public Chrf Chrf2 { get; } = new(wordOrder: 0);
    public Chrf Chrf2pp { get; } = new(wordOrder: 2);
    public Ter Ter { get; }

    public MetricSuite(string tokenize, bool terNormalized, bool terAsianSupport, bool sentenceLevel = false)
    {
        Bleu = new Bleu(BleuTokenizers.Create(tokenize), effectiveOrder: sentenceLevel);
        Ter = new Ter(terNormalized, terAsianSupport);
    }

    /// <summary>Defaults for a target language: "zh" → tok:zh, TER normalized + asian; else 13a, plain TER.</summary>
    public static MetricSuite ForTarget(string targetLanguage, bool sentenceLevel = false) => targetLanguage == "zh"
        ? new MetricSuite("zh", true, true, sentenceLevel)
        : new MetricSuite("13a", false, false, sentenceLevel);

    public MetricScores Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references) => new(
        Bleu.CorpusScore(hypotheses, references), Chrf2.CorpusScore(hypotheses, references),
        Chrf2pp.CorpusScore(hypotheses, references), Ter.CorpusScore(hypotheses, references));

    public MetricScores Sentence(string hypothesis, string reference) => new(
        Bleu.SentenceScore(hypothesis, reference), Chrf2.SentenceScore(hypothesis, reference),
        Chrf2pp.SentenceScore(hypothesis, reference), Ter.SentenceScore(hypothesis, reference));
}
