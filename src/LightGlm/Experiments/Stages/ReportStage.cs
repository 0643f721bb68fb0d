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

    internal static string N(JsonNode? n, string fmt = "0.##") => n is null ? "–" : N(JsonNumber.ToDouble(n), fmt);
    internal static string N(double? v, string fmt = "0.##") => v is double x && double.IsFinite(x) ? x.ToString(fmt, CultureInfo.InvariantCulture) : "–";
    internal static string Pct(double? v) => v is double x && double.IsFinite(x) ? (100 * x).ToString("0.0", CultureInfo.InvariantCulture) : "–";

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
        string cfg = Path.Combine(run.Root, "config.json");
        string again = $"./lightglm run {cfg} --run-dir {run.Root}";
        var eval = run.StageResult("eval")?["models"] as JsonObject;
        var recipe = run.Recipe();
        var overview = report.Section("How this run was made");
        overview.Text("Every number below was measured in this run on this machine (machine.json: a shared 2-core CPU, so timings are noisy); " +
                      "the recipe with every setting is config.json. Continue an interrupted run, or run the same recipe again, with:");
        overview.Command(again);
        overview.Text("Each section ends with the command that makes its table or figure again from this run's earlier stages (--redo STAGE forgets that stage and the ones after it).");
        Headline(report, run, eval);

        if (run.StageResult("corpus") is { } corpus)
        {
            numbers["corpus"] = new JsonObject
            {
                ["train_pairs"] = corpus["train_pairs"]?.DeepClone(), ["dev_pairs"] = corpus["dev_pairs"]?.DeepClone(), ["test_pairs"] = corpus["test_pairs"]?.DeepClone(),
                ["unseen_pairs"] = corpus["unseen_pairs"]?.DeepClone(),
            };
            List<IReadOnlyList<string>> splitRows =
                [["train", N(corpus["train_pairs"], "0"), Used(corpus["train_pairs"], recipe?.Settings.Corpus.MaxTrainPairs)],
                 ["dev", N(corpus["dev_pairs"], "0"), Used(corpus["dev_pairs"], recipe?.Settings.Corpus.MaxEvalPairs)],
                 ["test", N(corpus["test_pairs"], "0"), Used(corpus["test_pairs"], recipe?.Settings.Eval.MaxSentences)]];
            if ((int?)corpus["unseen_pairs"] is > 0)
                splitRows.Add([$"unseen ({string.Join(", ", recipe?.Settings.Corpus.HoldoutPackages ?? [])})", N(corpus["unseen_pairs"], "0"),
                               Used(corpus["unseen_pairs"], recipe?.Settings.Eval.MaxSentences)]);
            report.Section("Data (Table 1)")
                .Text("English↔Chinese pairs from the zh_CN message catalogs of the pinned Debian packages, cleaned and split by a hash of the English (no English string in two splits). " +
                      "The paper's corpora use 90/5/5 or 80/10/10 splits (Table 1); this run's ratios are corpus.split in config.json. " +
                      "unseen = the pairs of whole packages held out of all three (corpus.holdout_packages) whose English is not in train: software the model never saw.")
                .Table(new ReportTable("Corpus splits", ["split", "pairs", "used by this recipe"], splitRows))
                .Command($"{again} --redo corpus");
        }
        if (run.StageResult("teacher") is { } teacher)
        {
            numbers["teacher"] = Without(teacher, "curve", "valid_curve");
            var s = report.Section("Teacher training");
            s.Table(new ReportTable("Teacher", ["parameters", "tokens/s", "train seconds", "final train loss", "dev loss"],
                [[N(teacher["params"], "N0"), N(teacher["tokens_per_s"], "N0"), N(teacher["train_seconds"], "0.0"), N(teacher["final_loss"], "0.000"), N(teacher["valid_loss"], "0.000")]]));
            var series = new List<ChartSeries> { Curve("train", teacher["curve"]) };
            if (teacher["valid_curve"] is JsonArray { Count: > 0 }) series.Add(Curve("dev", teacher["valid_curve"]));
            s.Figure(new ReportFigure("teacher-loss.svg", "Teacher loss over steps", Chart.Line("Teacher loss", "step", "loss", series)));
            if (teacher["learning_curve"] is JsonArray { Count: > 0 } lc)
            {
                // BLEU against training CPU-minutes: what another hour of this machine buys (docs/QUALITY.md).
                var pts = lc.OfType<JsonObject>().Where(p => p["cpu_s"] is not null).ToList();
                var bleu = new List<ChartSeries>();
                foreach (var (key, label) in new[] { ("bleu_dev_en_zh", "dev en→zh"), ("bleu_dev_zh_en", "dev zh→en"), ("bleu_unseen_en_zh", "unseen packages en→zh") })
                {
                    var xy = pts.Where(p => p[key] is not null).Select(p => ((double)p["cpu_s"]! / 60, (double)p[key]!)).ToList();
                    if (xy.Count > 0) bleu.Add(new ChartSeries(label, xy));
                }
                if (bleu.Count > 0)
                    s.Figure(new ReportFigure("learning-curve.svg", "Teacher BLEU against training CPU-minutes (greedy, first teacher.curve_pairs pairs)",
                        Chart.Line("Teacher learning curve", "training CPU-minutes", "BLEU", bleu)));
                s.Table(new ReportTable("Learning curve", ["step", "CPU-min", "non-pad tokens", "dev loss", "BLEU dev en→zh", "BLEU dev zh→en", "BLEU unseen en→zh"],
                    lc.OfType<JsonObject>().Select(p => new[] { N(p["step"], "0"), p["cpu_s"] is { } cs ? N((double)cs / 60, "0.0") : "–",
                        N(p["real_tokens"], "N0"), N(p["valid_loss"], "0.000"), N(p["bleu_dev_en_zh"], "0.0"), N(p["bleu_dev_zh_en"], "0.0"), N(p["bleu_unseen_en_zh"], "0.0") }).ToList()));
            }
            s.Command($"{again} --redo teacher");
        }
        if (run.StageResult("parallel") is { } par) Figure3(report, par, again);
        if (run.StageResult("compression") is { } comp && comp["figure4"] is JsonObject f4 && f4.Any(kv => kv.Value is JsonArray))
        {
            numbers["figure4"] = f4.DeepClone();
            var s = report.Section("Mixed compression vs random pruning (Figure 4)");
            s.Text($"Teacher {N(comp["teacher_params"], "N0")} parameters; importance '{comp["importance"]}'. Both students have the same shape and get the same distillation steps; " +
                   "the curve is the hard-label loss on the dev split. Paper: mixed compression converges faster and lower than random pruning.");
            s.Figure(new ReportFigure("figure4.svg", "Figure 4: validation loss over distillation steps",
                Chart.Line("Figure 4: validation loss while distilling", "step", "validation loss",
                    f4.Where(kv => kv.Value is JsonArray).Select(kv => Curve(kv.Key == "student" ? "mixed compression" : "random pruning", kv.Value)).ToArray())));
            s.Command($"{again} --redo compression");
        }
        if (run.StageResult("hybrid") is { } hybrid && hybrid["figure5"] is JsonObject f5)
        {
            numbers["figure5"] = f5.DeepClone();
            var names = f5.Select(kv => kv.Key).ToArray();
            var s = report.Section("Hybrid-data fine-tuning (Figure 5)");
            s.Text($"D_s = {hybrid["source_direction"]} ({N(hybrid["n_s"], "0")} examples), D_d = {hybrid["target_direction"]} ({N(hybrid["n_d"], "0")} examples), α = {N(hybrid["alpha"], "0.###")}. " +
                   "Loss on the target direction of the dev split after the same number of steps (lower is better). Paper: source-only is worst; target and hybrid fine-tuning are better.");
            if (f5["hybrid"] is JsonObject hy && f5["source_only"] is JsonObject so)
            {
                // The paper's claim, as measured here: said either way, never assumed (issue 7).
                double h = (double)hy["target_dev_loss"]!, o = (double)so["target_dev_loss"]!;
                numbers["hybrid_beats_source_only"] = h < o;
                s.Text($"On this data hybrid fine-tuning {(h < o ? "beats" : "does not beat")} source-only fine-tuning on the target direction " +
                       $"({hybrid["target_direction"]} dev loss {N(h, "0.0000")} vs {N(o, "0.0000")}).");
            }
            s.Table(new ReportTable("Target-direction dev loss", ["fine-tuning", "dev loss"], names.Select(n => (IReadOnlyList<string>)[n, N(f5[n]!["target_dev_loss"], "0.000")]).ToArray()));
            s.Figure(new ReportFigure("figure5.svg", "Figure 5: source-only vs target-only vs hybrid fine-tuning",
                Chart.Bars("Figure 5: target-direction dev loss", "dev loss", ["dev loss"],
                    names.Select(n => new BarGroup(n, [(double)f5[n]!["target_dev_loss"]!])).ToArray())));
            s.Command($"{again} --redo hybrid");
            if (eval is not null) Figure6(report, hybrid, eval, again);
        }
        if (run.StageResult("compression")?["tables"] is JsonObject tables && eval is not null)
        {
            if (tables["no_target"] is JsonObject t2)
                AccuracyTable(report, "table2", "Without target data (Table 2)", t2, eval, PaperNumbers.Table2,
                    "The teacher fine-tuned on D_s only (no target-direction data) and students distilled on D_s only.", $"{again} --redo compression");
            if (tables["mixed"] is JsonObject t3)
            {
                // After downstream distillation the final student gets its own row, right after the student it started from;
                // the paper's LightChatGLM row (the whole method) sits beside the final one.
                var down = run.StageResult("downstream");
                var paper3 = PaperNumbers.Table3;
                if (down is not null && eval["student"] is not null && t3["rows"] is JsonObject rows3)
                {
                    var withDown = new JsonObject();
                    foreach (var (method, model) in rows3)
                    {
                        withDown[method] = model?.DeepClone();
                        if (method == "student") withDown["downstream"] = "student";
                    }
                    t3 = (JsonObject)t3.DeepClone();
                    t3["rows"] = withDown;
                    paper3 = paper3.Where(kv => kv.Key != "student").Append(KeyValuePair.Create("downstream", paper3["student"])).ToDictionary();
                }
                AccuracyTable(report, "table3", "With hybrid data (Table 3)", t3, eval, paper3,
                    "The hybrid fine-tuned teacher and students distilled with soft labels on D_s and hard labels on D_d (Algorithm 2)" +
                    (down is null ? "." : "; the last LightChatGLM row is that student after downstream distillation on D_d (Eq. 13)."),
                    $"{again} --redo compression");
            }
        }
        if (run.StageResult("downstream") is { } downstream) Downstream(report, downstream, eval, again);
        if (eval is not null) Table4(report, run, eval, again);
        if (eval is not null && run.StageResult("eval")?["unseen"] is JsonObject unseen) UnseenPackages(report, eval, unseen, again);
        Table5(report, run, eval);
        return report;
    }

    static void Headline(Report report, RunDirectory run, JsonObject? eval)
    {
        string teacherName = eval?.ContainsKey("teacher-hybrid") == true ? "teacher-hybrid" : "teacher";
        if (eval?[teacherName] is not JsonObject t || eval["student"] is not JsonObject s) return;
        double accT = AvgAccuracy(t), accS = AvgAccuracy(s);
        double bytesT = (double)t["checkpoint_bytes"]!, bytesS = (double)s["checkpoint_bytes"]!;
        // The time ratio from CPU time per token when both have it (steady on a shared machine), else wall time.
        bool cpu = t["decode_cpu_ms_per_token"] is not null && s["decode_cpu_ms_per_token"] is not null;
        string key = cpu ? "decode_cpu_ms_per_token" : "decode_ms_per_token";
        double? msT = (double?)t[key], msS = (double?)s[key];
        var h = new JsonObject
        {
            ["teacher"] = teacherName, ["accuracy_retained"] = Math.Round(accS / accT, 4), ["memory_saved"] = Math.Round(1 - bytesS / bytesT, 4),
            ["params_teacher"] = t["params"]?.DeepClone(), ["params_student"] = s["params"]?.DeepClone(),
            ["inference_time_ratio"] = msT is > 0 && msS is double ms ? Math.Round(ms / msT.Value, 4) : null,
            ["inference_time_basis"] = cpu ? "cpu" : "wall",
            ["teacher_accuracy"] = Math.Round(accT, 4), ["student_accuracy"] = Math.Round(accS, 4),
            ["student_after_downstream_distillation"] = run.StageResult("downstream") is not null,
        };
        double bleuT = AvgBleu(t), bleuS = AvgBleu(s);
        h["teacher_bleu"] = double.IsFinite(bleuT) ? Math.Round(bleuT, 3) : null;
        h["student_bleu"] = double.IsFinite(bleuS) ? Math.Round(bleuS, 3) : null;
        h["bleu_retained"] = bleuT > 0 && double.IsFinite(bleuS) ? Math.Round(bleuS / bleuT, 4) : null;
        string? int8Text = null;
        if (eval["student-int8"] is JsonObject q && (double?)q[key] is double msQ && msQ > 0 && msT is > 0 && double.IsFinite(AvgBleu(q)) && double.IsFinite(bleuS))
        {
            double bleuQ = AvgBleu(q);
            h["student_int8_time_ratio"] = Math.Round(msQ / msT.Value, 4);
            h["student_int8_speedup"] = Math.Round(msT.Value / msQ, 3);
            h["student_int8_bleu"] = Math.Round(bleuQ, 3);
            h["student_int8_bleu_lost"] = Math.Round(bleuS - bleuQ, 3);
            int8Text = $"With its weights in int8 (student-int8) it decodes {N(msT.Value / msQ, "0.00")}× as fast as the teacher ({N(msQ, "0.000")} {(cpu ? "CPU ms" : "ms")}/token) " +
                       $"at a mean BLEU of {N(bleuQ, "0.00")} ({N(bleuS - bleuQ, "0.00")} below the fp32 student).";
        }
        report.Numbers["headline"] = h;
        report.Section("Headline")
            .Text($"The student{(run.StageResult("downstream") is null ? "" : " (after downstream distillation)")} keeps {Pct(accS / accT)}% of the teacher's translation accuracy ({Pct(accS)}% vs {Pct(accT)}%, mean of both directions, test split) " +
                  $"with {Pct(1 - bytesS / bytesT)}% less memory for weights ({N(s["params"], "N0")} vs {N(t["params"], "N0")} parameters)" +
                  (h["inference_time_ratio"] is { } r ? $"; a generated token takes {Pct((double)r)}% of the teacher's time ({N(msS, "0.000")} vs {N(msT, "0.000")} {(cpu ? "CPU ms" : "ms")})." : ".") +
                  (bleuT > 0 && double.IsFinite(bleuS) ? $" It keeps {Pct(bleuS / bleuT)}% of the teacher's BLEU (mean of both directions: {N(bleuS, "0.00")} vs {N(bleuT, "0.00")})." : "") +
                  (int8Text is null ? "" : " " + int8Text))
            .Text(PaperNumbers.HeadlineText);
    }

    static void Figure3(Report report, JsonObject par, string again)
    {
        report.Numbers["figure3"] = par.DeepClone();
        var rows = (par["rows"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (rows.Count == 0) return;
        var s = report.Section("Parallel training: time per epoch vs batch size (Figure 3)");
        s.Text($"Seconds per optimizer step on this run's teacher configuration and training batches (median of {N(par["timed_steps"], "0")} steps after a warm-up), " +
               $"times the steps of one epoch of {N(par["epoch_examples"], "N0")} examples; in-process workers on {N(par["cores"], "0")} cores. " +
               $"Model-parallel = {N(par["pipeline_stages"], "0")} stages without micro-batching; pipeline = {N(par["pipeline_stages"], "0")} stages × {N(par["micro_batches"], "0")} micro-batches (1F1B); data-parallel = 2 replicas. " +
               "Stage utilisation = the stages' busy (forward + backward) seconds / (K × wall seconds), beside the ideal M/(M+K−1).");
        s.Table(new ReportTable("Time per epoch", ["mode", "batch", "K", "M", "D", "s/step", "s/epoch", "tokens/s", "stage utilisation (ideal)"],
            rows.Select(r => (IReadOnlyList<string>)[(string)r["mode"]!, N(r["batch"], "0"), N(r["stages"], "0"), N(r["micro_batches"], "0"), N(r["replicas"], "0"),
                N(r["step_seconds"], "0.000"), N(r["epoch_seconds"], "0.0"), N(r["tokens_per_s"], "N0"),
                r["utilisation"] is null ? "" : $"{N(r["utilisation"], "0.00")} ({N(r["ideal_efficiency"], "0.00")})"]).ToArray()));
        var series = rows.GroupBy(r => (string)r["mode"]!).Select(g => new ChartSeries(g.Key, g.Select(r => ((double)r["batch"]!, (double)r["epoch_seconds"]!)).ToArray())).ToArray();
        s.Figure(new ReportFigure("figure3.svg", "Figure 3: training time per epoch vs batch size",
            Chart.Line("Figure 3: time per epoch vs batch size", "batch size (sequences)", "seconds per epoch", series, logX: true)));
        s.Text(PaperNumbers.Figure3Text);
        s.Command($"{again} --redo parallel");
    }

    static void Figure6(Report report, JsonObject hybrid, JsonObject eval, string again)
    {
        var variants = new (string Label, string Model)[] { ("high-resource fine-tuning", "teacher-source_only"), ("low-resource fine-tuning", "teacher-target_only"), ("hybrid fine-tuning", "teacher-hybrid") };
        if (variants.Any(v => eval[v.Model] is null)) return;
        string hi = (string?)hybrid["source_direction"] ?? "en-zh", lo = (string?)hybrid["target_direction"] ?? "zh-en";
        var groups = new[] { ($"high-resource set ({hi})", hi), ($"low-resource set ({lo})", lo) }
            .Select(g => new BarGroup(g.Item1, variants.Select(v => 100 * (double)eval[v.Model]![g.Item2]!["translation_accuracy"]!).ToArray())).ToArray();
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
    static void AccuracyTable(Report report, string key, string title, JsonObject table, JsonObject eval,
        IReadOnlyDictionary<string, PaperAccuracyRow> paper, string setting, string command)
    {
        string teacherName = (string)table["teacher"]!;
        if (eval[teacherName] is not JsonObject t) return;
        var rows = new List<IReadOnlyList<string>>();
        var json = new JsonObject();
        foreach (var (method, modelName) in (table["rows"] as JsonObject)!)
        {
            if (eval[(string)modelName!] is not JsonObject s) continue;
            double sEn = Acc(s, "zh-en"), tEn = Acc(t, "zh-en"), sZh = Acc(s, "en-zh"), tZh = Acc(t, "en-zh");
            var p = paper.GetValueOrDefault(method);
            rows.Add([MethodLabel(method), $"{Pct(sEn)}/{Pct(tEn)}", $"{Pct(sZh)}/{Pct(tZh)}",
                $"{Pct((sEn + sZh) / 2)}/{Pct((tEn + tZh) / 2)}", p?.Row ?? "–", p?.En ?? "–", p?.Zh ?? "–", p?.Avg ?? "–"]);
            json[method] = new JsonObject
            {
                ["student"] = (string)modelName!, ["teacher"] = teacherName,
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
    static void Downstream(Report report, JsonObject down, JsonObject? eval, string again)
    {
        string before = (string)down["from"]!, dir = (string?)down["target_direction"] ?? "zh-en";
        JsonObject Side(string model, string when) => new()
        {
            ["model"] = model,
            ["target_dev_loss"] = down[$"target_dev_loss_{when}"]?.DeepClone(), ["dev_loss"] = down[$"dev_loss_{when}"]?.DeepClone(),
            ["test"] = eval?[model] is JsonObject m ? new JsonObject(Directions.Both.Select(d => KeyValuePair.Create(d.Name(), (JsonNode?)new JsonObject
            {
                ["translation_accuracy"] = m[d.Name()]?["translation_accuracy"]?.DeepClone(),
                ["bleu"] = m[d.Name()]?["bleu"]?.DeepClone(), ["chrf"] = m[d.Name()]?["chrf"]?.DeepClone(),
            }))) : null,
        };
        var sides = new[] { ("before (compression)", Side(before, "before")), ("after (downstream)", Side("student", "after")) };
        report.Numbers["downstream"] = new JsonObject
        {
            ["lambda"] = down["lambda"]?.DeepClone(), ["lambda_weighs"] = down["lambda_weighs"]?.DeepClone(), ["temperature"] = down["temperature"]?.DeepClone(),
            ["steps"] = down["steps"]?.DeepClone(), ["n_target"] = down["n_target"]?.DeepClone(), ["target_direction"] = dir,
            ["train_seconds"] = down["train_seconds"]?.DeepClone(), ["teacher_cache"] = down["teacher_cache"]?.DeepClone(),
            ["before"] = sides[0].Item2, ["after"] = sides[1].Item2, ["curve"] = down["curve"]?.DeepClone(),
        };
        string Test(JsonObject side, string d, string key, Func<double?, string> f) => f(JsonNumber.OrNull(side["test"]?[d]?[key]));
        var s = report.Section("Downstream distillation (Eq. 13)");
        s.Text($"The compressed student ({before}/) distilled {N(down["steps"], "0")} more steps on D_d, the {N(down["n_target"], "0")} {dir} sequences of the hybrid split, " +
               $"by the hybrid teacher: each target token costs {N(down["soft_weight"], "0.###")}·τ²·KL(p_teacher‖p_student) + {N(down["hard_weight"], "0.###")}·CE(label) " +
               $"(λ = {N(down["lambda"], "0.###")} on the {down["lambda_weighs"]}'s term, τ = {N(down["temperature"], "0.##")}; docs/HYBRID.md). " +
               $"The teacher's outputs (top-{N(down["top_k"], "0")} logits) were computed once into a cache of {N(JsonNumber.OrNull(down["teacher_cache"]?["bytes"]) / 1e6, "0.0")} MB. " +
               "The result is student/, the run's final student (Headline, Table 3's last row, Table 5); the student it started from is kept and evaluated beside it. " +
               $"Dev losses are hard-label cross-entropy on the dev split ({dir} only, and both directions — the set of Figure 4's curve); test columns from the eval stage.");
        s.Table(new ReportTable("Student before and after downstream distillation",
            ["student", "model", $"dev loss {dir}", "dev loss (both)", "acc en→zh", "acc zh→en", "BLEU en→zh", "BLEU zh→en", "chrF en→zh", "chrF zh→en"],
            sides.Select(x => (IReadOnlyList<string>)[x.Item1, (string)x.Item2["model"]!, N(x.Item2["target_dev_loss"], "0.000"), N(x.Item2["dev_loss"], "0.000"),
                Test(x.Item2, "en-zh", "translation_accuracy", Pct), Test(x.Item2, "zh-en", "translation_accuracy", Pct),
                Test(x.Item2, "en-zh", "bleu", v => N(v)), Test(x.Item2, "zh-en", "bleu", v => N(v)),
                Test(x.Item2, "en-zh", "chrf", v => N(v)), Test(x.Item2, "zh-en", "chrf", v => N(v))]).ToArray()));
        s.Figure(new ReportFigure("downstream.svg", "Downstream distillation: target-direction dev loss over steps",
            Chart.Line($"Downstream distillation: {dir} dev loss", "step", "dev loss", [Curve($"{dir} dev loss", down["curve"])])));
        s.Command($"{again} --redo downstream");
    }

    static void Table4(Report report, RunDirectory run, JsonObject eval, string again)
    {
        report.Numbers["eval"] = run.StageResult("eval")!.DeepClone();
        var quantized = run.StageResult("compression.teacher-int8")?["quantized_bytes"];
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (name, m) in eval)
        {
            // int8 rows scored on the engine's int8 kernels carry their weight format, size and speed; a run scored before
            // that ran them dequantized on fp32 kernels: its size is the int8 layout's and it has no int8 speed.
            bool served = (string?)m!["weights"] is "int8" or "int4";
            bool dequantized = !served && name.StartsWith("teacher-int8", StringComparison.Ordinal);
            double? bytes = served ? (double?)m["weight_bytes"] ?? (double?)(run.StageResult($"compression.{name}")?["quantized_bytes"] ?? quantized)
                : dequantized ? (double?)(run.StageResult($"compression.{name}")?["quantized_bytes"] ?? quantized) : (double?)m["checkpoint_bytes"];
            rows.Add([name, N(m["params"], "N0"), N(bytes / 1e6, "0.00"),
                N(m["en-zh"]?["bleu"]), N(m["zh-en"]?["bleu"]), N(m["en-zh"]?["chrf"]), N(m["zh-en"]?["chrf"]),
                Pct((double?)m["en-zh"]?["translation_accuracy"]), Pct((double?)m["zh-en"]?["translation_accuracy"]),
                dequantized ? "fp32 kernels" : N(m["decode_ms_per_token"], "0.00"), N(m["decode_cpu_ms_per_token"], "0.000")]);
        }
        string levels = eval.Any(kv => kv.Key.StartsWith("student-h", StringComparison.Ordinal))
            ? " student-hX rows: the mixed student pruned to hidden ratio X (compression.levels) with the student's other ratios, importance and " +
              "distillation steps, before downstream distillation — compare them with student-compressed (Table 4 at several compression levels)."
            : "";
        report.Section("Models on the test split: size, quality, speed (Table 4)")
            .Text($"{N(run.StageResult("eval")!["sentences"], "0")} test sentences per direction, greedy decoding, batch 1. ms/token = decoding speed at batch 1 on one thread, a fixed prompt and 64 forced tokens through one engine session, best of 5 (the machine is shared; the headline compares the thread's CPU time). BLEU with sacreBLEU's zh tokenizer for en→zh and 13a for zh→en; " +
                  "accuracy = teacher-forced target-token accuracy (%) (docs/TRANSLATION.md). INT8 rows (teacher-int8: the teacher's weights; student-int8: the final student's) " +
                  "are translated, scored and timed on the engine's weight-only int8 kernels (groups of 32); MB is the weights inference holds (linear maps and LM head int8 + " +
                  "a scale per 32, embeddings and norms fp32). CPU ms = the decoding thread's CPU time per token, which the neighbours on a shared machine do not inflate." + levels)
            .Table(new ReportTable("Size, quality and speed", ["model", "params", "MB", "BLEU en→zh", "BLEU zh→en", "chrF en→zh", "chrF zh→en", "acc en→zh", "acc zh→en", "ms/token", "CPU ms/token"], rows))
            .Command($"{again} --redo eval");
    }

    /// <summary>The models of eval.unseen_models on the held-out packages, beside their test-split scores.</summary>
    static void UnseenPackages(Report report, JsonObject eval, JsonObject unseen, string again)
    {
        var rows = new List<IReadOnlyList<string>>();
        var numbers = new JsonObject();
        foreach (var (name, u) in (JsonObject)unseen["models"]!)
        {
            var t = eval[name];
            rows.Add([name, N(t?["en-zh"]?["bleu"]), N(u!["en-zh"]?["bleu"]), N(t?["zh-en"]?["bleu"]), N(u["zh-en"]?["bleu"]),
                      N(u["en-zh"]?["chrf"]), N(u["zh-en"]?["chrf"])]);
            numbers[name] = new JsonObject
            {
                ["test_bleu_en_zh"] = t?["en-zh"]?["bleu"]?.DeepClone(), ["unseen_bleu_en_zh"] = u["en-zh"]?["bleu"]?.DeepClone(),
                ["test_bleu_zh_en"] = t?["zh-en"]?["bleu"]?.DeepClone(), ["unseen_bleu_zh_en"] = u["zh-en"]?["bleu"]?.DeepClone(),
            };
        }
        report.Numbers["unseen"] = new JsonObject { ["packages"] = unseen["packages"]?.DeepClone(), ["sentences"] = unseen["sentences"]?.DeepClone(), ["models"] = numbers };
        report.Section("Models on unseen packages")
            .Text($"{N(unseen["sentences"], "0")} sentences per direction from packages held out of train, dev and test " +
                  $"({string.Join(", ", ((JsonArray?)unseen["packages"] ?? []).Select(p => (string?)p))}; pairs whose English is in train removed): " +
                  "how the models translate software they never saw, beside the hash-split test set (same decoding and BLEU).")
            .Table(new ReportTable("Test split vs unseen packages", ["model", "BLEU en→zh test", "BLEU en→zh unseen", "BLEU zh→en test", "BLEU zh→en unseen", "chrF en→zh unseen", "chrF zh→en unseen"], rows))
            .Command($"{again} --redo eval");
    }

    /// <summary>Table 5 composed from this run's measurements (see <see cref="AblationTable"/>); `experiment ablation` runs the eight rows separately.</summary>
    static void Table5(Report report, RunDirectory run, JsonObject? eval)
    {
        string measured = run.PathOf("ablation", "ablation.json");
        var saved = File.Exists(measured) ? JsonNode.Parse(File.ReadAllText(measured)) : null;
        var table = saved is not null
            ? AblationTable.FromJson(saved["rows"]!.AsArray(), $"From `experiment ablation` (its rows and report: {Path.GetDirectoryName(measured)}). " + (string?)saved["note"])
            : AblationTable.FromRun(run, eval);
        if (table is null) return;
        report.Numbers["table5"] = table.ToJson();
        var s = report.Section("Ablation (Table 5)");
        s.Text(table.Note);
        s.Table(table.ToReportTable());
        s.Text(PaperNumbers.Table5Text);
        s.Command($"./lightglm experiment ablation {Path.Combine(run.Root, "config.json")}");
    }

    static string Used(JsonNode? available, int? cap) =>
        available is null ? "–" : (cap is int c && c > 0 ? Math.Min(c, (double)available) : (double)available).ToString("0", CultureInfo.InvariantCulture);

    static double Acc(JsonObject m, string direction) => (double?)m[direction]?["translation_accuracy"] ?? double.NaN;
    internal static double AvgAccuracy(JsonObject m) => (Acc(m, "en-zh") + Acc(m, "zh-en")) / 2;
    internal static double AvgBleu(JsonObject m) => (((double?)m["en-zh"]?["bleu"] ?? double.NaN) + ((double?)m["zh-en"]?["bleu"] ?? double.NaN)) / 2;

    static JsonObject Without(JsonObject o, params string[] keys)
    {
        var copy = (JsonObject)o.DeepClone();
        foreach (var k in keys) copy.Remove(k);
        return copy;
    }

    /// <summary>A curve recorded as [[step, loss], …] — read from a file or still in memory (int steps).</summary>
    public static ChartSeries Curve(string name, JsonNode? curve)
    {
        var pts = (curve as JsonArray ?? []).OfType<JsonArray>().Select(p => (JsonNumber.ToDouble(p[0]!), JsonNumber.ToDouble(p[1]!))).ToArray();
        return new ChartSeries(name, pts);
    }
}
