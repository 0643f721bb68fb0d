// `lightglm eval --model DIR --test FILE.tsv [--direction en-zh|zh-en|both] [--json]`: BLEU, chrF, TER,
// terminology and translation accuracy per direction, plus size, peak memory, latency and throughput.
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using LightGlm.Evaluation.Metrics;
using LightGlm.Model.Checkpoints;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

public sealed class EvalCommand : ICliCommand
{
    public string[] Path => ["eval"];

    public Command Build()
    {
        var modelOpt = new Option<string>("--model") { Description = "Model directory.", Required = true };
        var testOpt = new Option<string>("--test") { Description = "Test file: english<TAB>chinese per line, UTF-8.", Required = true };
        var dirOpt = new Option<string>("--direction") { Description = "en-zh, zh-en or both.", DefaultValueFactory = _ => "both" };
        dirOpt.AcceptOnlyFromAmong("en-zh", "zh-en", "both");
        var glossOpt = new Option<string?>("--glossary") { Description = "glossary.tsv (english<TAB>chinese) for terminology accuracy." };
        var maxOpt = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 128 };
        var jsonOpt = new Option<bool>("--json") { Description = "One JSON object instead of text." };
        var limitOpt = new Option<int>("--max-sentences") { Description = "Use only the first N pairs (0 = all).", DefaultValueFactory = _ => 0 };
        var decode = new DecodeOptions();
        var cmd = new Command("eval", "Evaluate a translation model on a parallel test set.") { modelOpt, testOpt, dirOpt, glossOpt, maxOpt, jsonOpt, limitOpt };
        decode.AddTo(cmd, batch: false);
        cmd.SetAction(r =>
        {
            var pairs = ParallelTsv.Read(r.GetValue(testOpt)!);
            if (r.GetValue(limitOpt) is > 0 and var limit && pairs.Count > limit) pairs = pairs.Take(limit).ToList();
            var glossary = r.GetValue(glossOpt) is { } g ? Glossary.Load(g) : null;
            string modelDir = r.GetValue(modelOpt)!;
            var (model, tok) = TranslationModel.Load(modelDir);
            var translator = decode.Translator(r, model, tok, batchOverride: 1); // one at a time: per-sentence latency
            var dirs = r.GetValue(dirOpt) == "both" ? Directions.Both : [Directions.Parse(r.GetValue(dirOpt)!)];
            int maxNew = r.GetValue(maxOpt);
            var report = new Dictionary<string, object?>();
            int total = pairs.Count * dirs.Length, done = 0;
            foreach (var d in dirs)
            {
                var src = pairs.Select(p => d == Direction.EnToZh ? p.English : p.Chinese).ToList();
                var refs = pairs.Select(p => d == Direction.EnToZh ? p.Chinese : p.English).ToList();
                var hyps = new List<string>(); var lat = new List<double>();
                var sw = Stopwatch.StartNew();
                foreach (var s in src)
                {
                    var t0 = sw.Elapsed.TotalMilliseconds;
                    hyps.Add(translator.Translate([s], d, maxNew)[0].Text); // one at a time: per-sentence latency
                    lat.Add(sw.Elapsed.TotalMilliseconds - t0);
                    done++;
                    if (!Console.IsErrorRedirected || done % 50 == 0 || done == total)
                        Console.Error.Write($"\r[{new string('#', 30 * done / total).PadRight(30)}] {done}/{total} {d.Name()}");
                }
                double seconds = sw.Elapsed.TotalSeconds;
                var suite = MetricSuite.ForTarget(d.TargetLanguage());
                var m = suite.Corpus(hyps, refs);
                var term = glossary is null ? (double?)null : TerminologyAccuracy.Compute(glossary, d == Direction.EnToZh, src, hyps, refs).Accuracy;
                var tf = TeacherForcedAccuracy.Compute(model, tok, d, src.Zip(refs).ToList(), weights: translator.Weights);
                lat.Sort();
                report[d.Name()] = new Dictionary<string, object?>
                {
                    ["bleu"] = m.Bleu.Score, ["chrf"] = m.Chrf2.Score, ["ter"] = m.Ter.Score,
                    ["term_accuracy"] = term is double t && !double.IsNaN(t) ? t : null,
                    ["translation_accuracy"] = tf.Accuracy,
                    ["sentences"] = src.Count,
                    ["latency_p50_ms"] = Percentile(lat, 0.50), ["latency_p95_ms"] = Percentile(lat, 0.95),
                    ["throughput_sentences_per_s"] = src.Count / seconds,
                    ["mean_target_token_probability"] = tf.MeanProbability,
                    ["chrf2pp"] = m.Chrf2pp.Score,
                    ["bleu_signature"] = suite.Bleu.Signature,
                };
            }
            Console.Error.WriteLine();
            report["params"] = model.Layout.TotalLength;
            report["beam"] = translator.Options.Beam;
            report["weights"] = LightGlm.Model.Inference.InferenceWeights.Name(translator.Options.Weights);
            report["projection_bytes"] = translator.Weights.ProjectionBytes;
            report["checkpoint_bytes"] = new FileInfo(System.IO.Path.Combine(modelDir, ModelDirectory.WeightsFile)).Length;
            report["peak_rss_mb"] = PeakRssMb();
            if (r.GetValue(jsonOpt)) Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            else
            {
                foreach (var d in dirs)
                {
                    var x = (Dictionary<string, object?>)report[d.Name()]!;
                    Console.WriteLine($"{d.Name()}: BLEU {x["bleu"]:F2}  chrF2 {x["chrf"]:F2}  chrF++ {x["chrf2pp"]:F2}  TER {x["ter"]:F2}  " +
                        $"term acc {(x["term_accuracy"] is double ta ? ta.ToString("P1") : "n/a")}  translation acc {x["translation_accuracy"]:P1} " +
                        $"(mean p {x["mean_target_token_probability"]:F3})  {x["sentences"]} sentences  latency p50 {x["latency_p50_ms"]:F1} ms p95 {x["latency_p95_ms"]:F1} ms  {x["throughput_sentences_per_s"]:F2} sent/s");
                }
                Console.WriteLine($"weights {report["weights"]} (projections + head {translator.Weights.ProjectionBytes / 1e6:F2} MB)  beam {report["beam"]}");
                Console.WriteLine($"params {report["params"]}  checkpoint {report["checkpoint_bytes"]} bytes  peak RSS {report["peak_rss_mb"]:F1} MB");
            }
            return 0;
        });
        return cmd;
    }

    static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    /// <summary>VmHWM from /proc/self/status (Linux), else the process's peak working set.</summary>
    internal static double PeakRssMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
