using System.Xml.Linq;
using LightGlm.Experiments;
using LightGlm.Experiments.Reporting;
using LightGlm.Tests.Charts;
using LightGlm.Charts;

namespace LightGlm.Tests.Experiments;

public class ReportTests
{
    [Fact]
    public void SaveWritesMarkdownHtmlJsonAndFigures()
    {
        var r = new Report("Run");
        r.Section("Table 4").Text("Sizes.").Table(new ReportTable("sizes", ["model", "params"], [["teacher", "8.2M"], ["student|x", "4.1M"]]))
            .Figure(new ReportFigure("fig4.svg", "Figure 4", Chart.Line("f", "x", "y", [new ChartSeries("s", [0.0, 1], [1.0, 0])])))
            .Command("./lightglm experiment compression");
        r.Numbers["teacher_params"] = 8200000;
        string dir = Path.Combine(Path.GetTempPath(), $"report-{Guid.NewGuid():N}");
        try
        {
            r.Save(dir);
            Assert.True(File.Exists(Path.Combine(dir, "figures", "fig4.svg")));
            Assert.True(File.Exists(Path.Combine(dir, "figures", "fig4.png"))); // for slides
            string md = File.ReadAllText(Path.Combine(dir, "report.md"));
            Assert.Contains("| student\\|x | 4.1M |", md);
            Assert.Contains("![Figure 4](figures/fig4.svg)", md);
            string html = File.ReadAllText(Path.Combine(dir, "report.html"));
            Assert.Contains("data:image/svg+xml;base64,", html);
            Assert.Contains("href=\"figures/fig4.png\"", html);
            Assert.Contains("8200000", File.ReadAllText(Path.Combine(dir, "report.json")));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
            Assert.Throws<ArgumentException>(() => new ReportSection("x").Table(new ReportTable("bad", ["a", "b"], [["1"]])));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void RunDirectoryResumesFromStageMarkersAndSkipsCutMetricLines()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"run-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            Assert.False(run.IsStageDone("teacher"));
            run.LogMetric("teacher", new() { ["step"] = 1, ["loss"] = 2.5 });
            File.AppendAllText(run.MetricsPath, "{\"time\":\"cut"); // a crash mid-line
            run.LogMetric("teacher", new() { ["step"] = 2, ["loss"] = 2.25 });
            run.MarkStageDone("teacher", new() { ["params"] = 42 });
            var again = new RunDirectory(dir);
            Assert.True(again.IsStageDone("teacher"));
            Assert.Equal(42, (int)again.StageResult("teacher")!["params"]!);
            var m = again.ReadMetrics("teacher").ToArray();
            Assert.Equal([2.5, 2.25], m.Select(o => (double)o["loss"]!));
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class ReportBrowserTests
{
    /// <summary>The page shows the charts' data, not only decoded images: the line (blue) and the bars (blue and
    /// orange) are on the screenshot. Without the charts' content the same counts are ~0.</summary>
    [Fact]
    public void HtmlReportRendersInHeadlessChromiumWithEveryImageDrawnAndNoConsoleErrors()
    {
        var r = new Report("Browser check");
        r.Section("Figures")
            .Figure(new ReportFigure("a.svg", "A", Chart.Line("a", "x", "y", [new ChartSeries("s", [0.0, 1, 2], [1.0, 3, 2])])))
            .Figure(new ReportFigure("b.svg", "B", Chart.Bars("b", "y", ["p", "q"], [new BarGroup("c", [1.0, 2.0])])));
        string dir = Path.Combine(Path.GetTempPath(), $"browser-{Guid.NewGuid():N}");
        try
        {
            r.Save(dir);
            var result = BrowserCheck.Run(Path.Combine(dir, "report.html"), Path.Combine(dir, "shot.png"));
            Assert.Equal((2, 2), (result.ImagesLoaded, result.Images));
            Assert.Empty(result.ConsoleMessages);
            var png = File.ReadAllBytes(Path.Combine(dir, "shot.png"));
            int blue = ChartPixels.Count(png, ChartPixels.Blue), orange = ChartPixels.Count(png, ChartPixels.Orange);
            Assert.True(blue > 5000 && orange > 5000, $"the screenshot shows {blue} blue and {orange} orange px: a chart is empty");

            // The checks can fail: a broken image is counted as not loaded, and charts that draw nothing leave no colour.
            File.WriteAllText(Path.Combine(dir, "broken.html"),
                r.ToHtml().Replace("data:image/svg+xml;base64,", "data:image/svg+xml;base64,AAAA"));
            var broken = BrowserCheck.Run(Path.Combine(dir, "broken.html"));
            Assert.Equal(0, broken.ImagesLoaded);
            Assert.False(broken.Ok);
            var blank = new Report("Blank");
            string empty = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"420\"><rect width=\"720\" height=\"420\" fill=\"white\"/></svg>";
            blank.Section("Figures").Figure(new ReportFigure("e.svg", "E", new ChartImage(empty, [])));
            File.WriteAllText(Path.Combine(dir, "blank.html"), blank.ToHtml());
            var shown = BrowserCheck.Run(Path.Combine(dir, "blank.html"), Path.Combine(dir, "blank.png"));
            Assert.Equal((1, 1), (shown.ImagesLoaded, shown.Images));
            Assert.True(ChartPixels.Count(File.ReadAllBytes(Path.Combine(dir, "blank.png")), ChartPixels.Blue) < 100);
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class ReportStageTests
{
    [Fact]
    public void ReportRendersEveryFinishedStagesTablesAndFigures()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"rep-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            run.MarkStageDone("corpus", new() { ["train_pairs"] = 900, ["dev_pairs"] = 50, ["test_pairs"] = 50 });
            run.MarkStageDone("hybrid", System.Text.Json.Nodes.JsonNode.Parse("""
                {"source_direction":"en-zh","target_direction":"zh-en","n_s":100,"n_d":5,"alpha":0.65,
                 "figure5":{"hybrid":{"target_dev_loss":3.1},"source_only":{"target_dev_loss":3.9},"target_only":{"target_dev_loss":3.5}}}
                """)!.AsObject());
            run.MarkStageDone("compression", System.Text.Json.Nodes.JsonNode.Parse("""
                {"teacher_params":1000,"importance":"activation","figure4":{"student":[[0,5.0],[10,4.0]],"random_pruned":[[0,6.0],[10,4.5]]}}
                """)!.AsObject());
            run.MarkStageDone("eval", System.Text.Json.Nodes.JsonNode.Parse("""
                {"sentences":5,"models":{"teacher":{"params":1000,"checkpoint_bytes":4000,"en-zh":{"bleu":12.5,"chrf":20,"translation_accuracy":0.4},
                 "zh-en":{"bleu":10,"chrf":30,"translation_accuracy":0.35},"ms_per_generated_token":1.5}}}
                """)!.AsObject());
            var report = LightGlm.Experiments.Stages.ReportStage.Build(run, "quick");
            string md = report.ToMarkdown();
            Assert.Contains("Figure 5", md);
            Assert.Contains("| source_only | 3.900 |", md);
            Assert.Contains("figure4.svg", md);
            Assert.Contains("| teacher | 1,000 | 0.00 | 12.5 | 10 |", md);
            Assert.Equal(2, report.Figures.Count());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CurvesKeepTheirFileShapeAndAreReadAsChartSeries()
    {
        // Curves are [[step, loss], …] in the files (steps written as integers, losses to 5 decimals), whether just made or read back.
        var curve = LightGlm.Experiments.Stages.LossCurve.Of([(0, 3.5), (10, 2.251234)]);
        Assert.Equal("[[0,3.5],[10,2.25123]]", StageJson.ToNode(curve)!.ToJsonString());
        var series = LightGlm.Experiments.Stages.LossCurve.Series("dev", curve);
        Assert.Equal([0.0, 10.0], series.X);
        Assert.Equal([3.5, 2.25123], series.Y);
        var read = StageJson.Read<LightGlm.Experiments.Stages.FineTuning>(System.Text.Json.Nodes.JsonNode.Parse("""{"target_dev_loss":3,"curve":[[0,5],[20,4.5]]}""")!, "test");
        Assert.Equal([[0.0, 5.0], [20.0, 4.5]], read.Curve!);
        Assert.Null(read.TrainSeconds);
    }

    [Fact]
    public void ReportShowsTheStudentBeforeAndAfterDownstreamDistillation()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"rep-ds-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            run.MarkStageDone("compression", System.Text.Json.Nodes.JsonNode.Parse("""
                {"teacher_params":1000,"importance":"activation","figure4":{"student":[[0,5.0],[10,4.0]]},
                 "tables":{"mixed":{"teacher":"teacher-hybrid","rows":{"student":"student-compressed"}}}}
                """)!.AsObject());
            var down = new System.Text.Json.Nodes.JsonObject
            {
                ["from"] = "student-compressed", ["student"] = "x", ["lambda"] = 0.65, ["lambda_weighs"] = "teacher", ["soft_weight"] = 0.65, ["hard_weight"] = 0.35,
                ["temperature"] = 1.0, ["top_k"] = 64, ["steps"] = 6, ["n_target"] = 40, ["target_direction"] = "zh-en",
                ["target_dev_loss_before"] = 4.5, ["target_dev_loss_after"] = 4.25, ["dev_loss_before"] = 4.0, ["dev_loss_after"] = 3.875,
                ["curve"] = System.Text.Json.Nodes.JsonNode.Parse("[[0,4.5],[3,4.4],[6,4.25]]"), ["train_seconds"] = 1.5,
                ["teacher_cache"] = new System.Text.Json.Nodes.JsonObject { ["bytes"] = 2500000L, ["built"] = true },
            };
            run.MarkStageDone("downstream", down);
            string Model(double en, double zh) => "{\"params\":500,\"checkpoint_bytes\":2000,\"en-zh\":{\"bleu\":5,\"chrf\":10,\"translation_accuracy\":" + en +
                "},\"zh-en\":{\"bleu\":6,\"chrf\":11,\"translation_accuracy\":" + zh + "}}";
            run.MarkStageDone("eval", System.Text.Json.Nodes.JsonNode.Parse("{\"sentences\":5,\"models\":{\"teacher-hybrid\":" + Model(0.5, 0.4) +
                ",\"student-compressed\":" + Model(0.3, 0.2) + ",\"student\":" + Model(0.31, 0.25) + "}}")!.AsObject());
            var report = LightGlm.Experiments.Stages.ReportStage.Build(run, "tiny");
            string md = report.ToMarkdown();
            Assert.Contains("Downstream distillation (Eq. 13)", md);
            Assert.Contains("| before (compression) | student-compressed | 4.500 | 4.000 | 30.0 | 20.0 |", md);
            Assert.Contains("| after (downstream) | student | 4.250 | 3.875 | 31.0 | 25.0 |", md);
            Assert.Contains("figures/downstream.svg", md);
            Assert.Contains("--redo downstream", md);
            // Table 3: the final student's row follows the one it started from; the paper's LightChatGLM row sits beside the final one.
            var t3 = report.Numbers["table3"]!.AsObject();
            Assert.Equal(["student", "downstream"], t3.Select(kv => kv.Key));
            Assert.Null(t3["student"]!["paper"]);
            Assert.Equal("LightChatGLM/ChatGLM", (string)t3["downstream"]!["paper"]!["row"]!);
            Assert.Equal(25.0, (double)t3["downstream"]!["english"]![0]!, 6);
            var numbers = report.Numbers["downstream"]!;
            Assert.Equal(0.31, (double)numbers["after"]!["test"]!["en-zh"]!["translation_accuracy"]!, 6);
            Assert.Equal(4.5, (double)numbers["before"]!["target_dev_loss"]!, 6);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AblationRowsWithCompressionAndHybridUseTheFinalStudentAndCountTheDownstreamTime()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"abl-ds-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            LightGlm.Experiments.Recipes.Recipe.Load("tiny").Save(run.PathOf("config.json"));
            System.Text.Json.Nodes.JsonObject J(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            run.MarkStageDone("teacher", J("""{"train_seconds":100}"""));
            run.MarkStageDone("hybrid", J("""{"train_seconds":20,"figure5":{"hybrid":{"target_dev_loss":3}}}"""));
            run.MarkStageDone("compression", J("""{"tables":{"mixed":{"teacher":"teacher-hybrid","rows":{"student":"student-compressed"}}}}"""));
            run.MarkStageDone("compression.student-compressed", J("""{"train_seconds":30}"""));
            run.MarkStageDone("downstream", J("""{"train_seconds":7,"student":"x"}"""));
            string M(double acc) => "{\"params\":10,\"checkpoint_bytes\":40,\"en-zh\":{\"translation_accuracy\":" + acc + "},\"zh-en\":{\"translation_accuracy\":" + acc + "}}";
            var eval = J("{\"teacher\":" + M(0.5) + ",\"teacher-hybrid\":" + M(0.6) + ",\"student-compressed\":" + M(0.3) + ",\"student\":" + M(0.4) + "}");
            run.MarkStageDone("eval", new() { ["models"] = eval.DeepClone() });

            var composed = LightGlm.Experiments.Stages.AblationTable.FromRun(run, run.Result<LightGlm.Experiments.Stages.EvalResult>()!.Models)!;
            var row = composed.Rows.Single(r => r.Name == "compression + hybrid");
            Assert.Equal("student", row.Model);
            Assert.Equal(0.4, row.Accuracy, 6);
            Assert.Equal(100 + 20 + 30 + 7, row.TrainSeconds, 6);
            Assert.Contains("downstream distillation 7 s", row.TimeSource);

            var measured = LightGlm.Experiments.Stages.AblationTable.FromRuns([("compression + hybrid", false, true, true, run)]);
            Assert.Equal("student", measured.Rows[0].Model);
            Assert.Equal(100 + 20 + 30 + 7, measured.Rows[0].TrainSeconds, 6);
        }
        finally { Directory.Delete(dir, true); }
    }
}

