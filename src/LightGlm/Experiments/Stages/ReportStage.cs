// Last stage: the run's report — Markdown, self-contained HTML and report.json — built only from what the earlier
// stages measured and recorded, with the paper's numbers beside ours where they compare and, for every table and
// figure, the command that makes it again. Sections appear for the stages that finished.
using System.Globalization;
using System.Text.Json.Nodes;
using LightGlm.Experiments.Reporting;
using LightGlm.Translation;
using LightGlm.Charts;

namespace LightGlm.Experiments.Stages;

public sealed class ReportStage : IRecipeStage
{
    public string Name => "report";
    public string Description => "write the report (Markdown, HTML, JSON, SVG figures)";
    public IReadOnlyList<string> Reads => ["*"]; // a report belongs to its run

    internal static string N(double? v, string fmt = "0.##") => v is double x && double.IsFinite(x) ? x.ToString(fmt, CultureInfo.InvariantCulture) : "–";
    internal static string Pct(double? v) => v is double x && double.IsFinite(x) ? (100 * x).ToString("0.0", CultureInfo.InvariantCulture) : "–";

    public JsonObject Run(StageContext c)
    {
        var report = Build(c.Run, c.Recipe.Name);
        report.Save(c.Run.Root);
        c.Progress.Report(1, "written");
        return StageJson.ToJson(new ReportResult(c.Run.PathOf("report.html"), c.Run.PathOf("report.md"), c.Run.PathOf("report.json")));
    }

