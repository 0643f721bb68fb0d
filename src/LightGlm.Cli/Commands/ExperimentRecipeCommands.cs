// `lightglm experiment ablation` (Table 5), `lightglm sweep` (hyperparameter search over recipe fields) and
// `lightglm experiment all` (the recipe with every table and figure, plus the ablation, into one report).
using System.CommandLine;
using LightGlm.Experiments;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentAblationCommand : ICliCommand
{
    public string[] Path => ["experiment", "ablation"];

    public Command Build()
    {
        var recipe = new Argument<string>("recipe") { Description = "A preset or recipe file (default quick).", DefaultValueFactory = _ => "quick" };
        var runDir = new Option<string>("--run-dir") { Description = "Where the rows' run directories and the report go.", DefaultValueFactory = _ => "runs/ablation" };
        var set = RecipeCli.SetOption();
        var cmd = new Command("ablation", "Table 5: the recipe with parallel training, mixed compression and hybrid fine-tuning switched on and off (eight rows).") { recipe, runDir, set };
        cmd.SetAction(p =>
        {
            var r = RecipeCli.Load(p.GetValue(recipe)!, p.GetValue(set));
            string root = p.GetValue(runDir)!;
            AblationTable? table = null;
            int rc = RecipeCli.WithRunner($"./lightglm experiment ablation {p.GetValue(recipe)} --run-dir {root}",
                (runner, progressFor, cancel) => table = Ablation.Run(r, root, runner, progressFor, Console.WriteLine, cancel));
            if (rc != 0 || table is null) return rc;
            Console.WriteLine($"\n{"configuration",-28} {"model",-16} {"acc %",6} {"params",10} {"MB",7} {"ms/tok",7} {"train s",8}");
            foreach (var row in table.Rows)
                Console.WriteLine($"{row.Name,-28} {row.Model,-16} {100 * row.Accuracy,6:F1} {row.Params,10:N0} {row.Megabytes,7:F2} {row.MsPerToken,7:F2} {row.TrainSeconds,8:F0}");
            Console.WriteLine($"report: {System.IO.Path.GetFullPath(System.IO.Path.Combine(root, "report.html"))} (also ablation.json)");
            return 0;
        });
        return cmd;
    }
}

public sealed class SweepCommand : ICliCommand
{
    public string[] Path => ["sweep"];

    public Command Build()
    {
        var recipe = new Argument<string>("recipe") { Description = "A preset or recipe file the trials start from." };
        var grid = new Option<string[]>("--grid") { Description = "A searched field: field=v1,v2,… (values) or field=lo:hi / field=log:lo:hi (a range, with --random). Repeatable." };
        var random = new Option<int?>("--random") { Description = "Draw N trials at random from the fields' values or ranges instead of the full grid." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random draws.", DefaultValueFactory = _ => 1 };
        var runDir = new Option<string?>("--run-dir") { Description = "Sweep directory (default runs/sweep-<recipe name>). Running again continues it." };
        var set = RecipeCli.SetOption();
        var cmd = new Command("sweep", "Hyperparameter search over any recipe fields; each trial scored on the dev split, the best reported with a table and a chart.")
        { recipe, grid, random, seed, runDir, set };
        cmd.SetAction(p =>
        {
            var r = RecipeCli.Load(p.GetValue(recipe)!, p.GetValue(set));
            List<Dictionary<string, string>> trials;
            try { trials = Sweep.Trials((p.GetValue(grid) ?? []).Select(SweepAxis.Parse).ToList(), p.GetValue(random), p.GetValue(seed)); }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            string root = p.GetValue(runDir) ?? System.IO.Path.Combine("runs", "sweep-" + r.Name);
            string again = "./lightglm sweep " + string.Join(" ", p.Tokens.Select(t => t.Value.Contains(' ') ? $"\"{t.Value}\"" : t.Value));
            Console.WriteLine($"sweep: {trials.Count} trials into {System.IO.Path.GetFullPath(root)}");
            List<SweepTrial>? done = null;
            int rc = RecipeCli.WithRunner(again, (runner, progressFor, cancel) => done = Sweep.Run(r, trials, root, runner, progressFor, Console.WriteLine, cancel, again));
            if (rc != 0 || done is null) return rc;
            var best = done.MaxBy(t => t.Score)!;
            Console.WriteLine($"best: trial {best.Index} ({string.Join(", ", best.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}) dev accuracy {100 * best.Score:F2}% — {best.RunDir}");
            Console.WriteLine($"report: {System.IO.Path.GetFullPath(System.IO.Path.Combine(root, "report.html"))} (trials in metrics.jsonl and report.json)");
            return 0;
        });
        return cmd;
    }
}

public sealed class ExperimentAllCommand : ICliCommand
{
    public string[] Path => ["experiment", "all"];

    public Command Build()
    {
        var recipe = new Argument<string>("recipe") { Description = "A preset or recipe file (default quick).", DefaultValueFactory = _ => "quick" };
        var runDir = new Option<string>("--run-dir") { Description = "Run directory of the whole experiment.", DefaultValueFactory = _ => "runs/all" };
        var set = RecipeCli.SetOption();
        var cmd = new Command("all", "Every experiment into one report: the recipe (Tables 1-4, Figures 3-6) and the ablation (Table 5, eight real rows).") { recipe, runDir, set };
        cmd.SetAction(p =>
        {
            var r = RecipeCli.Load(p.GetValue(recipe)!, p.GetValue(set));
            string root = p.GetValue(runDir)!;
            var run = new RunDirectory(root);
            int rc = RecipeCli.WithRunner($"./lightglm experiment all {p.GetValue(recipe)} --run-dir {root}", (runner, progressFor, cancel) =>
            {
                runner.Run(r, run, progressFor, cancel);
                // The ablation's rows take every stage they share with the full run from it.
                Ablation.Run(r, run.PathOf("ablation"), runner, progressFor, Console.WriteLine, cancel, donors: [run]);
                run.ForgetStage("report");
                runner.Run(r, run, progressFor, cancel); // the report again, now with the measured Table 5
            });
            if (rc != 0) return rc;
            Console.WriteLine($"report: {run.PathOf("report.html")} (also report.md, report.json; the ablation's own report in {run.PathOf("ablation")})");
            return 0;
        });
        return cmd;
    }
}
