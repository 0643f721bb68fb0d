// The quickstart end to end on the reduced `tiny` preset: real data (five pinned Debian packages), tiny sizes,
// through the CLI. Checks every artefact: models load and translate, the report has every table with numbers, charts
// are valid SVG with a PNG that shows data, the student is smaller and faster than its teacher, an interrupted run continues, and the HTML report
// opens in headless Chromium with no console errors and every image loaded.
using System.Text.Json.Nodes;
using System.Xml.Linq;
using LightGlm.Experiments;
using LightGlm.Experiments.Reporting;
using LightGlm.Tests.Evaluation;
using LightGlm.Text.Corpus;
using LightGlm.Translation;
using Xunit.Abstractions;

namespace LightGlm.Tests.Experiments;

/// <summary>Skipped, with the reason, when headless Chromium is not installed (scripts/setup.sh installs it).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (BrowserCheck.FindChromium() is null) Skip = "headless Chromium is not installed (apt-get install chromium; scripts/setup.sh does)";
    }
}

/// <summary>One run of `lightglm run tiny`, first stopped after the teacher and then continued, shared by the tests below.</summary>
public sealed class TinyRunFixture : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), $"tiny-run-{Guid.NewGuid():N}");
    public sealed record Invocation(int ExitCode, string Stdout, string Stderr);
    readonly Lazy<(Invocation First, Invocation Second)> _runs;

    /// <summary>
    /// Five real packages of the pinned list (coreutils, util-linux-locales, tar, grep, sed: ≈7,500 pairs, enough for the
    /// tiny preset's 1,500) and meld, the tiny preset's held-out package (its unseen set), fetched into the corpus cache like any run's — so the test needs no prebuilt cache and runs
    /// on a fresh machine (CI) as well.
    /// </summary>
    static string SmallPackageList(string dir)
    {
        var chosen = PackageList.Read(RepoPaths.DefaultPackageList)
            .Where(p => p.Name is "coreutils" or "util-linux-locales" or "tar" or "grep" or "sed" or "meld").ToList();
        Directory.CreateDirectory(dir);
        string list = Path.Combine(dir, "packages.txt");
        File.WriteAllLines(list, chosen.Select(p => $"{p.Name}\t{p.Version}\t{p.Architecture}\t{p.Sha256}"));
        return list;
    }

    public TinyRunFixture() => _runs = new(() =>
    {
        string list = SmallPackageList(Dir + "-input");
        // ≈1.5 min of CPU; the limit is generous because the machine running the suite may be shared.
        var first = CliProcess.Run(TimeSpan.FromMinutes(10), null, "run", "tiny", "--run-dir", Dir, "--until", "teacher", "--set", $"corpus.packages_file={list}");
        var second = CliProcess.Run(TimeSpan.FromMinutes(15), null, "run", "tiny", "--run-dir", Dir, "--set", $"corpus.packages_file={list}");
        return (new(first.ExitCode, first.Stdout, first.Stderr), new(second.ExitCode, second.Stdout, second.Stderr));
    });

    public (Invocation First, Invocation Second) Runs => _runs.Value;
    /// <summary>The package list the runs were made with (a run that shares their corpus must name the same file).</summary>
    public string PackagesFile => Path.Combine(Dir + "-input", "packages.txt");
    public RunDirectory Run => new(Dir);

    public void Dispose()
    {
        if (Directory.Exists(Dir)) Directory.Delete(Dir, true);
        if (Directory.Exists(Dir + "-input")) Directory.Delete(Dir + "-input", true);
    }
}

/// <summary>The tests that share one tiny run (it takes minutes): the end-to-end checks and every command on its student.</summary>
[CollectionDefinition(Name)]
public sealed class TinyRunCollection : ICollectionFixture<TinyRunFixture>
{
    public const string Name = "tiny recipe run";
}