    public static Report Build(RunDirectory run, string recipeName)
    {
        var report = new Report($"LightGlm run '{recipeName}'");
        var numbers = report.Numbers;
        numbers["recipe"] = recipeName;
        string cfg = Path.Combine(run.Root, "config.json");
        string again = $"./lightglm run {cfg} --run-dir {run.Root}";
        var evalResult = run.Result<EvalResult>();
        var eval = evalResult?.Models;
        var recipe = run.Recipe();
        var overview = report.Section("How this run was made");
        overview.Text("Every number below was measured in this run on this machine (machine.json: a shared 2-core CPU, so timings are noisy); " +
                      "the recipe with every setting is config.json. Continue an interrupted run, or run the same recipe again, with:");
        overview.Command(again);
        overview.Text("Each section ends with the command that makes its table or figure again from this run's earlier stages (--redo STAGE forgets that stage and the ones after it).");
        Headline(report, run, eval);

        if (run.Result<CorpusResult>() is { } corpus)
        {
            numbers["corpus"] = new JsonObject
            {
                ["train_pairs"] = corpus.TrainPairs, ["dev_pairs"] = corpus.DevPairs, ["test_pairs"] = corpus.TestPairs, ["unseen_pairs"] = corpus.UnseenPairs,
            };
            List<IReadOnlyList<string>> splitRows =
                [["train", N(corpus.TrainPairs, "0"), Used(corpus.TrainPairs, recipe?.Settings.Corpus.MaxTrainPairs)],
                 ["dev", N(corpus.DevPairs, "0"), Used(corpus.DevPairs, recipe?.Settings.Corpus.MaxEvalPairs)],
                 ["test", N(corpus.TestPairs, "0"), Used(corpus.TestPairs, recipe?.Settings.Eval.MaxSentences)]];
            if (corpus.UnseenPairs is > 0)
                splitRows.Add([$"unseen ({string.Join(", ", recipe?.Settings.Corpus.HoldoutPackages ?? [])})", N(corpus.UnseenPairs, "0"),
                               Used(corpus.UnseenPairs, recipe?.Settings.Eval.MaxSentences)]);
            report.Section("Data (Table 1)")
                .Text("English↔Chinese pairs from the zh_CN message catalogs of the pinned Debian packages, cleaned and split by a hash of the English (no English string in two splits). " +
                      "The paper's corpora use 90/5/5 or 80/10/10 splits (Table 1); this run's ratios are corpus.split in config.json. " +
                      "unseen = the pairs of whole packages held out of all three (corpus.holdout_packages) whose English is not in train: software the model never saw.")
                .Table(new ReportTable("Corpus splits", ["split", "pairs", "used by this recipe"], splitRows))
                .Command($"{again} --redo corpus");
        }
        if (run.Result<TeacherResult>() is { } teacher)
        {
            numbers["teacher"] = Without(StageJson.ToJson(teacher), "curve", "valid_curve");
            var s = report.Section("Teacher training");
            s.Table(new ReportTable("Teacher", ["parameters", "tokens/s", "train seconds", "final train loss", "dev loss"],
                [[N(teacher.Params, "N0"), N(teacher.TokensPerS, "N0"), N(teacher.TrainSeconds, "0.0"), N(teacher.FinalLoss, "0.000"), N(teacher.ValidLoss, "0.000")]]));
            var series = new List<ChartSeries> { LossCurve.Series("train", teacher.Curve) };
            if (teacher.ValidCurve is { Count: > 0 }) series.Add(LossCurve.Series("dev", teacher.ValidCurve));
            s.Figure(new ReportFigure("teacher-loss.svg", "Teacher loss over steps", Chart.Line("Teacher loss", "step", "loss", series)));
            if (teacher.LearningCurve is { Count: > 0 } lc)
            {
                // BLEU against training CPU-minutes: what another hour of this machine buys (docs/QUALITY.md).
                var pts = lc.Where(p => p.CpuS is not null).ToList();
                var bleu = new List<ChartSeries>();
                foreach (var (pick, label) in new (Func<LearningPoint, double?>, string)[]
                         { (p => p.BleuDevEnZh, "dev en→zh"), (p => p.BleuDevZhEn, "dev zh→en"), (p => p.BleuUnseenEnZh, "unseen packages en→zh") })
                {
                    var xy = pts.Where(p => pick(p) is not null).Select(p => (p.CpuS!.Value / 60, pick(p)!.Value)).ToList();
                    if (xy.Count > 0) bleu.Add(new ChartSeries(label, xy));
                }
                if (bleu.Count > 0)
                    s.Figure(new ReportFigure("learning-curve.svg", "Teacher BLEU against training CPU-minutes (greedy, first teacher.curve_pairs pairs)",
                        Chart.Line("Teacher learning curve", "training CPU-minutes", "BLEU", bleu)));
                s.Table(new ReportTable("Learning curve", ["step", "CPU-min", "non-pad tokens", "dev loss", "BLEU dev en→zh", "BLEU dev zh→en", "BLEU unseen en→zh"],
                    lc.Select(p => new[] { N(p.Step, "0"), N(p.CpuS / 60, "0.0"),
                        N(p.RealTokens, "N0"), N(p.ValidLoss, "0.000"), N(p.BleuDevEnZh, "0.0"), N(p.BleuDevZhEn, "0.0"), N(p.BleuUnseenEnZh, "0.0") }).ToList()));
            }
            s.Command($"{again} --redo teacher");
        }
        if (run.Result<ParallelResult>() is { } par) Figure3(report, par, again);
        var comp = run.Result<CompressionResult>();
        var f4 = new[] { ("mixed compression", comp?.Figure4?.Student), ("random pruning", comp?.Figure4?.RandomPruned) }.Where(x => x.Item2 is not null).ToArray();
        if (comp is not null && f4.Length > 0)
        {
            numbers["figure4"] = StageJson.ToJson(comp.Figure4);
            var s = report.Section("Mixed compression vs random pruning (Figure 4)");
            s.Text($"Teacher {N(comp.TeacherParams, "N0")} parameters; importance '{comp.Importance}'. Both students have the same shape and get the same distillation steps; " +
                   "the curve is the hard-label loss on the dev split. Paper: mixed compression converges faster and lower than random pruning.");
            s.Figure(new ReportFigure("figure4.svg", "Figure 4: validation loss over distillation steps",
                Chart.Line("Figure 4: validation loss while distilling", "step", "validation loss", f4.Select(x => LossCurve.Series(x.Item1, x.Item2)).ToArray())));
            s.Command($"{again} --redo compression");
        }
        if (run.Result<HybridResult>() is { } hybrid && hybrid.Figure5 is { } f5)
        {
            numbers["figure5"] = StageJson.ToJson(f5);
            var names = f5.Keys.ToArray();
            var s = report.Section("Hybrid-data fine-tuning (Figure 5)");
            s.Text($"D_s = {hybrid.SourceDirection} ({N(hybrid.NSource, "0")} examples), D_d = {hybrid.TargetDirection} ({N(hybrid.NTarget, "0")} examples), α = {N(hybrid.Alpha, "0.###")}. " +
                   "Loss on the target direction of the dev split after the same number of steps (lower is better). Paper: source-only is worst; target and hybrid fine-tuning are better.");
            if (f5.GetValueOrDefault("hybrid") is { } hy && f5.GetValueOrDefault("source_only") is { } so)
            {
                // The paper's claim, as measured here: said either way, never assumed (issue 7).
                double h = hy.TargetDevLoss, o = so.TargetDevLoss;
                numbers["hybrid_beats_source_only"] = h < o;
                s.Text($"On this data hybrid fine-tuning {(h < o ? "beats" : "does not beat")} source-only fine-tuning on the target direction " +
                       $"({hybrid.TargetDirection} dev loss {N(h, "0.0000")} vs {N(o, "0.0000")}).");
            }
            s.Table(new ReportTable("Target-direction dev loss", ["fine-tuning", "dev loss"], names.Select(n => (IReadOnlyList<string>)[n, N(f5[n].TargetDevLoss, "0.000")]).ToArray()));
            s.Figure(new ReportFigure("figure5.svg", "Figure 5: source-only vs target-only vs hybrid fine-tuning",
                Chart.Bars("Figure 5: target-direction dev loss", "dev loss", ["dev loss"],
                    names.Select(n => new BarGroup(n, [f5[n].TargetDevLoss])).ToArray())));
            s.Command($"{again} --redo hybrid");
            if (eval is not null) Figure6(report, hybrid, eval, again);
        }
        if (comp?.Tables is { } tables && eval is not null)
        {
            if (tables.GetValueOrDefault("no_target") is { } t2)
                AccuracyTable(report, "table2", "Without target data (Table 2)", t2, eval, PaperNumbers.Table2,
                    "The teacher fine-tuned on D_s only (no target-direction data) and students distilled on D_s only.", $"{again} --redo compression");
            if (tables.GetValueOrDefault("mixed") is { } t3)
            {
                // After downstream distillation the final student gets its own row, right after the student it started from;
                // the paper's LightChatGLM row (the whole method) sits beside the final one.
                var down = run.Result<DownstreamResult>();
                var paper3 = PaperNumbers.Table3;
                if (down is not null && eval.ContainsKey("student") && t3.Rows is { } rows3)
                {
                    var withDown = new Dictionary<string, string>();
                    foreach (var (method, model) in rows3)
                    {
                        withDown[method] = model;
                        if (method == "student") withDown["downstream"] = "student";
                    }
                    t3 = t3 with { Rows = withDown };
                    paper3 = paper3.Where(kv => kv.Key != "student").Append(KeyValuePair.Create("downstream", paper3["student"])).ToDictionary();
                }
                AccuracyTable(report, "table3", "With hybrid data (Table 3)", t3, eval, paper3,
                    "The hybrid fine-tuned teacher and students distilled with soft labels on D_s and hard labels on D_d (Algorithm 2)" +
                    (down is null ? "." : "; the last LightChatGLM row is that student after downstream distillation on D_d (Eq. 13)."),
                    $"{again} --redo compression");
            }
        }
        if (run.Result<DownstreamResult>() is { } downstream) Downstream(report, downstream, eval, again);
        if (evalResult is not null) Table4(report, run, evalResult, again);
        if (evalResult?.Unseen is { } unseen) UnseenPackages(report, evalResult.Models, unseen, again);
        Table5(report, run, eval);
        return report;
    }

