// `lightglm experiment compression [RECIPE]`: Tables 2-4 and Figure 4 through the recipe's own stages (one code path with
// `lightglm run`): every stage up to the report, with several compression levels, then Table 4 and Figure 4's ends.
using System.CommandLine;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Stages;

namespace LightGlm.Cli.Commands;

public sealed class ExperimentCompressionCommand : ICliCommand
{
    public string[] Path => ["experiment", "compression"];

    public Command Build()
    {
        var recipe = new Argument<string>("recipe")
        {
            Description = $"A preset ({string.Join(", ", Recipe.PresetNames)}) or a recipe file whose compression experiment runs on translation " +
                          "(Tables 2-4 with BLEU, Figure 4, several compression levels) through the recipe's stages.",
            DefaultValueFactory = _ => "quick",
        };
        var output = new Option<string>("--out") { Description = "Run directory.", DefaultValueFactory = _ => "runs/compression" };
        var fromRun = RecipeExperiment.FromRunOption();
        var set = RecipeCli.SetOption();
        // Shorthands for recipe settings (the settings stay the one source of options).
        var steps = new Option<int>("--steps") { Description = "Distillation steps per student, the same for every method (= --set compression.distill_steps=N)." };
        var teacherSteps = new Option<int>("--teacher-steps") { Description = "= --set teacher.train_steps=N." };
        var hidden = new Option<int>("--hidden") { Description = "The teacher's hidden size (= --set teacher.hidden_size=N)." };
        var layers = new Option<int>("--layers") { Description = "The teacher's blocks (= --set teacher.num_hidden_layers=N)." };
        var shorthands = new RecipeExperiment.Shorthand[]
        {
            new(steps, "compression.distill_steps"), new(teacherSteps, "teacher.train_steps"),
            new(hidden, "teacher.hidden_size"), new(layers, "teacher.num_hidden_layers"),
        };
        // The standalone byte-level experiment these belonged to is gone: its numbers were a second Figure 4.
        var teacher = new Option<string?>("--teacher") { Description = "No longer taken: the recipe's stages make the teacher; reuse a finished run's with --from-run DIR.", Hidden = true };
        var data = new Option<string?>("--data") { Description = "No longer taken: the recipe's corpus stage makes the data (corpus.*).", Hidden = true };
        var cmd = new Command("compression", "Figure 4 (validation loss, mixed compression vs random pruning) and Tables 2-4 (students and baselines: size, BLEU, latency) " +
                                             "through the recipe's stages, with compression.levels = [0.5, 0.35] unless the recipe sets levels.")
        { recipe, output, fromRun, set, steps, teacherSteps, hidden, layers, teacher, data };
        cmd.SetAction(r =>
        {
            if (r.GetValue(teacher) is not null || r.GetValue(data) is not null)
                throw new CliException("--teacher and --data belonged to the standalone byte-level experiment, which is gone: the recipe's stages make the teacher " +
                                       "and the data (reuse a finished run's with --from-run DIR; e.g. lightglm experiment compression quick --from-run runs/quickstart)");
            string name = r.GetValue(recipe)!, outDir = r.GetValue(output)!;
            var sets = RecipeExperiment.Sets(r, set, shorthands);
            var rec = RecipeCli.Load(name, sets);
            if (!rec.Settings.Compression.Enabled) throw new CliException("compression.enabled is false in this recipe: nothing to compress");
            if (rec.Settings.Compression.Levels.Length == 0) rec = rec.With("compression.levels", "[0.5,0.35]");
            int rc = RecipeExperiment.Run("compression", name, rec, sets, outDir, r.GetValue(fromRun), out var run);
            if (rc != 0) return rc;
            if (run.Result<EvalResult>()?.Models is { } models)
            {
                double teacherBleu = (models.GetValueOrDefault("teacher-hybrid") ?? models.GetValueOrDefault("teacher"))?.MeanBleu ?? double.NaN;
                Console.WriteLine($"{"model",-24} {"params",11} {"MB",7} {"BLEU en→zh",11} {"zh→en",7} {"% teacher",9} {"CPU ms/tok",10}");
                foreach (var (model, m) in models)
                    Console.WriteLine($"{model,-24} {(double)m.Params,11:N0} {m.WeightBytes / 1e6,7:F2} {m.EnZh?.Bleu,11:F2} " +
                                      $"{m.ZhEn?.Bleu,7:F2} {100 * m.MeanBleu / teacherBleu,9:F1} {m.DecodeCpuMsPerToken,10:F3}");
            }
            if (run.Result<CompressionResult>()?.Curves is { } curves)
                Console.WriteLine("dev loss (first → last step): " + string.Join(", ", curves.Select(kv => $"{kv.Key} {kv.Value[0][1]:F3} → {kv.Value[^1][1]:F3}")));
            RecipeExperiment.PrintReport(run);
            return 0;
        });
        return cmd;
    }
}