[Collection(TinyRunCollection.Name)]
public class QuickstartEndToEndTests(TinyRunFixture fx, ITestOutputHelper output)
{
    [Fact]
    public void TinyRecipeMakesEveryArtefact()
    {
        var (first, second) = fx.Runs;
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stdout + second.Stderr);
        // Resumed: the second invocation did not redo the finished stages.
        Assert.Contains("teacher: already done, skipped", second.Stdout);
        Assert.Contains("report: ", second.Stdout);
        var run = fx.Run;
        foreach (var stage in new[] { "corpus", "tokenizer", "teacher", "parallel", "hybrid", "compression", "downstream", "eval", "report" })
            Assert.True(run.IsStageDone(stage), $"stage {stage} did not finish");
        foreach (var f in new[] { "config.json", "machine.json", "metrics.jsonl", "report.md", "report.html", "report.json" })
            Assert.True(File.Exists(run.PathOf(f)), $"{f} missing");

        // Models load and translate: student/ is the final student (after downstream distillation), student-compressed/ the one it started from.
        foreach (var m in new[] { "teacher", "teacher-hybrid", "student-compressed", "student" })
        {
            var (model, tok) = TranslationModel.Load(run.PathOf(m));
            var t = new GlmTranslator(model, tok).Translate(["Permission denied"], Direction.EnToZh, 8);
            Assert.Single(t);
        }

        // The report: every table, with numbers; report.json has them too.
        string md = File.ReadAllText(run.PathOf("report.md"));
        foreach (var heading in new[] { "Headline", "Data (Table 1)", "(Figure 3)", "(Figure 4)", "(Figure 5)", "(Figure 6)", "(Table 2)", "(Table 3)", "Downstream distillation (Eq. 13)", "(Table 4)", "(Table 5)" })
            Assert.Contains(heading, md);
        var json = JsonNode.Parse(File.ReadAllText(run.PathOf("report.json")))!;
        foreach (var key in new[] { "headline", "figure3", "figure4", "figure5", "figure6", "table2", "table3", "downstream", "eval", "table5" })
            Assert.True(json[key] is not null, $"report.json lacks '{key}'");
        Assert.Equal(8, json["table5"]!.AsArray().Count);
        foreach (var row in json["table5"]!.AsArray())
        {
            Assert.InRange((double)row!["accuracy"]!, 0.0, 100.0);
            Assert.True((double)row["train_seconds"]! > 0);
        }
        foreach (var key in new[] { "table2", "table3" })
            foreach (var (_, row) in json[key]!.AsObject())
                foreach (var col in new[] { "english", "chinese", "avg" })
                    Assert.All(row![col]!.AsArray(), v => Assert.InRange((double)v!, 0.0, 100.0));
        Assert.DoesNotContain("NaN", md);

        // tiny trains its teacher on packed rows with label smoothing and logs the learning curve (BLEU on dev and on the
        // held-out package at every validation point, against training CPU time and non-padding tokens).
        var teacherResult = run.StageResult("teacher")!;
        Assert.True((bool)teacherResult["packed"]!);
        Assert.InRange((double)teacherResult["pad_fraction"]!, 0.0, 0.3);
        Assert.True((double)teacherResult["examples_per_row"]! > 1.1, teacherResult.ToJsonString());
        var lc = teacherResult["learning_curve"]!.AsArray();
        Assert.True(lc.Count >= 2, teacherResult["learning_curve"]!.ToJsonString());
        foreach (var p in lc)
        {
            Assert.InRange((double)p!["bleu_dev_en_zh"]!, 0.0, 100.0);
            Assert.InRange((double)p["bleu_unseen_en_zh"]!, 0.0, 100.0);
            Assert.True((double)p["cpu_s"]! > 0 && (long)p["real_tokens"]! > 0);
        }
        Assert.Contains("Learning curve", md);