    static void Headline(Report report, RunDirectory run, IReadOnlyDictionary<string, ModelScores>? eval)
    {
        string teacherName = eval?.ContainsKey("teacher-hybrid") == true ? "teacher-hybrid" : "teacher";
        if (eval?.GetValueOrDefault(teacherName) is not { } t || eval.GetValueOrDefault("student") is not { } s) return;
        double accT = t.MeanAccuracy, accS = s.MeanAccuracy;
        double bytesT = t.CheckpointBytes, bytesS = s.CheckpointBytes;
        // The time ratio from CPU time per token when both have it (steady on a shared machine), else wall time.
        bool cpu = t.DecodeCpuMsPerToken is not null && s.DecodeCpuMsPerToken is not null;
        double? MsPerToken(ModelScores m) => cpu ? m.DecodeCpuMsPerToken : m.DecodeMsPerToken;
        double? msT = MsPerToken(t), msS = MsPerToken(s);
        bool downstream = run.IsStageDone(DownstreamResult.Stage);
        var h = new JsonObject
        {
            ["teacher"] = teacherName, ["accuracy_retained"] = Math.Round(accS / accT, 4), ["memory_saved"] = Math.Round(1 - bytesS / bytesT, 4),
            ["params_teacher"] = t.Params, ["params_student"] = s.Params,
            ["inference_time_ratio"] = msT is > 0 && msS is double ms ? Math.Round(ms / msT.Value, 4) : null,
            ["inference_time_basis"] = cpu ? "cpu" : "wall",
            ["teacher_accuracy"] = Math.Round(accT, 4), ["student_accuracy"] = Math.Round(accS, 4),
            ["student_after_downstream_distillation"] = downstream,
        };
        double bleuT = t.MeanBleu, bleuS = s.MeanBleu;
        h["teacher_bleu"] = double.IsFinite(bleuT) ? Math.Round(bleuT, 3) : null;
        h["student_bleu"] = double.IsFinite(bleuS) ? Math.Round(bleuS, 3) : null;
        h["bleu_retained"] = bleuT > 0 && double.IsFinite(bleuS) ? Math.Round(bleuS / bleuT, 4) : null;
        string? int8Text = null;
        if (eval.GetValueOrDefault("student-int8") is { } q && MsPerToken(q) is double msQ && msQ > 0 && msT is > 0 && double.IsFinite(q.MeanBleu) && double.IsFinite(bleuS))
        {
            double bleuQ = q.MeanBleu;
            h["student_int8_time_ratio"] = Math.Round(msQ / msT.Value, 4);
            h["student_int8_speedup"] = Math.Round(msT.Value / msQ, 3);
            h["student_int8_bleu"] = Math.Round(bleuQ, 3);
            h["student_int8_bleu_lost"] = Math.Round(bleuS - bleuQ, 3);
            int8Text = $"With its weights in int8 (student-int8) it decodes {N(msT.Value / msQ, "0.00")}× as fast as the teacher ({N(msQ, "0.000")} {(cpu ? "CPU ms" : "ms")}/token) " +
                       $"at a mean BLEU of {N(bleuQ, "0.00")} ({N(bleuS - bleuQ, "0.00")} below the fp32 student).";
        }
        report.Numbers["headline"] = h;
        report.Section("Headline")
            .Text($"The student{(downstream ? " (after downstream distillation)" : "")} keeps {Pct(accS / accT)}% of the teacher's translation accuracy ({Pct(accS)}% vs {Pct(accT)}%, mean of both directions, test split) " +
                  $"with {Pct(1 - bytesS / bytesT)}% less memory for weights ({N(s.Params, "N0")} vs {N(t.Params, "N0")} parameters)" +
                  (h["inference_time_ratio"] is { } r ? $"; a generated token takes {Pct((double)r)}% of the teacher's time ({N(msS, "0.000")} vs {N(msT, "0.000")} {(cpu ? "CPU ms" : "ms")})." : ".") +
                  (bleuT > 0 && double.IsFinite(bleuS) ? $" It keeps {Pct(bleuS / bleuT)}% of the teacher's BLEU (mean of both directions: {N(bleuS, "0.00")} vs {N(bleuT, "0.00")})." : "") +
                  (int8Text is null ? "" : " " + int8Text))
            .Text(PaperNumbers.HeadlineText);
    }

