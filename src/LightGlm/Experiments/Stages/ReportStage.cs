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
        return report;
    }

    /// <summary>A curve recorded as [[step, loss], …].</summary>
    public static ChartSeries Curve(string name, JsonNode? curve)
    {
        var pts = (curve as JsonArray ?? []).OfType<JsonArray>().Select(p => ((double)p[0]!, (double)p[1]!)).ToArray();
        return new ChartSeries(name, pts);
    }
}