        // Downstream distillation (Eq. 13): tiny's 6 steps from compression's student with the hybrid teacher, both students evaluated.
        var down = run.StageResult("downstream")!;
        output.WriteLine("downstream: " + down.ToJsonString());
        output.WriteLine("report.json downstream: " + json["downstream"]!.ToJsonString());
        Assert.Equal(run.PathOf("student"), (string)down["student"]!);
        Assert.Equal(run.PathOf("teacher-hybrid"), (string)down["teacher"]!);
        Assert.Equal(7, down["curve"]!.AsArray().Count); // steps 0..6
        Assert.True(File.Exists((string)down["teacher_cache"]!["path"]!));
        var evalModels = run.StageResult("eval")!["models"]!.AsObject();
        Assert.True(evalModels.ContainsKey("student-compressed") && evalModels.ContainsKey("student"));
        // The int8 rows are served by the engine's int8 kernels: their weights are smaller than the fp32 models' and timed.
        foreach (var (q, fp32) in new[] { ("teacher-int8", "teacher-hybrid"), ("student-int8", "student") })
        {
            Assert.Equal("int8", (string)evalModels[q]!["weights"]!);
            Assert.Equal("fp32", (string)evalModels[fp32]!["weights"]!);
            Assert.True((double)evalModels[q]!["weight_bytes"]! < 0.7 * (double)evalModels[fp32]!["weight_bytes"]!, $"{q} is not smaller than {fp32}");
            Assert.True((double)evalModels[q]!["decode_cpu_ms_per_token"]! > 0);
        }
        Assert.Equal("student", (string)json["table5"]!.AsArray()[^1]!["model"]!); // LightChatGLM (all three) = the final student
        Assert.Contains("downstream distillation", (string)json["table5"]!.AsArray()[^1]!["time_source"]!);
        foreach (var side in new[] { "before", "after" })
            foreach (var d in new[] { "en-zh", "zh-en" })
                Assert.InRange((double)json["downstream"]![side]!["test"]![d]!["translation_accuracy"]!, 0.0, 1.0);
        Assert.Equal(["student", "downstream"], json["table3"]!.AsObject().Select(kv => kv.Key).Where(k => k is "student" or "downstream"));
        // Every table row has as many cells as its header (Report validates), and the tables hold numbers, not only dashes.
        var tableLines = md.Split('\n').Where(l => l.StartsWith("| ") && !l.StartsWith("|---")).ToList();
        Assert.True(tableLines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\| [0-9][0-9,.]* ")) > 20);

        // Charts are valid SVG documents, each with a PNG beside it that shows data (series colours in the plot, not
        // only in the legend); the run's loss curves are beside metrics.jsonl.
        var svgs = Directory.GetFiles(run.PathOf("figures"), "*.svg");
        foreach (var name in new[] { "figure3.svg", "figure4.svg", "figure5.svg", "figure6.svg", "downstream.svg", "teacher-loss.svg", "learning-curve.svg" })
            Assert.Contains(svgs, s => Path.GetFileName(s) == name);
        foreach (var svg in svgs.Append(run.PathOf(LightGlm.Charts.LossCurves.SvgName)))
        {
            var doc = XDocument.Load(svg);
            Assert.Equal("svg", doc.Root!.Name.LocalName);
            int drawn = LightGlm.Tests.Charts.ChartPixels.DataPixels(File.ReadAllBytes(Path.ChangeExtension(svg, ".png")));
            Assert.True(drawn > 50, $"{Path.ChangeExtension(svg, ".png")} draws no data ({drawn} coloured px in the plot)");
        }

        // The student is smaller and faster than its teacher (2 of 4 layers, half the head and FFN width: ≈2.7× fewer multiply-adds per token).
        var h = json["headline"]!;
        Assert.True((double)h["params_student"]! < (double)h["params_teacher"]!);
        Assert.True((double)h["memory_saved"]! > 0.2);
        Assert.True((double)h["inference_time_ratio"]! < 1.0, $"student/teacher time per token = {h["inference_time_ratio"]}");
        Assert.True(h["teacher_bleu"] is not null && h["student_int8_speedup"] is not null && h["student_int8_bleu_lost"] is not null, h.ToJsonString());
        if ((double)h["teacher_bleu"]! > 0) Assert.Contains("of the teacher's BLEU", md);
        Assert.Contains("With its weights in int8 (student-int8)", md);
        // tiny's compression.levels = [0.5]: the mixed student at half the hidden width is scored in Table 4 too.
        Assert.Contains("| student-h0.5 |", md);
        Assert.Contains("| student-depth |", md); // tiny's compression.depth_variant: one layer fewer, wider, equal size
        Assert.Contains("student-hX rows: the mixed student pruned to hidden ratio X", md);
    }