    static void Figure3(Report report, ParallelResult par, string again)
    {
        report.Numbers["figure3"] = StageJson.ToJson(par);
        var rows = par.Rows ?? [];
        if (rows.Count == 0) return;
        var s = report.Section("Parallel training: time per epoch vs batch size (Figure 3)");
        s.Text($"Seconds per optimizer step on this run's teacher configuration and training batches (median of {N(par.TimedSteps, "0")} steps after a warm-up), " +
               $"times the steps of one epoch of {N(par.EpochExamples, "N0")} examples; in-process workers on {N(par.Cores, "0")} cores. " +
               $"Model-parallel = {N(par.PipelineStages, "0")} stages without micro-batching; pipeline = {N(par.PipelineStages, "0")} stages × {N(par.MicroBatches, "0")} micro-batches (1F1B); data-parallel = 2 replicas. " +
               "Stage utilisation = the stages' busy (forward + backward) seconds / (K × wall seconds), beside the ideal M/(M+K−1).");
        s.Table(new ReportTable("Time per epoch", ["mode", "batch", "K", "M", "D", "s/step", "s/epoch", "tokens/s", "stage utilisation (ideal)"],
            rows.Select(r => (IReadOnlyList<string>)[r.Mode, N(r.Batch, "0"), N(r.Stages, "0"), N(r.MicroBatches, "0"), N(r.Replicas, "0"),
                N(r.StepSeconds, "0.000"), N(r.EpochSeconds, "0.0"), N(r.TokensPerS, "N0"),
                r.Utilisation is null ? "" : $"{N(r.Utilisation, "0.00")} ({N(r.IdealEfficiency, "0.00")})"]).ToArray()));
        var series = rows.GroupBy(r => r.Mode).Select(g => new ChartSeries(g.Key, g.Select(r => ((double)r.Batch, r.EpochSeconds)).ToArray())).ToArray();
        s.Figure(new ReportFigure("figure3.svg", "Figure 3: training time per epoch vs batch size",
            Chart.Line("Figure 3: time per epoch vs batch size", "batch size (sequences)", "seconds per epoch", series, logX: true)));
        s.Text(PaperNumbers.Figure3Text);
        s.Command($"{again} --redo parallel");
    }

