// `lightglm score --ref REF --hyp HYP [--tokenize zh|13a] [--json]`: BLEU, chrF2, chrF++ and TER of two
// segment files, computed exactly as sacreBLEU 2.6.0 does, printed with sacreBLEU's signatures.
using System.CommandLine;
using System.Text.Json;
using LightGlm.Evaluation.Metrics;

namespace LightGlm.Cli.Commands;

public sealed class ScoreCommand : ICliCommand
{
    public string[] Path => ["score"];

    public Command Build()
    {
        var refOpt = new Option<string>("--ref") { Description = "Reference file, one segment per line (UTF-8).", Required = true };
        var hypOpt = new Option<string>("--hyp") { Description = "Hypothesis (system output) file, one segment per line.", Required = true };
        var tokOpt = new Option<string>("--tokenize") { Description = "BLEU tokenizer: 13a (default, as sacreBLEU) or zh (Chinese targets; also turns on TER normalized + asian support).", DefaultValueFactory = _ => "13a" };
        tokOpt.AcceptOnlyFromAmong("13a", "zh");
        var jsonOpt = new Option<bool>("--json") { Description = "Print one JSON object {bleu, chrf2, chrf2pp, ter} each with score and signature." };
        var sentOpt = new Option<bool>("--sentence-level") { Description = "Also score every segment (sentence BLEU with effective order, exp smoothing)." };
        var longOpt = new Option<bool>("--long-signature") { Description = "Text output with long signatures (sacreBLEU's default text output uses the short ones)." };
        var cmd = new Command("score", "Score a hypothesis file against a reference file: BLEU, chrF2, chrF++, TER (sacreBLEU 2.6.0-exact).")
        {
            refOpt, hypOpt, tokOpt, jsonOpt, sentOpt, longOpt,
        };
        cmd.SetAction(r =>
        {
            string refPath = r.GetValue(refOpt)!, hypPath = r.GetValue(hypOpt)!, tok = r.GetValue(tokOpt)!;
            var refs = SegmentFile.Read(refPath);
            var hyps = SegmentFile.Read(hypPath);
            if (refs.Length != hyps.Length)
                throw new CliException($"--ref '{refPath}' has {refs.Length} lines but --hyp '{hypPath}' has {hyps.Length}: they must align line by line");
            bool zh = tok == "zh";
            var suite = new MetricSuite(tok, terNormalized: zh, terAsianSupport: zh);
            var s = suite.Corpus(hyps, refs);
            var sentence = r.GetValue(sentOpt) ? new MetricSuite(tok, zh, zh, sentenceLevel: true) : null;
            if (r.GetValue(jsonOpt)) WriteJson(suite, s, sentence, hyps, refs);
            else WriteText(suite, s, sentence, hyps, refs, r.GetValue(longOpt));
            return 0;
        });
        return cmd;
    }

    static void WriteText(MetricSuite suite, MetricScores s, MetricSuite? sentence, string[] hyps, string[] refs, bool longSig)
    {
        Console.WriteLine(s.Bleu.Format(longSig ? suite.Bleu.Signature : suite.Bleu.ShortSignature));
        Console.WriteLine(Chrf.Format(s.Chrf2, longSig ? suite.Chrf2.Signature : suite.Chrf2.ShortSignature));
        Console.WriteLine(Chrf.Format(s.Chrf2pp, longSig ? suite.Chrf2pp.Signature : suite.Chrf2pp.ShortSignature));
        Console.WriteLine(s.Ter.Format(longSig ? suite.Ter.Signature : suite.Ter.ShortSignature));
        if (sentence is null) return;
        Console.WriteLine("line\tBLEU\tchrF2\tchrF2++\tTER");
        for (int i = 0; i < hyps.Length; i++)
        {
            var t = sentence.Sentence(hyps[i], refs[i]);
            Console.WriteLine($"{i + 1}\t{PyText.Fixed(t.Bleu.Score, 2)}\t{PyText.Fixed(t.Chrf2.Score, 2)}\t{PyText.Fixed(t.Chrf2pp.Score, 2)}\t{PyText.Fixed(t.Ter.Score, 2)}");
        }
    }

    static void WriteJson(MetricSuite suite, MetricScores s, MetricSuite? sentence, string[] hyps, string[] refs)
    {
        using var stream = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            Entry(w, "bleu", s.Bleu.Score, suite.Bleu.Signature);
            Entry(w, "chrf2", s.Chrf2.Score, suite.Chrf2.Signature);
            Entry(w, "chrf2pp", s.Chrf2pp.Score, suite.Chrf2pp.Signature);
            Entry(w, "ter", s.Ter.Score, suite.Ter.Signature);
            if (sentence is not null)
            {
                w.WriteStartArray("sentences");
                for (int i = 0; i < hyps.Length; i++)
                {
                    var t = sentence.Sentence(hyps[i], refs[i]);
                    w.WriteStartObject();
                    w.WriteNumber("bleu", t.Bleu.Score);
                    w.WriteNumber("chrf2", t.Chrf2.Score);
                    w.WriteNumber("chrf2pp", t.Chrf2pp.Score);
                    w.WriteNumber("ter", t.Ter.Score);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        stream.Write("\n"u8);
    }

    static void Entry(Utf8JsonWriter w, string name, double score, string signature)
    {
        w.WriteStartObject(name);
        w.WriteNumber("score", score);
        w.WriteString("signature", signature);
        w.WriteEndObject();
    }
}
