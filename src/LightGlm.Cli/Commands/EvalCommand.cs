// `lightglm eval --model DIR (--test FILE.tsv | --split test|dev|unseen [--corpus DIR]) [--direction en-zh|zh-en|both] [--json]`: BLEU, chrF, TER,
// terminology and translation accuracy per direction, plus size, peak memory, latency and throughput.
using System.CommandLine;
using LightGlm.Experiments;
using LightGlm.Cli.Progress;
using LightGlm.Evaluation.Metrics;
using LightGlm.Experiments.Stages;
using LightGlm.Translation;

namespace LightGlm.Cli.Commands;

public sealed class EvalCommand : ICliCommand
{
    public string[] Path => ["eval"];

    public Command Build()
    {
        var modelOpt = new Option<string>("--model") { Description = "Model directory.", Required = true };
        var testOpt = new Option<string?>("--test") { Description = "Test file: english<TAB>chinese per line, UTF-8." };
        var splitOpt = new Option<string?>("--split") { Description = "A split of a built corpus instead of --test: test, dev or unseen (the held-out packages)." };
        splitOpt.AcceptOnlyFromAmong("test", "dev", "unseen");
        var corpusOpt = new Option<string?>("--corpus") { Description = "Corpus folder for --split (default: the corpus/ of the run holding the model, else $LIGHTGLM_CACHE/corpus)." };
        var dirOpt = new Option<string>("--direction") { Description = "en-zh, zh-en or both.", DefaultValueFactory = _ => "both" };
        dirOpt.AcceptOnlyFromAmong("en-zh", "zh-en", "both");
        var glossOpt = new Option<string?>("--glossary") { Description = "glossary.tsv (english<TAB>chinese) for terminology accuracy." };
        var maxOpt = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 128 };
        var jsonOpt = new Option<bool>("--json") { Description = "One JSON object instead of text." };
        var limitOpt = new Option<int>("--max-sentences") { Description = "Use only the first N pairs (0 = all).", DefaultValueFactory = _ => 0 };
        var memoryOpt = new MemoryOption();
        var decode = new DecodeOptions(defaultBatch: 1);
        var cmd = new Command("eval", "Evaluate a translation model on a parallel test set.") { modelOpt, testOpt, splitOpt, corpusOpt, dirOpt, glossOpt, maxOpt, jsonOpt, limitOpt };
        memoryOpt.AddTo(cmd);
        decode.AddTo(cmd);
        decode.Batch.Description = "Sentences translated together (1 = one at a time, with per-sentence latency; more = faster quality runs, no latencies).";
        cmd.SetAction(r =>
        {
            new OptionChecks().AtLeast("--max-new-tokens", r.GetValue(maxOpt), 1).AtLeast("--max-sentences", r.GetValue(limitOpt), 0).ThrowIfAny();
            string testFile = TestFile(r.GetValue(testOpt), r.GetValue(splitOpt), r.GetValue(corpusOpt), r.GetValue(modelOpt)!);
            var pairs = ParallelTsv.Read(testFile);
            if (pairs.Count == 0)
                throw new CliException(r.GetValue(splitOpt) == "unseen"
                    ? $"{testFile} is empty: build the corpus with held-out packages (`lightglm corpus build --holdout meld,geany-common,gnome-builder`, or a recipe's corpus.holdout_packages)."
                    : $"{testFile} has no pairs.");
            if (r.GetValue(limitOpt) is > 0 and var limit && pairs.Count > limit) pairs = pairs.Take(limit).ToList();
            var glossary = r.GetValue(glossOpt) is { } g ? Glossary.Load(g) : null;
            string modelDir = r.GetValue(modelOpt)!;
            var memory = memoryOpt.Load(r, modelDir);
            Console.Error.WriteLine($"eval: {pairs.Count} pairs from {testFile}");
            using var opened = TranslationModel.Open(modelDir);
            var (weights, tok) = (opened.Weights, opened.Tokenizer);
            var dirs = r.GetValue(dirOpt) == "both" ? Directions.Both : [Directions.Parse(r.GetValue(dirOpt)!)];
            // The same scoring as the recipe's eval stage (one path: ModelEvaluator).
            var translator = decode.Translator(r, weights, tok, memory: memory); // --batch 1 (the default): one at a time, per-sentence latency
            var progress = ProgressLine.ForStandardError(); // plain lines every few seconds when stderr is a log file
            var report = ModelEvaluator.Evaluate(weights, tok, modelDir, pairs, glossary, r.GetValue(maxOpt), progress.Report, directions: dirs,
                translator: translator, memory: memory?.Memory, fuzzyThreshold: memory?.FuzzyThreshold);
            progress.Finish();
            if (r.GetValue(jsonOpt)) Console.WriteLine(StageJson.ToJson(report).ToJsonString(StageJson.Options));
            else
            {
                foreach (var d in dirs)
                {
                    var x = report.In(d)!;
                    Console.WriteLine($"{d.Name()}: BLEU {x.Bleu:F2}  chrF2 {x.Chrf:F2}  chrF++ {x.Chrf2pp:F2}  TER {x.Ter:F2}  " +
                        $"term acc {(x.TermAccuracy is { } ta ? ta.ToString("P1") : "n/a")}  translation acc {x.TranslationAccuracy:P1} " +
                        $"(mean p {x.MeanTargetProbability:F3})  {x.Sentences} sentences{(x.MemoryHits is { } mh ? $" ({mh} from the memory{(x.FuzzyHits is { } fh ? $", {fh} with a fuzzy match" : "")})" : "")}  {(x.LatencyP50Ms is { } p50 ? $"latency p50 {p50:F1} ms p95 {x.LatencyP95Ms:F1} ms" : $"batch {x.Batch}")}  {x.ThroughputSentencesPerS:F2} sent/s");
                }
                Console.WriteLine($"weights {report.Weights} (projections + head {report.ProjectionBytes / 1e6:F2} MB)  beam {report.Beam}");
                Console.WriteLine($"params {report.Params}  checkpoint {report.CheckpointBytes} bytes  peak RSS {report.PeakRssMb?.ToString() ?? "n/a"} MB  {report.MsPerGeneratedToken} ms/token");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// --test FILE, or --split NAME of a corpus: --corpus DIR, else the corpus/ of the run directory holding the model
    /// (the nearest ancestor with one), else the default corpus. Exactly one of --test and --split.
    /// </summary>
    static string TestFile(string? test, string? split, string? corpus, string modelDir)
    {
        if ((test is null) == (split is null)) throw new CliException("give either --test FILE or --split test|dev|unseen (with --corpus DIR or a model inside a run directory).");
        if (test is not null) return test;
        string name = split + ".tsv";
        if (corpus is not null) return Exists(System.IO.Path.Combine(corpus, name));
        for (var d = new DirectoryInfo(System.IO.Path.GetFullPath(modelDir)); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "corpus", name))) return System.IO.Path.Combine(d.FullName, "corpus", name);
        return Exists(System.IO.Path.Combine(LightGlm.Text.Corpus.RepoPaths.DefaultCorpusDir, name));

        static string Exists(string f) => File.Exists(f) ? f
            : throw new CliException($"{f} not found: build the corpus (`lightglm corpus build{(f.EndsWith("unseen.tsv", StringComparison.Ordinal) ? " --holdout PKG[,PKG]" : "")}`) or pass --corpus DIR.");
    }
}