    static void Figure6(Report report, HybridResult hybrid, IReadOnlyDictionary<string, ModelScores> eval, string again)
    {
        var variants = new (string Label, string Model)[] { ("high-resource fine-tuning", "teacher-source_only"), ("low-resource fine-tuning", "teacher-target_only"), ("hybrid fine-tuning", "teacher-hybrid") };
        if (variants.Any(v => !eval.ContainsKey(v.Model))) return;
        string hi = hybrid.SourceDirection ?? "en-zh", lo = hybrid.TargetDirection ?? "zh-en";
        var groups = new[] { ($"high-resource set ({hi})", hi), ($"low-resource set ({lo})", lo) }
            .Select(g => new BarGroup(g.Item1, variants.Select(v => 100 * eval[v.Model].In(Directions.Parse(g.Item2))!.TranslationAccuracy!.Value).ToArray())).ToArray();
        report.Numbers["figure6"] = new JsonObject(groups.Select(g => KeyValuePair.Create(g.Category,
            (JsonNode?)new JsonObject(variants.Select((v, i) => KeyValuePair.Create(v.Label, (JsonNode?)Math.Round(g.Values[i], 2)))))));
        var s = report.Section("High- vs low-resource vs hybrid fine-tuning (Figure 6)");
        s.Text($"The three fine-tuned teachers of the hybrid stage on the test split: the plentiful direction {hi} is our high-resource set (D_s), the scarce direction {lo} our low-resource set (D_d). " +
               "Translation accuracy = teacher-forced target-token accuracy (%).");
        s.Table(new ReportTable("Translation accuracy (%)", ["set", .. variants.Select(v => v.Label)],
            groups.Select(g => (IReadOnlyList<string>)[g.Category, .. g.Values.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture))]).ToArray()));
        s.Figure(new ReportFigure("figure6.svg", "Figure 6: high-resource vs low-resource vs hybrid fine-tuning",
            Chart.Bars("Figure 6: translation accuracy by fine-tuning data", "translation accuracy (%)", variants.Select(v => v.Label).ToArray(), groups)));
        s.Text(PaperNumbers.Figure6Text);
        s.Command($"{again} --redo hybrid");
    }

    /// <summary>Tables 2 and 3: student/teacher translation accuracy (%) with English = the direction into English (zh→en),
    /// Chinese = into Chinese (en→zh), and the paper's row beside each.</summary>
    static void AccuracyTable(Report report, string key, string title, CompressionTable table, IReadOnlyDictionary<string, ModelScores> eval,
        IReadOnlyDictionary<string, PaperAccuracyRow> paper, string setting, string command)
    {
        string teacherName = table.Teacher;
        if (eval.GetValueOrDefault(teacherName) is not { } t) return;
        var rows = new List<IReadOnlyList<string>>();
        var json = new JsonObject();
        foreach (var (method, modelName) in table.Rows)
        {
            if (eval.GetValueOrDefault(modelName) is not { } s) continue;
            double sEn = Acc(s, Direction.ZhToEn), tEn = Acc(t, Direction.ZhToEn), sZh = Acc(s, Direction.EnToZh), tZh = Acc(t, Direction.EnToZh);
            var p = paper.GetValueOrDefault(method);
            rows.Add([MethodLabel(method), $"{Pct(sEn)}/{Pct(tEn)}", $"{Pct(sZh)}/{Pct(tZh)}",
                $"{Pct((sEn + sZh) / 2)}/{Pct((tEn + tZh) / 2)}", p?.Row ?? "–", p?.En ?? "–", p?.Zh ?? "–", p?.Avg ?? "–"]);
            json[method] = new JsonObject
            {
                ["student"] = modelName, ["teacher"] = teacherName,
                ["english"] = new JsonArray(Math.Round(100 * sEn, 2), Math.Round(100 * tEn, 2)),
                ["chinese"] = new JsonArray(Math.Round(100 * sZh, 2), Math.Round(100 * tZh, 2)),
                ["avg"] = new JsonArray(Math.Round(50 * (sEn + sZh), 2), Math.Round(50 * (tEn + tZh), 2)),
                ["paper"] = p is null ? null : new JsonObject { ["row"] = p.Row, ["english"] = p.En, ["chinese"] = p.Zh, ["avg"] = p.Avg },
            };
        }
        if (rows.Count == 0) return;
        report.Numbers[key] = json;
        report.Section(title)
            .Text(setting + $" Teacher: {teacherName}. Cells are student/teacher translation accuracy (%), teacher-forced target-token accuracy on the test split; " +
                  "English = translating into English (zh→en), Chinese = into Chinese (en→zh). The paper's rows (its data and models, not ours) are beside ours.")
            .Table(new ReportTable("Student/teacher translation accuracy (%)", ["student/teacher", "English", "Chinese", "AVG", "paper row", "paper English", "paper Chinese", "paper AVG"], rows))
            .Command(command);
    }

    static string MethodLabel(string method) =>
        method == "downstream" ? "LightChatGLM (ours) + downstream distillation (Eq. 13)" : CompressionMethods.Labels.GetValueOrDefault(method, method);

    /// <summary>The student before and after downstream distillation: dev losses from the stage, test metrics from eval (when it ran).</summary>
    static void Downstream(Report report, DownstreamResult down, IReadOnlyDictionary<string, ModelScores>? eval, string again)
    {
        string before = down.From, dir = down.TargetDirection ?? "zh-en";
        var sides = new (string Label, string Model, double? TargetDevLoss, double? DevLoss)[]
        {
            ("before (compression)", before, down.TargetDevLossBefore, down.DevLossBefore), ("after (downstream)", "student", down.TargetDevLossAfter, down.DevLossAfter),
        };
        DirectionScores? Test(string model, Direction d) => eval?.GetValueOrDefault(model)?.In(d);
        JsonObject Side((string Label, string Model, double? TargetDevLoss, double? DevLoss) x) => new()
        {
            ["model"] = x.Model, ["target_dev_loss"] = x.TargetDevLoss, ["dev_loss"] = x.DevLoss,
            ["test"] = eval?.ContainsKey(x.Model) == true ? new JsonObject(Directions.Both.Select(d => KeyValuePair.Create(d.Name(), (JsonNode?)new JsonObject
            {
                ["translation_accuracy"] = Test(x.Model, d)?.TranslationAccuracy, ["bleu"] = Test(x.Model, d)?.Bleu, ["chrf"] = Test(x.Model, d)?.Chrf,
            }))) : null,
        };
        report.Numbers["downstream"] = new JsonObject
        {
            ["lambda"] = down.Lambda, ["lambda_weighs"] = down.LambdaWeighs, ["temperature"] = down.Temperature,
            ["steps"] = down.Steps, ["n_target"] = down.NTarget, ["target_direction"] = dir,
            ["train_seconds"] = down.TrainSeconds, ["teacher_cache"] = StageJson.ToNode(down.TeacherCache),
            ["before"] = Side(sides[0]), ["after"] = Side(sides[1]), ["curve"] = StageJson.ToNode(down.Curve),
        };
        var s = report.Section("Downstream distillation (Eq. 13)");
        s.Text($"The compressed student ({before}/) distilled {N(down.Steps, "0")} more steps on D_d, the {N(down.NTarget, "0")} {dir} sequences of the hybrid split, " +
               $"by the hybrid teacher: each target token costs {N(down.SoftWeight, "0.###")}·τ²·KL(p_teacher‖p_student) + {N(down.HardWeight, "0.###")}·CE(label) " +
               $"(λ = {N(down.Lambda, "0.###")} on the {down.LambdaWeighs}'s term, τ = {N(down.Temperature, "0.##")}; docs/HYBRID.md). " +
               $"The teacher's outputs (top-{N(down.TopK, "0")} logits) were computed once into a cache of {N(down.TeacherCache?.Bytes / 1e6, "0.0")} MB. " +
               "The result is student/, the run's final student (Headline, Table 3's last row, Table 5); the student it started from is kept and evaluated beside it. " +
               $"Dev losses are hard-label cross-entropy on the dev split ({dir} only, and both directions — the set of Figure 4's curve); test columns from the eval stage.");
        s.Table(new ReportTable("Student before and after downstream distillation",
            ["student", "model", $"dev loss {dir}", "dev loss (both)", "acc en→zh", "acc zh→en", "BLEU en→zh", "BLEU zh→en", "chrF en→zh", "chrF zh→en"],
            sides.Select(x => (IReadOnlyList<string>)[x.Label, x.Model, N(x.TargetDevLoss, "0.000"), N(x.DevLoss, "0.000"),
                Pct(Test(x.Model, Direction.EnToZh)?.TranslationAccuracy), Pct(Test(x.Model, Direction.ZhToEn)?.TranslationAccuracy),
                N(Test(x.Model, Direction.EnToZh)?.Bleu), N(Test(x.Model, Direction.ZhToEn)?.Bleu),
                N(Test(x.Model, Direction.EnToZh)?.Chrf), N(Test(x.Model, Direction.ZhToEn)?.Chrf)]).ToArray()));
        s.Figure(new ReportFigure("downstream.svg", "Downstream distillation: target-direction dev loss over steps",
            Chart.Line($"Downstream distillation: {dir} dev loss", "step", "dev loss", [LossCurve.Series($"{dir} dev loss", down.Curve)])));
        s.Command($"{again} --redo downstream");
    }

    static void Table4(Report report, RunDirectory run, EvalResult evalResult, string again)
    {
        report.Numbers["eval"] = StageJson.ToJson(evalResult);
        var eval = evalResult.Models;
        long? QuantizedBytes(string name) => run.Result<CompressedModel>($"{CompressionResult.Stage}.{name}")?.QuantizedBytes;
        long? quantized = QuantizedBytes("teacher-int8");
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (name, m) in eval)
        {
            // int8 rows scored on the engine's int8 kernels carry their weight format, size and speed; a run scored before
            // that ran them dequantized on fp32 kernels: its size is the int8 layout's and it has no int8 speed.
            bool served = m.Weights is "int8" or "int4";
            bool dequantized = !served && name.StartsWith("teacher-int8", StringComparison.Ordinal);
            double? bytes = served ? m.WeightBytes ?? QuantizedBytes(name) ?? quantized
                : dequantized ? QuantizedBytes(name) ?? quantized : m.CheckpointBytes;
            rows.Add([name, N(m.Params, "N0"), N(bytes / 1e6, "0.00"),
                N(m.EnZh?.Bleu), N(m.ZhEn?.Bleu), N(m.EnZh?.Chrf), N(m.ZhEn?.Chrf),
                Pct(m.EnZh?.TranslationAccuracy), Pct(m.ZhEn?.TranslationAccuracy),
                dequantized ? "fp32 kernels" : N(m.DecodeMsPerToken, "0.00"), N(m.DecodeCpuMsPerToken, "0.000")]);
        }
        string levels = eval.Any(kv => kv.Key.StartsWith("student-h", StringComparison.Ordinal))
            ? " student-hX rows: the mixed student pruned to hidden ratio X (compression.levels) with the student's other ratios, importance and " +
              "distillation steps, before downstream distillation — compare them with student-compressed (Table 4 at several compression levels)."
            : "";
        report.Section("Models on the test split: size, quality, speed (Table 4)")
            .Text($"{N(evalResult.Sentences, "0")} test sentences per direction, greedy decoding, batch 1. ms/token = decoding speed at batch 1 on one thread, a fixed prompt and 64 forced tokens through one engine session, best of 5 (the machine is shared; the headline compares the thread's CPU time). BLEU with sacreBLEU's zh tokenizer for en→zh and 13a for zh→en; " +
                  "accuracy = teacher-forced target-token accuracy (%) (docs/TRANSLATION.md). INT8 rows (teacher-int8: the teacher's weights; student-int8: the final student's) " +
                  "are translated, scored and timed on the engine's weight-only int8 kernels (groups of 32); MB is the weights inference holds (linear maps and LM head int8 + " +
                  "a scale per 32, embeddings and norms fp32). CPU ms = the decoding thread's CPU time per token, which the neighbours on a shared machine do not inflate." + levels)
            .Table(new ReportTable("Size, quality and speed", ["model", "params", "MB", "BLEU en→zh", "BLEU zh→en", "chrF en→zh", "chrF zh→en", "acc en→zh", "acc zh→en", "ms/token", "CPU ms/token"], rows))
            .Command($"{again} --redo eval");
    }

    /// <summary>The models of eval.unseen_models on the held-out packages, beside their test-split scores.</summary>
    static void UnseenPackages(Report report, IReadOnlyDictionary<string, ModelScores> eval, UnseenEval unseen, string again)
    {
        var rows = new List<IReadOnlyList<string>>();
        var numbers = new JsonObject();
        foreach (var (name, u) in unseen.Models)
        {
            var t = eval.GetValueOrDefault(name);
            rows.Add([name, N(t?.EnZh?.Bleu), N(u.EnZh?.Bleu), N(t?.ZhEn?.Bleu), N(u.ZhEn?.Bleu), N(u.EnZh?.Chrf), N(u.ZhEn?.Chrf)]);
            numbers[name] = new JsonObject
            {
                ["test_bleu_en_zh"] = t?.EnZh?.Bleu, ["unseen_bleu_en_zh"] = u.EnZh?.Bleu,
                ["test_bleu_zh_en"] = t?.ZhEn?.Bleu, ["unseen_bleu_zh_en"] = u.ZhEn?.Bleu,
            };
        }
        var packages = unseen.Packages ?? [];
        report.Numbers["unseen"] = new JsonObject
        {
            ["packages"] = new JsonArray(packages.Select(p => (JsonNode?)p).ToArray()), ["sentences"] = unseen.Sentences, ["models"] = numbers,
        };
        report.Section("Models on unseen packages")
            .Text($"{N(unseen.Sentences, "0")} sentences per direction from packages held out of train, dev and test " +
                  $"({string.Join(", ", packages)}; pairs whose English is in train removed): " +
                  "how the models translate software they never saw, beside the hash-split test set (same decoding and BLEU).")
            .Table(new ReportTable("Test split vs unseen packages", ["model", "BLEU en→zh test", "BLEU en→zh unseen", "BLEU zh→en test", "BLEU zh→en unseen", "chrF en→zh unseen", "chrF zh→en unseen"], rows))
            .Command($"{again} --redo eval");
    }

    /// <summary>Table 5 composed from this run's measurements (see <see cref="AblationTable"/>); `experiment ablation` runs the eight rows separately.</summary>
    static void Table5(Report report, RunDirectory run, IReadOnlyDictionary<string, ModelScores>? eval)
    {
        string measured = run.PathOf("ablation", "ablation.json");
        var saved = File.Exists(measured) ? StageJson.Read<AblationFile>(JsonNode.Parse(File.ReadAllText(measured))!, measured) : null;
        var table = saved is not null
            ? AblationTable.FromFile(saved, $"From `experiment ablation` (its rows and report: {Path.GetDirectoryName(measured)}). " + saved.Note)
            : AblationTable.FromRun(run, eval);
        if (table is null) return;
        report.Numbers["table5"] = table.ToJson();
        var s = report.Section("Ablation (Table 5)");
        s.Text(table.Note);
        s.Table(table.ToReportTable());
        s.Text(PaperNumbers.Table5Text);
        s.Command($"./lightglm experiment ablation {Path.Combine(run.Root, "config.json")}");
    }

    static string Used(int? available, int? cap) =>
        available is not int n ? "–" : (cap is int c && c > 0 ? Math.Min(c, n) : n).ToString("0", CultureInfo.InvariantCulture);

    static double Acc(ModelScores m, Direction d) => m.In(d)?.TranslationAccuracy ?? double.NaN;

    static JsonObject Without(JsonObject o, params string[] keys)
    {
        var copy = (JsonObject)o.DeepClone();
        foreach (var k in keys) copy.Remove(k);
        return copy;
    }
}