    [Fact]
    public void ExperimentCompressionRunsTheRecipesCompressionFromAFinishedRun()
    {
        Assert.True(fx.Runs.Second.ExitCode == 0, fx.Runs.Second.Stderr);
        string outDir = fx.Dir + "-compression";
        try
        {
            var res = CliProcess.Run(TimeSpan.FromMinutes(10), null, "experiment", "compression", "tiny", "--from-run", fx.Dir, "--out", outDir,
                "--set", $"corpus.packages_file={fx.PackagesFile}", "--set", "compression.levels=[0.35]");
            output.WriteLine(res.Stdout);
            Assert.True(res.ExitCode == 0, res.Stderr);
            var run = new RunDirectory(outDir);
            // The stages before compression come from the finished run (same settings); compression ran again with the other level.
            foreach (var stage in new[] { "corpus", "tokenizer", "teacher", "hybrid" })
                Assert.True(run.StageResult(stage)?["shared_from"] is not null, $"{stage} was not taken from the finished run");
            Assert.Null(run.StageResult("compression")!["shared_from"]);
            Assert.Contains("student-h0.35", res.Stdout);
            Assert.Contains("dev loss (first → last step)", res.Stdout);
            Assert.Contains("| student-h0.35 |", File.ReadAllText(run.PathOf("report.md")));
            // The standalone byte-level experiment's --teacher/--data are refused by name, with what to do instead.
            var gone = CliProcess.Run(TimeSpan.FromMinutes(1), null, "experiment", "compression", "tiny", "--data", "x.txt", "--out", outDir + "-x");
            Assert.Equal(2, gone.ExitCode);
            Assert.Contains("--from-run", gone.Stderr);
        }
        finally { if (Directory.Exists(outDir)) Directory.Delete(outDir, true); }
    }

    /// <summary>`experiment hybrid` is the recipe's hybrid stage and what follows (Figures 5-6, Tables 2-3), not a second
    /// implementation: with other hybrid steps only hybrid and the stages after it run again; every Figure 5 variant is
    /// recorded with a finite loss and a curve, and the report states the paper's claim as measured, either way (issue 7).</summary>
    [Fact]
    public void ExperimentHybridRunsTheRecipesHybridStageFromAFinishedRun()
    {
        Assert.True(fx.Runs.Second.ExitCode == 0, fx.Runs.Second.Stderr);
        string outDir = fx.Dir + "-hybrid";
        try
        {
            var res = CliProcess.Run(TimeSpan.FromMinutes(10), null, "experiment", "hybrid", "tiny", "--from-run", fx.Dir, "--out", outDir,
                "--set", $"corpus.packages_file={fx.PackagesFile}", "--steps", "4");
            output.WriteLine(res.Stdout);
            Assert.True(res.ExitCode == 0, res.Stderr);
            var run = new RunDirectory(outDir);
            foreach (var stage in new[] { "corpus", "tokenizer", "teacher" })
                Assert.True(run.StageResult(stage)?["shared_from"] is not null, $"{stage} was not taken from the finished run");
            var hybrid = run.StageResult("hybrid")!;
            Assert.Null(hybrid["shared_from"]);
            Assert.Equal(4, (int)run.Recipe()!.Root["hybrid"]!["steps"]!); // --steps is hybrid.steps
            var f5 = (JsonObject)hybrid["figure5"]!;
            foreach (var v in new[] { "source_only", "target_only", "hybrid" })
            {
                Assert.True(double.IsFinite((double)f5[v]!["target_dev_loss"]!), v);
                Assert.NotEmpty(f5[v]!["curve"]!.AsArray());
            }
            Assert.True((int)hybrid["n_d"]! > 0 && (int)hybrid["n_d"]! < (int)hybrid["n_s"]! / 10);
            Assert.Contains(run.ReadMetrics("hybrid.hybrid"), m => m["valid_loss"] is not null);
            string md = File.ReadAllText(run.PathOf("report.md"));
            Assert.Contains("Figure 5", md);
            Assert.Contains("With hybrid data (Table 3)", md);
            bool beats = (double)f5["hybrid"]!["target_dev_loss"]! < (double)f5["source_only"]!["target_dev_loss"]!;
            Assert.Equal(beats, (bool)JsonNode.Parse(File.ReadAllText(run.PathOf("report.json")))!["hybrid_beats_source_only"]!);
            Assert.Contains(beats ? "hybrid fine-tuning beats source-only" : "hybrid fine-tuning does not beat source-only", md);
            Assert.Contains("target-direction dev loss", res.Stdout);
            // The standalone experiment's options are refused by name, with what to do instead.
            var gone = CliProcess.Run(TimeSpan.FromMinutes(1), null, "experiment", "hybrid", "tiny", "--alpha-sweep", "0.5,0.65", "--out", outDir + "-x");
            Assert.Equal(2, gone.ExitCode);
            Assert.Contains("--alpha-sweep belonged to the standalone hybrid experiment", gone.Stderr);
        }
        finally { if (Directory.Exists(outDir)) Directory.Delete(outDir, true); }
    }

