// Last stage: the run's report — Markdown, self-contained HTML and report.json — built only from what
// the earlier stages measured and recorded, with the paper's numbers beside ours where they compare.
using System.Globalization;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Reporting;

namespace LightGlm.Experiments.Stages;

public sealed class ReportStage : IRecipeStage
{
    public string Name => "report";
    public string Description => "write the report (Markdown, HTML, JSON, SVG figures)";

    static string N(JsonNode? n, string fmt = "0.##") => n is null ? "–" : ((double)n).ToString(fmt, CultureInfo.InvariantCulture);

    public JsonObject Run(StageContext c)
    {
        var report = Build(c.Run, c.Recipe.Name);
        report.Save(c.Run.Root);
        c.Progress.Report(1, "written");
        return new JsonObject { ["html"] = c.Run.PathOf("report.html"), ["markdown"] = c.Run.PathOf("report.md"), ["json"] = c.Run.PathOf("report.json") };
    }

    public static Report Build(RunDirectory run, string recipeName)
    {
        var report = new Report($"LightGlm run '{recipeName}'");
        var numbers = report.Numbers;
        numbers["recipe"] = recipeName;
        var overview = report.Section("How this run was made");
        overview.Text("Every number below was measured in this run on this machine (machine.json); the recipe is config.json. " +
                      "Re-run everything, or continue an interrupted run, with the command below.");
        overview.Command($"./lightglm run {recipeName} --run-dir {run.Root}");

        if (run.StageResult("corpus") is { } corpus)
        {
            numbers["corpus"] = new JsonObject { ["train_pairs"] = corpus["train_pairs"]?.DeepClone(), ["dev_pairs"] = corpus["dev_pairs"]?.DeepClone(), ["test_pairs"] = corpus["test_pairs"]?.DeepClone() };
            report.Section("Data (Table 1)")
                .Text("English↔Chinese pairs from the zh_CN message catalogs of the pinned Debian packages, cleaned and split by a hash of the English (no English string in two splits).")
                .Table(new ReportTable("Corpus splits", ["split", "pairs"],
                    [["train", N(corpus["train_pairs"], "0")], ["dev", N(corpus["dev_pairs"], "0")], ["test", N(corpus["test_pairs"], "0")]]));
        }
        if (run.StageResult("teacher") is { } teacher)
        {
            numbers["teacher"] = teacher.DeepClone();
            var s = report.Section("Teacher training");
            s.Table(new ReportTable("Teacher", ["parameters", "tokens/s", "train seconds", "final train loss", "dev loss"],
                [[N(teacher["params"], "N0"), N(teacher["tokens_per_s"], "N0"), N(teacher["train_seconds"], "0.0"), N(teacher["final_loss"], "0.000"), N(teacher["valid_loss"], "0.000")]]));
            var series = new List<ChartSeries> { Curve("train", teacher["curve"]) };
            if (teacher["valid_curve"] is JsonArray { Count: > 0 }) series.Add(Curve("dev", teacher["valid_curve"]));
            s.Figure(new ReportFigure("teacher-loss.svg", "Teacher loss over steps", SvgChart.Line("Teacher loss", "step", "loss", series)));
        }
        if (run.StageResult("hybrid") is { } hybrid && hybrid["figure5"] is JsonObject f5)
        {
            numbers["hybrid"] = hybrid.DeepClone();
            var names = f5.Select(kv => kv.Key).ToArray();
            var s = report.Section("Hybrid-data fine-tuning (Figure 5)");
            s.Text($"D_s = {hybrid["source_direction"]} ({N(hybrid["n_s"], "0")} examples), D_d = {hybrid["target_direction"]} ({N(hybrid["n_d"], "0")} examples), α = {N(hybrid["alpha"], "0.###")}. " +
                   "Loss on the target direction of the dev split after the same number of steps (lower is better).");
            s.Table(new ReportTable("Target-direction dev loss", ["fine-tuning", "dev loss"], names.Select(n => (IReadOnlyList<string>)[n, N(f5[n]!["target_dev_loss"], "0.000")]).ToArray()));
            s.Figure(new ReportFigure("figure5.svg", "Figure 5: source-only vs target-only vs hybrid fine-tuning",
                SvgChart.Bars("Figure 5: target-direction dev loss", "dev loss", ["dev loss"],
                    names.Select(n => new BarGroup(n, [(double)f5[n]!["target_dev_loss"]!])).ToArray())));
        }
        if (run.StageResult("compression") is { } comp && comp["figure4"] is JsonObject f4)
        {
            numbers["compression"] = comp.DeepClone();
            var s = report.Section("Mixed compression vs random pruning (Figure 4)");
            s.Text($"Teacher {N(comp["teacher_params"], "N0")} parameters; importance '{comp["importance"]}'. Both students have the same shape and get the same distillation steps.");
            s.Figure(new ReportFigure("figure4.svg", "Figure 4: validation loss over distillation steps",
                SvgChart.Line("Figure 4: validation loss while distilling", "step", "validation loss", f4.Select(kv => Curve(kv.Key, kv.Value)).ToArray())));
        }
        if (run.StageResult("eval") is { } eval && eval["models"] is JsonObject models)
        {
            numbers["eval"] = eval.DeepClone();
            var rows = new List<IReadOnlyList<string>>();
            foreach (var (name, m) in models)
                rows.Add([name, N(m!["params"], "N0"), N((double?)m["checkpoint_bytes"] / 1e6, "0.0"),
                    N(m["en-zh"]?["bleu"]), N(m["zh-en"]?["bleu"]), N(m["en-zh"]?["chrf"]), N(m["zh-en"]?["chrf"]),
                    N(m["en-zh"]?["translation_accuracy"], "0.000"), N(m["zh-en"]?["translation_accuracy"], "0.000"),
                    N(m["ms_per_generated_token"], "0.00")]);
            report.Section("Models on the test split (Tables 2 and 4)")
                .Text($"{N(eval["sentences"], "0")} test sentences per direction, greedy decoding, batch 1. BLEU with sacreBLEU's zh tokenizer for en→zh and 13a for zh→en; translation accuracy = teacher-forced target-token accuracy (docs/TRANSLATION.md).")
                .Table(new ReportTable("Size, quality and speed", ["model", "params", "MB", "BLEU en→zh", "BLEU zh→en", "chrF en→zh", "chrF zh→en", "acc en→zh", "acc zh→en", "ms/token"], rows));
        }
        return report;
    }

    /// <summary>A curve recorded as [[step, loss], …].</summary>
    public static ChartSeries Curve(string name, JsonNode? curve)
    {
        var pts = (curve as JsonArray ?? []).OfType<JsonArray>().Select(p => ((double)p[0]!, (double)p[1]!)).ToArray();
        return new ChartSeries(name, pts);
    }
}
