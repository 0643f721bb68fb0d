// `experiment ablation`: Table 5 — the recipe eight times with parallel training, mixed compression and hybrid
// fine-tuning switched on and off. Rows share every stage whose settings are the same (corpus, tokenizer, the teacher of
// the rows with the same parallel setting, …), so the work is two teachers, two hybrid fine-tunings and two students.
using LightGlm.Experiments.Recipes;
using LightGlm.Experiments.Reporting;
using LightGlm.Experiments.Stages;
using LightGlm.IO;
using LightGlm.Charts;

namespace LightGlm.Experiments;

public static class Ablation
{
    /// <summary>The row's recipe: the three switches, and the extras of a full run (comparisons, baselines) off.</summary>
    public static Recipe RowRecipe(Recipe recipe, bool parallel, bool compression, bool hybrid) => recipe
        .With("teacher.pipeline", parallel ? "true" : "false")
        .With("hybrid.enabled", hybrid ? "true" : "false").With("hybrid.compare", "false")
        .With("compression.enabled", compression ? "true" : "false").With("compression.baselines", "[]")
        .With("compression.random_baseline", "false").With("compression.no_target_table", "false");

    /// <summary>Runs the rows (resumable: each row is a run directory under <paramref name="root"/>) and writes the report.</summary>
    public static AblationTable Run(Recipe recipe, string root, RecipeRunner runner, Func<IRecipeStage, IStageProgress> progressFor,
        Action<string> log, CancellationToken cancel, IReadOnlyList<RunDirectory>? donors = null)
    {
        // Every row's settings are checked before the first row runs.
        foreach (var (_, par, comp, hyb) in AblationTable.Combinations) _ = RowRecipe(recipe, par, comp, hyb).Settings;
        var runs = new List<(string, bool, bool, bool, RunDirectory)>();
        var shared = new List<RunDirectory>(donors ?? []);
        foreach (var (name, par, comp, hyb) in AblationTable.Combinations)
        {
            var dir = new RunDirectory(Path.Combine(root, Slug(name)));
            log($"ablation row '{name}' → {dir.Root}");
            runner.Run(RowRecipe(recipe, par, comp, hyb), dir, progressFor, cancel, until: "eval", donors: shared);
            shared.Add(dir);
            runs.Add((name, par, comp, hyb, dir));
        }
        var table = AblationTable.FromRuns(runs);
        Write(table, root, recipe);
        return table;
    }

    static void Write(AblationTable table, string root, Recipe recipe)
    {
        var report = new Report("Ablation (Table 5)");
        report.Numbers["table5"] = table.ToJson();
        var s = report.Section("Ablation (Table 5)");
        s.Text(table.Note);
        s.Table(table.ToReportTable());
        s.Figure(new ReportFigure("table5.svg", "Table 5: accuracy and training time per configuration",
            Chart.Bars("Table 5: accuracy (%) and training time (min)", "value", ["accuracy (%)", "training minutes"],
                table.Rows.Select((r, i) => new BarGroup($"{i + 1}", [100 * r.Accuracy, r.TrainSeconds / 60])).ToArray())));
        s.Text("Bars are numbered as the table's rows. " + PaperNumbers.Table5Text);
        string cfg = Path.Combine(root, "recipe.json");
        recipe.Save(cfg);
        s.Command($"./lightglm experiment ablation {cfg} --run-dir {Path.GetFullPath(root)}");
        report.Save(root);
        AtomicFile.WriteAllText(Path.Combine(root, "ablation.json"), StageJson.ToJson(table.ToFile()).ToJsonString(StageJson.Options));
    }

    static string Slug(string name) => new string(name.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) ? ch : '-').ToArray()).Trim('-').Replace("--", "-").Replace("--", "-");
}
