// `lightglm experiment hybrid [RECIPE]`: Figures 5-6, Tables 2-3 and downstream distillation (Eq. 13) through the recipe's own
// stages (one code path with `lightglm run`): every stage up to the report, with hybrid.compare on.
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentHybridCommand : ICliCommand
{
    public string[] Path => ["experiment", "hybrid"];

    public Command Build()
    {
        var recipe = new Argument<string>("recipe")
        {
            Description = $"A preset ({string.Join(", ", Recipe.PresetNames)}) or a recipe file whose hybrid experiment runs through the recipe's stages.",
            DefaultValueFactory = _ => "quick",
        };
        var output = new Option<string>("--out") { Description = "Run directory (metrics.jsonl, report.md/html/json, figures/, the models).", DefaultValueFactory = _ => "runs/hybrid" };
        var fromRun = RecipeExperiment.FromRunOption();
        var set = RecipeCli.SetOption();
        var reportOnly = new Option<bool>("--report-only") { Description = "Rebuild report.md/html and figures from --out's finished stages, without training." };
        // Shorthands for recipe settings (the settings stay the one source of options).
        Option<T> O<T>(string name, string setting, List<RecipeExperiment.Shorthand> into)
        {
            var o = new Option<T>(name) { Description = $"= --set {setting}=VALUE." };
            into.Add(new(o, setting));
            return o;
        }
        var shorthands = new List<RecipeExperiment.Shorthand>();
        Option[] mapped =
        [
            O<int>("--train-pairs", "corpus.max_train_pairs", shorthands), O<int>("--dev-pairs", "corpus.max_eval_pairs", shorthands),
            O<int>("--test-pairs", "eval.max_sentences", shorthands),
            O<double>("--target-fraction", "hybrid.target_fraction", shorthands), O<double>("--alpha", "hybrid.alpha", shorthands),
            O<string>("--weighting", "hybrid.weighting", shorthands), O<double>("--lambda", "downstream.lambda", shorthands),
            O<string>("--lambda-weighs", "downstream.lambda_weighs", shorthands), O<int>("--pretrain-steps", "teacher.pretrain_steps", shorthands),
            O<int>("--steps", "hybrid.steps", shorthands), O<int>("--distill-steps", "compression.distill_steps", shorthands),
            O<int>("--hidden", "teacher.hidden_size", shorthands), O<int>("--layers", "teacher.num_hidden_layers", shorthands),
            O<int>("--vocab", "tokenizer.vocab_size", shorthands), O<int>("--bleu-sentences", "eval.max_sentences", shorthands),
            O<int>("--seed", "seed", shorthands), O<int>("--threads", "threads", shorthands),
        ];
        // The standalone experiment these belonged to is gone: its numbers were a second Figure 5-6.
        var gone = new (Option Option, string Instead)[]
        {
            (new Option<string?>("--corpus"), "the recipe's corpus stage makes the corpus (corpus.*); reuse a finished run's with --from-run DIR"),
            (new Option<string?>("--alpha-sweep"), "run the experiment once per α (--alpha A, --out DIR-A --from-run DIR: the teacher is shared)"),
            (new Option<string?>("--lambda-sweep"), "run the experiment once per λ (--lambda L, --out DIR-L --from-run DIR: the teachers are shared)"),
        };
        foreach (var (o, _) in gone) { o.Hidden = true; o.Description = "No longer taken."; }
        var cmd = new Command("hybrid", "Figure 5 (source-only vs target-only vs hybrid fine-tuning), Figure 6 (high- vs low-resource vs hybrid), Tables 2-3 and " +
                                        "downstream distillation (Eq. 13), through the recipe's stages with hybrid.compare = true.")
        { recipe, output, fromRun, set, reportOnly };
        foreach (var o in mapped) cmd.Add(o);
        foreach (var (o, _) in gone) cmd.Add(o);
        cmd.SetAction(r =>
        {
            foreach (var (o, instead) in gone)
                if (r.GetResult(o) is { Implicit: false })
                    throw new CliException($"{o.Name} belonged to the standalone hybrid experiment, which is gone (the recipe's stages make Figures 5-6): {instead}");
            string name = r.GetValue(recipe)!, outDir = r.GetValue(output)!;
            if (r.GetValue(reportOnly))
            {
                var done = new LightGlm.Experiments.RunDirectory(outDir);
                if (done.Recipe() is not { } recorded) throw new CliException($"{outDir}: not a run directory (no config.json): run the experiment first");
                ReportStage.Build(done, recorded.Name).Save(done.Root);
                Console.WriteLine($"wrote {done.PathOf("report.md")}");
                return 0;
            }
            var sets = RecipeExperiment.Sets(r, set, shorthands);
            var rec = RecipeCli.Load(name, sets);
            if (!rec.Settings.Hybrid.Enabled) throw new CliException("hybrid.enabled is false in this recipe: nothing to fine-tune");
            if (!rec.Settings.Hybrid.Compare) rec = rec.With("hybrid.compare", "true");
            int rc = RecipeExperiment.Run("hybrid", name, rec, sets, outDir, r.GetValue(fromRun), out var run);
            if (rc != 0) return rc;
            if (run.Result<HybridResult>() is { Figure5: { } f5 } hybrid)
                Console.WriteLine($"target-direction dev loss ({hybrid.TargetDirection}): " +
                                  string.Join(", ", f5.Select(kv => $"{kv.Key} {kv.Value.TargetDevLoss:F4}")));
            if (run.Result<EvalResult>()?.Models is { } models)
            {
                Console.WriteLine($"{"model",-24} {"params",11} {"acc en→zh",9} {"acc zh→en",9} {"BLEU en→zh",10} {"zh→en",7}");
                foreach (var (model, m) in models)
                    Console.WriteLine($"{model,-24} {(double)m.Params,11:N0} {m.EnZh?.TranslationAccuracy,9:F3} {m.ZhEn?.TranslationAccuracy,9:F3} " +
                                      $"{m.EnZh?.Bleu,10:F2} {m.ZhEn?.Bleu,7:F2}");
            }
            RecipeExperiment.PrintReport(run);
            return 0;
        });
        return cmd;
    }
}