    [Fact]
    public void RunFromRunTakesOverTheStagesWhoseSettingsAgree()
    {
        Assert.True(fx.Runs.Second.ExitCode == 0, fx.Runs.Second.Stderr);
        string outDir = fx.Dir + "-from";
        try
        {
            // Another eval setting: everything up to the teacher depends only on settings that agree, so nothing is trained again.
            var res = CliProcess.Run(TimeSpan.FromMinutes(5), null, "run", "tiny", "--from-run", fx.Dir, "--run-dir", outDir, "--until", "teacher",
                "--set", $"corpus.packages_file={fx.PackagesFile}", "--set", "eval.max_sentences=7");
            Assert.True(res.ExitCode == 0, res.Stderr);
            var run = new RunDirectory(outDir);
            foreach (var stage in new[] { "corpus", "tokenizer", "teacher" })
                Assert.Equal(fx.Run.Root, (string?)run.StageResult(stage)?["shared_from"]);
            // A folder that is not a run is refused by name.
            var other = CliProcess.Run(TimeSpan.FromMinutes(1), null, "run", "tiny", "--from-run", outDir + "-missing", "--run-dir", outDir + "-2",
                "--set", $"corpus.packages_file={fx.PackagesFile}");
            Assert.NotEqual(0, other.ExitCode);
            Assert.Contains("not a run directory", other.Stderr);
        }
        finally
        {
            foreach (var d in new[] { outDir, outDir + "-2", outDir + "-missing" })
                if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [ChromiumFact]
    public void ReportOpensInHeadlessChromiumWithEveryImage()
    {
        Assert.True(fx.Runs.Second.ExitCode == 0, fx.Runs.Second.Stderr);
        var run = fx.Run;
        var result = BrowserCheck.Run(run.PathOf("report.html"), run.PathOf("report.png"));
        Assert.Empty(result.ConsoleMessages);
        // Every chart the run drew is embedded in the page (the teacher's loss, Figures 3-6 and the downstream curve at least).
        int drawn = Directory.GetFiles(run.PathOf("figures"), "*.svg").Length;
        Assert.True(drawn >= 6, $"only {drawn} charts in figures/");
        Assert.True(result.Images >= drawn, $"{result.Images} images in the page for {drawn} charts in figures/");
        Assert.Equal(result.Images, result.ImagesLoaded);
        var png = File.ReadAllBytes(run.PathOf("report.png"));
        Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G');
    }
}
