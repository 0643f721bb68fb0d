// `lightglm experiment hybrid`: Figures 5-6, Tables 2-3 and the α/λ sweeps of the paper's §3.3 on our corpus, small.
using System.CommandLine;
using System.Globalization;
using LightGlm.Experiments;
using LightGlm.Experiments.Hybrid;
using LightGlm.Text.Corpus;
using LightGlm.Training.Hybrid;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentHybridCommand : ICliCommand
{
    public string[] Path => ["experiment", "hybrid"];

    public Command Build()
    {
        var d = new HybridExperimentOptions { CorpusDir = "" };
        var corpus = new Option<string?>("--corpus") { Description = "Corpus directory (train/dev/test.tsv, mono.*.txt); default $LIGHTGLM_CACHE/corpus." };
        var output = new Option<string>("--out") { Description = "Run directory (metrics.jsonl, hybrid.json, report.md/html, figures/).", DefaultValueFactory = _ => "runs/hybrid" };
        var trainPairs = new Option<int>("--train-pairs") { DefaultValueFactory = _ => d.TrainPairs };
        var devPairs = new Option<int>("--dev-pairs") { DefaultValueFactory = _ => d.DevPairs };
        var testPairs = new Option<int>("--test-pairs") { DefaultValueFactory = _ => d.TestPairs };
        var fraction = new Option<double>("--target-fraction") { Description = "|D_d| / |D_s|.", DefaultValueFactory = _ => d.TargetFraction };
        var alpha = new Option<double>("--alpha") { DefaultValueFactory = _ => d.Alpha };
        var weighting = new Option<string>("--weighting") { Description = "per_sample or loss_share (see docs/HYBRID.md).", DefaultValueFactory = _ => "per_sample" };
        var alphas = new Option<string>("--alpha-sweep") { Description = "Comma-separated α values.", DefaultValueFactory = _ => string.Join(',', d.AlphaSweep.Select(x => x.ToString(CultureInfo.InvariantCulture))) };
        var lambda = new Option<double>("--lambda") { DefaultValueFactory = _ => d.Lambda };
        var lambdaWeighs = new Option<string>("--lambda-weighs") { Description = "teacher (the paper's formula) or student (its text).", DefaultValueFactory = _ => "teacher" };
        var lambdas = new Option<string>("--lambda-sweep") { Description = "Comma-separated λ values.", DefaultValueFactory = _ => string.Join(',', d.LambdaSweep.Select(x => x.ToString(CultureInfo.InvariantCulture))) };
        var pretrain = new Option<int>("--pretrain-steps") { DefaultValueFactory = _ => d.PretrainSteps };
        var steps = new Option<int>("--steps") { Description = "Fine-tuning steps per variant.", DefaultValueFactory = _ => d.FineTuneSteps };
        var distill = new Option<int>("--distill-steps") { DefaultValueFactory = _ => d.DistillSteps };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => d.Hidden };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => d.Layers };
        var vocab = new Option<int>("--vocab") { DefaultValueFactory = _ => d.Vocab };
        var bleu = new Option<int>("--bleu-sentences") { DefaultValueFactory = _ => d.BleuSentences };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => d.Seed };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0 };
        var reportOnly = new Option<bool>("--report-only") { Description = "Rebuild report.md/html and figures from --out's hybrid.json, without training." };
        var cmd = new Command("hybrid", "Figure 5 (source-only vs target-only vs hybrid), Figure 6 (high/low-resource vs hybrid, α sweep), Tables 2-3 and the λ sweep, on the corpus at a small size.")
        { corpus, output, trainPairs, devPairs, testPairs, fraction, alpha, weighting, alphas, lambda, lambdaWeighs, lambdas, pretrain, steps, distill, hidden, layers, vocab, bleu, seed, threads, reportOnly };
        cmd.SetAction(r =>
        {
            ModelThreads.Apply(r.GetValue(threads));
            if (r.GetValue(reportOnly))
            {
                string json = System.IO.Path.Combine(r.GetValue(output)!, "hybrid.json");
                if (!File.Exists(json)) throw new CliException($"{json} not found: run the experiment first");
                var saved = LightGlm.Model.Checkpoints.JsonFile.Read(json) as System.Text.Json.Nodes.JsonObject
                            ?? throw new CliException($"{json}: not a JSON object");
                HybridExperiment.BuildReport(saved).Save(r.GetValue(output)!);
                Console.WriteLine($"wrote {System.IO.Path.Combine(r.GetValue(output)!, "report.md")}");
                return 0;
            }
            HybridExperimentOptions o;
            try
            {
                int h = r.GetValue(hidden);
                if (h < 32 || h % 32 != 0) throw new ArgumentException($"--hidden must be a multiple of 32 (4 heads of a rotary-friendly size), got {h}");
                o = d with
                {
                    CorpusDir = r.GetValue(corpus) ?? System.IO.Path.Combine(RepoPaths.CacheDir, "corpus"),
                    TrainPairs = r.GetValue(trainPairs), DevPairs = r.GetValue(devPairs), TestPairs = r.GetValue(testPairs),
                    TargetFraction = r.GetValue(fraction), Alpha = r.GetValue(alpha), Weighting = HybridMix.ParseWeighting(r.GetValue(weighting)!),
                    AlphaSweep = Doubles(r.GetValue(alphas)!, "--alpha-sweep"), Lambda = r.GetValue(lambda),
                    LambdaWeighsStudent = Compression.Distillation.DistillationWeights.LambdaWeighsStudent(r.GetValue(lambdaWeighs)!),
                    LambdaSweep = Doubles(r.GetValue(lambdas)!, "--lambda-sweep"), PretrainSteps = r.GetValue(pretrain), FineTuneSteps = r.GetValue(steps),
                    DistillSteps = r.GetValue(distill), Hidden = h, Ffn = h * 8 / 3 / 8 * 8, Layers = r.GetValue(layers), Vocab = r.GetValue(vocab),
                    BleuSentences = r.GetValue(bleu), Seed = r.GetValue(seed),
                };
                if (o.Alpha is < 0 or > 1 || o.AlphaSweep.Any(a => a is < 0 or > 1)) throw new ArgumentException("α values must be in [0, 1]");
                if (o.Lambda is < 0 or > 1 || o.LambdaSweep.Any(a => a is < 0 or > 1)) throw new ArgumentException("λ values must be in [0, 1]");
                if (o.FineTuneSteps <= 0 || o.DistillSteps <= 0) throw new ArgumentException("--steps and --distill-steps must be positive");
            }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            var run = new RunDirectory(r.GetValue(output)!);
            run.WriteMachineInfo();
            var res = HybridExperiment.Run(o, run, Console.WriteLine);
            Console.WriteLine($"done in {(double)res["seconds"]!:F0} s: {run.PathOf("report.md")}, report.html, hybrid.json, metrics.jsonl, figures/");
            return 0;
        });
        return cmd;
    }

    static double[] Doubles(string s, string what)
    {
        try { return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray(); }
        catch (FormatException) { throw new ArgumentException($"{what} '{s}': expected comma-separated numbers like 0.5,0.65,0.8"); }
    }
}
