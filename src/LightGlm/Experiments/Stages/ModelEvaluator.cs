// Scores one model on a test split in both directions, the way Tables 2-4 report models: BLEU, chrF2,
// chrF++, TER, terminology accuracy, teacher-forced translation accuracy, and size and speed.
using System.Diagnostics;
using System.Text.Json.Nodes;
using LightGlm.Evaluation.Metrics;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public static class ModelEvaluator
{
    public static JsonObject Evaluate(GlmModel model, ITranslationTokenizer tok, string modelDir,
        IReadOnlyList<(string English, string Chinese)> pairs, Glossary? glossary, int maxNewTokens,
        Action<double, string>? progress = null, CancellationToken cancel = default)
    {
        var translator = new GlmTranslator(model, tok, maxBatch: 1);
        var result = new JsonObject
        {
            ["params"] = model.Layout.TotalLength,
            ["checkpoint_bytes"] = ModelBytes(modelDir),
        };
        int total = pairs.Count * 2, done = 0;
        long newTokens = 0;
        double decodeMs = 0;
        foreach (var d in Directions.Both)
        {
            var src = pairs.Select(p => d == Direction.EnToZh ? p.English : p.Chinese).ToList();
            var refs = pairs.Select(p => d == Direction.EnToZh ? p.Chinese : p.English).ToList();
            var hyps = new List<string>(src.Count);
            var lat = new List<double>(src.Count);
            foreach (var s in src)
            {
                cancel.ThrowIfCancellationRequested();
                var t = translator.Translate([s], d, maxNewTokens)[0]; // one at a time: per-sentence latency
                hyps.Add(t.Text);
                lat.Add(t.Milliseconds);
                newTokens += t.Ids.Length;
                decodeMs += t.Milliseconds;
                progress?.Invoke(++done / (double)total, $"{d.Name()} {done}/{total}");
            }
            var m = MetricSuite.ForTarget(d.TargetLanguage()).Corpus(hyps, refs);
            var tf = TeacherForcedAccuracy.Compute(model, tok, d, src.Zip(refs).ToList());
            double? term = glossary is null ? null : TerminologyAccuracy.Compute(glossary, d == Direction.EnToZh, src, hyps, refs).Accuracy;
            lat.Sort();
            result[d.Name()] = new JsonObject
            {
                ["bleu"] = Math.Round(m.Bleu.Score, 2), ["chrf"] = Math.Round(m.Chrf2.Score, 2), ["chrf2pp"] = Math.Round(m.Chrf2pp.Score, 2),
                ["ter"] = Math.Round(m.Ter.Score, 2),
                ["term_accuracy"] = term is double x && double.IsFinite(x) ? Math.Round(x, 4) : null,
                ["translation_accuracy"] = Math.Round(tf.Accuracy, 4),
                ["mean_target_probability"] = Math.Round(tf.MeanProbability, 4),
                ["sentences"] = src.Count,
                ["latency_p50_ms"] = Math.Round(Percentile(lat, 0.5), 2), ["latency_p95_ms"] = Math.Round(Percentile(lat, 0.95), 2),
                ["samples"] = new JsonArray(src.Take(3).Select((s, i) => (JsonNode)new JsonObject { ["source"] = s, ["reference"] = refs[i], ["output"] = hyps[i] }).ToArray()),
            };
        }
        result["ms_per_generated_token"] = newTokens > 0 ? Math.Round(decodeMs / newTokens, 3) : null;
        return result;
    }

    static long ModelBytes(string dir) => File.Exists(Path.Combine(dir, ModelDirectory.WeightsFile)) ? new FileInfo(Path.Combine(dir, ModelDirectory.WeightsFile)).Length : 0;

    static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];
}
