// `lightglm experiment compression`: Figure 4 and Table 4 on our data (JSON + CSV + SVG/PNG into --out).
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Text.Tokenizers;
using LightGlm.Experiments;
using LightGlm.Experiments.Stages;
using LightGlm.Model;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentCompressionCommand : ICliCommand
{
    public string[] Path => ["experiment", "compression"];

    public Command Build()
    {
        var teacher = new Option<string?>("--teacher") { Description = "A trained teacher directory; default: train a byte-level GLM teacher here first." };
        var data = new Option<string?>("--data") { Description = "Text (one sequence per line, UTF-8 bytes) or .jsonl ids; default: /usr/share/common-licenses/GPL-3." };
        var output = new Option<string>("--out") { Description = "Output directory.", DefaultValueFactory = _ => "runs/compression" };
        var teacherSteps = new Option<int>("--teacher-steps") { DefaultValueFactory = _ => 300 };
        var steps = new Option<int>("--steps") { Description = "Distillation steps per student (the same for every method).", DefaultValueFactory = _ => 150 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the built-in teacher.", DefaultValueFactory = _ => 256 };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 4 };
        var recipe = new Argument<string?>("recipe")
        {
            Description = "A preset or recipe file: run its compression experiment on translation (Tables 2-4 with BLEU, Figure 4, several " +
                          "compression levels) through the recipe's stages. Without it: the standalone next-token experiment on --data.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var fromRun = new Option<string?>("--from-run") { Description = "With a recipe: a finished run whose stages (corpus, tokenizer, teachers, …) are taken wherever their settings agree." };
        var set = RecipeCli.SetOption();
        var cmd = new Command("compression", "Figure 4 (validation loss, mixed compression vs random pruning and layer baselines) and Table 4 (size, memory, latency, quality).")
        { recipe, teacher, data, output, teacherSteps, steps, hidden, layers, fromRun, set };
        cmd.SetAction(r =>
        {
            if (r.GetValue(recipe) is { } recipeName)
            {
                foreach (var standalone in new Option[] { teacherSteps, steps, hidden, layers })
                    if (r.GetResult(standalone) is { Implicit: false })
                        throw new CliException($"{standalone.Name} belongs to the standalone experiment; with a recipe set its fields instead, e.g. --set compression.distill_steps=600");
                if (r.GetValue(teacher) is not null || r.GetValue(data) is not null)
                    throw new CliException("--teacher and --data belong to the standalone experiment; with a recipe its stages make the teacher and the data (reuse a finished run's with --from-run DIR)");
                return FromRecipe(recipeName, r.GetValue(set), r.GetValue(output)!, r.GetValue(fromRun));
            }
            if (r.GetValue(fromRun) is not null || r.GetValue(set) is { Length: > 0 })
                throw new CliException("--from-run and --set need a recipe: lightglm experiment compression quick --from-run runs/quickstart");
            string dataPath = r.GetValue(data) ?? "/usr/share/common-licenses/GPL-3";
            ModelFiles t;
            int trainTeacher = r.GetValue(teacherSteps);
            if (r.GetValue(teacher) is { } dir) { t = ModelFiles.Load(dir); trainTeacher = 0; }
            else
            {
                int C = r.GetValue(hidden);
                var cfg = new ModelConfig
                {
                    ModelType = "chatglm", VocabSize = 256, HiddenSize = C, NumHiddenLayers = r.GetValue(layers),
                    NumAttentionHeads = C / 64, NumKeyValueHeads = Math.Max(1, C / 128), HeadDim = 64, IntermediateSize = C * 8 / 3 / 8 * 8,
                    PartialRotaryFactor = 0.5, RopeInterleaved = true, AttentionBias = true, MaxPositionEmbeddings = 256,
                };
                t = ModelBridge.FromModel(GlmModel.Create(cfg, seed: 1));
            }
            var tok = r.GetValue(teacher) is { } teacherDir ? ModelTokenizer.Open(teacherDir, t.Config.V) : ByteTokenizer.Instance; // the synthetic teacher reads bytes
            var all = CalibrationData.Read(dataPath, tok, t.Config.V, 64, 4000);
            var valid = all.Where((_, i) => i % 10 == 0).ToList();
            var train = all.Where((_, i) => i % 10 != 0).ToList();
            Console.WriteLine($"data: {train.Count} train / {valid.Count} valid sequences from {dataPath}");
            var res = CompressionExperiment.Run(t, train, valid, new CompressionExperimentOptions { TeacherSteps = trainTeacher, DistillSteps = r.GetValue(steps) },
                r.GetValue(output)!, Console.WriteLine);
            Console.WriteLine($"{"method",-48} {"params",12} {"MB",8} {"tok/s",8} {"x",6} {"prefill ms",10} {"loss",7} {"acc",6} {"acc/T",6}");
            foreach (var row in res["table4"]!.AsArray())
                Console.WriteLine($"{row!["method"]!.GetValue<string>(),-48} {row["params"]!.GetValue<double>(),12:N0} {row["weight_bytes"]!.GetValue<double>() / 1e6,8:F2} {row["decode_tok_s"]!.GetValue<double>(),8:F1} {row["decode_speedup"]!.GetValue<double>(),6:F2} {row["prefill_ms"]!.GetValue<double>(),10:F1} {row["valid_loss"]!.GetValue<double>(),7:F3} {row["next_token_accuracy"]!.GetValue<double>(),6:F3} {row["accuracy_vs_teacher"]!.GetValue<double>(),6:F3}");
            Console.WriteLine($"wrote {System.IO.Path.Combine(r.GetValue(output)!, "compression.json")}, table4.csv, figure4.svg, figure4.png");
            return 0;
        });
        return cmd;
    }

    /// <summary>The recipe's compression experiment: every stage up to the report, with compression.levels = [0.5, 0.35] unless the
    /// recipe sets levels, stages taken from <paramref name="fromRun"/> where their settings agree; then Table 4 and Figure 4's ends.</summary>
    static int FromRecipe(string name, string[]? sets, string outDir, string? fromRun)
    {
        var r = RecipeCli.Load(name, sets);
        if (!r.Settings.Compression.Enabled) throw new CliException("compression.enabled is false in this recipe: nothing to compress");
        if (r.Settings.Compression.Levels.Length == 0) r = r.With("compression.levels", "[0.5,0.35]");
        RunDirectory[]? donors = fromRun is null ? null : [RecipeCli.DonorRun(fromRun, "--from-run")];
        var run = new RunDirectory(outDir);
        string again = $"./lightglm experiment compression {name} --out {outDir}" + (fromRun is null ? "" : $" --from-run {fromRun}") +
                       string.Concat((sets ?? []).Select(x => $" --set {x}"));
        int rc = RecipeCli.WithRunner(again, (runner, progressFor, cancel) => runner.Run(r, run, progressFor, cancel, donors: donors));
        if (rc != 0) return rc;
        if (run.StageResult("eval")?["models"] is JsonObject models)
        {
            double teacherBleu = models["teacher-hybrid"] is JsonObject th ? ReportStage.AvgBleu(th) : models["teacher"] is JsonObject t0 ? ReportStage.AvgBleu(t0) : double.NaN;
            Console.WriteLine($"{"model",-24} {"params",11} {"MB",7} {"BLEU en→zh",11} {"zh→en",7} {"% teacher",9} {"CPU ms/tok",10}");
            foreach (var (model, node) in models)
            {
                var m = (JsonObject)node!;
                Console.WriteLine($"{model,-24} {(double)m["params"]!,11:N0} {(double)m["weight_bytes"]! / 1e6,7:F2} {(double?)m["en-zh"]?["bleu"],11:F2} " +
                                  $"{(double?)m["zh-en"]?["bleu"],7:F2} {100 * ReportStage.AvgBleu(m) / teacherBleu,9:F1} {(double?)m["decode_cpu_ms_per_token"],10:F3}");
            }
        }
        if (run.StageResult("compression")?["curves"] is JsonObject curves)
            Console.WriteLine("dev loss (first → last step): " + string.Join(", ", curves.Select(kv =>
                $"{kv.Key} {(double)kv.Value!.AsArray()[0]![1]!:F3} → {(double)kv.Value!.AsArray()[^1]![1]!:F3}")));
        if (run.StageResult("report") is { } rep) Console.WriteLine($"report: {rep["html"]} (also report.md, report.json, figures/)");
        return 0;
    }
}
