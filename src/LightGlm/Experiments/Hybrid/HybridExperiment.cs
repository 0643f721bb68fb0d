// `lightglm experiment hybrid`: the paper's §3.3 experiments on our corpus at a small size.
// Figure 5: source-only vs target-only vs hybrid fine-tuning (target-direction dev loss over steps);
// Figure 6: high-resource vs low-resource vs hybrid, and the α sweep; Tables 2-3: teacher and student, without and
// with target data, per direction; the λ sweep of downstream distillation (Eq. 13).
// Every variant starts from the same base model (a short monolingual LM pre-training: it knows both languages a little,
// and no translation), takes the same steps with the same seed; only the data and the loss weights differ.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Experiments.Reporting;
using LightGlm.Experiments.Stages;
using LightGlm.IO;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;
using LightGlm.Charts;

namespace LightGlm.Experiments.Hybrid;

public sealed record HybridExperimentOptions
{
    /// <summary>Directory with train.tsv, dev.tsv, test.tsv (and mono.en.txt / mono.zh.txt for the base model).</summary>
    public required string CorpusDir { get; init; }
    public int TrainPairs { get; init; } = 2000;
    public int DevPairs { get; init; } = 160;
    public int TestPairs { get; init; } = 100;
    public string SourceDirection { get; init; } = "en-zh";
    public string TargetDirection { get; init; } = "zh-en";
    /// <summary>|D_d| / |D_s|: the low-resource side's size.</summary>
    public double TargetFraction { get; init; } = 0.05;
    public double Alpha { get; init; } = 0.65;
    public HybridWeighting Weighting { get; init; } = HybridWeighting.PerSample;
    public double[] AlphaSweep { get; init; } = [0.5, 0.65, 0.95];
    public double Lambda { get; init; } = 0.65;
    public bool LambdaWeighsStudent { get; init; }
    public double[] LambdaSweep { get; init; } = [0, 0.65, 1];
    public float Temperature { get; init; } = 1f;
    public int Vocab { get; init; } = 1500;
    public int SeqLen { get; init; } = 64;
    public int Hidden { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int Ffn { get; init; } = 168;
    public int BatchSize { get; init; } = 16;
    /// <summary>Language-model steps of the shared base model on monolingual text (0 = fine-tune from random weights).</summary>
    public int PretrainSteps { get; init; } = 60;
    public int MonoLines { get; init; } = 2000;
    public int FineTuneSteps { get; init; } = 100;
    public double LearningRate { get; init; } = 2e-3;
    public int DistillSteps { get; init; } = 60;
    public double DistillLearningRate { get; init; } = 1e-3;
    /// <summary>Student shape: head dim and FFN kept as these shares of the teacher's (layers kept).</summary>
    public double StudentRatio { get; init; } = 0.5;
    /// <summary>Teacher logits kept per position in the distillation cache.</summary>
    public int TopK { get; init; } = 64;
    /// <summary>Test sentences decoded per direction for BLEU (0 = teacher-forced accuracy only).</summary>
    public int BleuSentences { get; init; } = 30;
    public int ValidPoints { get; init; } = 5;
    public int Seed { get; init; } = 1;
}

public static class HybridExperiment
{
    const string Stage = "experiment-hybrid";

    public static JsonObject Run(HybridExperimentOptions o, RunDirectory run, Action<string>? log = null, CancellationToken cancel = default)
    {
        log ??= _ => { };
        var total = Stopwatch.StartNew();
        var src = Directions.Parse(o.SourceDirection);
        var tgt = Directions.Parse(o.TargetDirection);
        string Need(string f) => Path.Combine(o.CorpusDir, f) is var p && File.Exists(p) ? p
            : throw new FileNotFoundException($"{p} is missing: build the corpus first (`lightglm corpus build`, or set LIGHTGLM_CACHE to a cache holding corpus/), or pass --corpus DIR", p);
        var train = Subsample(ParallelTsv.Read(Need("train.tsv")), o.TrainPairs);
        var devPairs = Subsample(ParallelTsv.Read(Need("dev.tsv")), o.DevPairs);
        var testPairs = Subsample(ParallelTsv.Read(Need("test.tsv")), o.TestPairs);

        // Tokenizer: byte-level BPE on the sampled pairs (and some monolingual text).
        string tokPath = run.PathOf("tokenizer", "tokenizer.json");
        var mono = new List<string>();
        foreach (var f in new[] { "mono.en.txt", "mono.zh.txt" })
            if (File.Exists(Path.Combine(o.CorpusDir, f))) mono.AddRange(File.ReadLines(Path.Combine(o.CorpusDir, f)).Where(l => l.Trim().Length > 0).Take(o.MonoLines));
        log($"data: {train.Count} train pairs, {devPairs.Count} dev, {testPairs.Count} test, {mono.Count} monolingual lines from {o.CorpusDir}");
        AtomicFile.Write(tokPath, s => BpeTrainer.Train(train.SelectMany(p => new[] { p.English, p.Chinese }).Concat(mono), new BpeTrainerOptions { VocabSize = o.Vocab }, s));
        var hf = HfTokenizer.Create(tokPath);
        ITokenizer tok = hf;
        var sp = SpecialTokens.From(tok);

        var sets = HybridData.Split(train, tok, o.SeqLen, src, tgt, o.TargetFraction);
        var high = new TranslationBatcher(tok, sets.SourcePairs, o.SeqLen, [tgt]).Examples.ToList();
        if (sets.Source.Count == 0 || sets.Target.Count == 0) throw new InvalidDataException($"too little data: D_s {sets.Source.Count}, D_d {sets.Target.Count} examples");
        var devT = DevSource(tok, devPairs, o.SeqLen, tgt, sp);
        var devS = DevSource(tok, devPairs, o.SeqLen, src, sp);
        int devBatches = Math.Max(1, Math.Min(16, (devPairs.Count + o.BatchSize - 1) / o.BatchSize));
        log($"D_s = {src.Name()} × {sets.Source.Count}, D_d = {tgt.Name()} × {sets.Target.Count} (other strings), high-resource {tgt.Name()} × {high.Count}");

        // The shared base model.
        var config = new ModelConfig
        {
            ModelType = "chatglm", VocabSize = tok.VocabSize, HiddenSize = o.Hidden, NumHiddenLayers = o.Layers,
            NumAttentionHeads = o.Heads, NumKeyValueHeads = o.KvHeads, IntermediateSize = o.Ffn, PartialRotaryFactor = 0.5,
            RopeInterleaved = true, AttentionBias = true, PrefixLm = true, HiddenDropout = 0.0,
            MaxPositionEmbeddings = Math.Max(256, o.SeqLen), BosTokenId = sp.Bos, EosTokenId = sp.Eos, PadTokenId = sp.Pad,
        };
        var baseModel = GlmModel.Create(config, seed: (ulong)o.Seed);
        var sw = Stopwatch.StartNew();
        if (o.PretrainSteps > 0)
        {
            var stream = mono.SelectMany(l => (IEnumerable<int>)[.. tok.EncodeText(l), sp.Eos]).ToArray();
            if (stream.Length <= o.SeqLen + 1) throw new InvalidDataException($"{o.CorpusDir}: too little monolingual text for pre-training ({stream.Length} tokens); use --pretrain-steps 0");
            var pre = new Trainer(baseModel, Options(o, o.PretrainSteps, o.LearningRate), new TokenStreamSource(stream, (ulong)o.Seed));
            RunLoop.Run(pre, new RunLoopOptions(), new RunLoopHooks
            {
                Stepped = (s, _) => { if (s.Step % 20 == 0 || pre.Done) run.LogMetric(Stage, new JsonObject { ["variant"] = "base", ["step"] = s.Step, ["loss"] = Math.Round(s.Loss, 5) }); },
                Log = log,
            }, cancel);
            log($"base model: {baseModel.Layout.TotalLength:N0} parameters, {o.PretrainSteps} LM steps on monolingual text ({sw.Elapsed.TotalSeconds:F0} s)");
        }
        ModelDirectory.Save(baseModel, run.PathOf("models", "base"), tokPath);

        // Fine-tuning variants: Figure 5, Figure 6 and the α sweep.
        var variants = new List<(string Name, Func<IBatchSource> Data, double? Alpha)>
        {
            ("source_only", () => HybridBatchSource.Plain(sets.Source, sp.Pad, o.Seed), null),
            ("target_only", () => HybridBatchSource.Plain(sets.Target, sp.Pad, o.Seed), null),
            ("hybrid", () => new HybridBatchSource(sets.Source, sets.Target, o.Alpha, sp.Pad, o.Seed, o.Weighting), o.Alpha),
            ("high_resource", () => HybridBatchSource.Plain(high, sp.Pad, o.Seed), null),
        };
        var other = o.Weighting == HybridWeighting.PerSample ? HybridWeighting.LossShare : HybridWeighting.PerSample;
        variants.Add(($"hybrid_{Name(other)}", () => new HybridBatchSource(sets.Source, sets.Target, o.Alpha, sp.Pad, o.Seed, other), o.Alpha));
        foreach (double a in o.AlphaSweep.Where(a => Math.Abs(a - o.Alpha) > 1e-9))
            variants.Add(($"hybrid_alpha_{a.ToString("0.###", CultureInfo.InvariantCulture)}", () => new HybridBatchSource(sets.Source, sets.Target, a, sp.Pad, o.Seed, o.Weighting), a));
        double natural = HybridMix.Alpha(1, sets.Source.Count, 1, sets.Target.Count);
        int validEvery = Math.Max(1, o.FineTuneSteps / Math.Max(1, o.ValidPoints));
        var fine = new JsonObject();
        var models = new Dictionary<string, GlmModel>();
        foreach (var (name, data, alpha) in variants)
        {
            cancel.ThrowIfCancellationRequested();
            var model = Clone(baseModel);
            var trainer = new Trainer(model, Options(o, o.FineTuneSteps, o.LearningRate), data());
            var sourceCurve = new List<(int, double)>();
            sw.Restart();
            var curve = RunLoop.Run(trainer, new RunLoopOptions { ValidEvery = validEvery, ValidateAtStart = true, CheckpointEvery = validEvery }, new RunLoopHooks
            {
                Validate = () =>
                {
                    double vs = trainer.Evaluate(devS, devBatches);
                    sourceCurve.Add((trainer.State.Step, vs));
                    return trainer.Evaluate(devT, devBatches);
                },
                Stepped = (s, v) =>
                {
                    var rec = new JsonObject { ["variant"] = name, ["step"] = s.Step, ["loss"] = Math.Round(s.Loss, 5) };
                    if (v is { } x) { rec["target_dev_loss"] = Math.Round(x, 5); rec["source_dev_loss"] = Math.Round(sourceCurve[^1].Item2, 5); }
                    if (v is not null || s.Step % 10 == 0) run.LogMetric(Stage, rec);
                },
                Log = log,
            }, cancel).Valid;
            fine[name] = new JsonObject
            {
                ["alpha"] = alpha, ["target_dev_loss"] = Math.Round(curve[^1].Loss, 4), ["source_dev_loss"] = Math.Round(sourceCurve[^1].Item2, 4),
                ["curve"] = RunLoop.ToJson(curve), ["source_curve"] = RunLoop.ToJson(sourceCurve), ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 1),
            };
            log($"fine-tune {name,-22} {tgt.Name()} dev loss {curve[0].Loss:F3} → {curve[^1].Loss:F3}   {src.Name()} dev loss {sourceCurve[^1].Item2:F3}   ({sw.Elapsed.TotalSeconds:F0} s)");
            if (name is "source_only" or "hybrid" or "target_only" or "high_resource") { models[name] = model; ModelDirectory.Save(model, run.PathOf("models", "teacher-" + name), tokPath); }
        }

        // Students: pruned from each teacher, distilled. Without target data: Algorithm 2 on D_s from the source-only teacher.
        // With target data: from the hybrid teacher, soft labels on D_s and Eq. 13 (λ) on D_d. The λ sweep varies λ only.
        var sourceSamples = Samples(sets.Source);
        var targetSamples = Samples(sets.Target);
        var distillDev = Samples(new TranslationBatcher(tok, devPairs, o.SeqLen, [tgt]).Examples).Take(64).ToList();
        var calibration = sourceSamples.Take(64).Concat(targetSamples.Take(64)).ToList();
        var students = new JsonObject();
        var lambdaRows = new JsonObject();
        GlmModel Student(GlmModel teacher, string name, IReadOnlyList<CalibrationSample> s, IReadOnlyList<CalibrationSample> t, DistillationWeights w, bool downstream, string? cachePath)
        {
            var files = ModelBridge.FromModel(teacher);
            var shape = files.Config;
            var plan = PlanBuilder.Build(shape, ActivationImportance.Compute(files, calibration), new PruningTargets
            {
                HeadDim = Math.Max(2, (int)Math.Round(shape.D * o.StudentRatio) & ~1), Ffn = Math.Max(1, (int)Math.Round(shape.F * o.StudentRatio)),
            });
            var student = ModelBridge.ToModel(StructuredPruner.Prune(files, plan));
            var opts = new DistillOptions
            {
                Steps = o.DistillSteps, BatchSize = o.BatchSize, MaxLen = o.SeqLen, LearningRate = o.DistillLearningRate, TopK = o.TopK,
                EvalEvery = Math.Max(1, o.DistillSteps / Math.Max(1, o.ValidPoints)), Weights = w, SoftOnTarget = downstream, Seed = o.Seed,
                TeacherCachePath = cachePath,
            };
            sw.Restart();
            var curve = Distiller.Run(teacher, student, s, t, distillDev, opts, plan.HiddenChannels?.ToArray(),
                (step, loss, valid) => run.LogMetric(Stage, new JsonObject { ["variant"] = name, ["step"] = step, ["distill_loss"] = double.IsNaN(loss) ? null : Math.Round(loss, 5), ["target_dev_loss"] = Math.Round(valid, 5) }),
                m => log("  " + m));
            students[name] = new JsonObject { ["target_dev_loss"] = Math.Round(curve[^1].ValLoss, 4), ["curve"] = RunLoop.ToJson(curve), ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 1), ["params"] = student.Layout.TotalLength };
            log($"distil  {name,-22} {tgt.Name()} dev loss {curve[0].ValLoss:F3} → {curve[^1].ValLoss:F3}   ({sw.Elapsed.TotalSeconds:F0} s, {student.Layout.TotalLength:N0} parameters)");
            ModelDirectory.Save(student, run.PathOf("models", name), tokPath);
            return student;
        }
        var alg2 = new DistillationWeights(Soft: 1f, Hard: 1f, Hidden: 1f, Temperature: o.Temperature);
        Student(models["source_only"], "student-source_only", sourceSamples, [], alg2, false, null);
        string cache = run.PathOf("teacher-cache", "hybrid-teacher.bin");
        foreach (double l in o.LambdaSweep.Contains(o.Lambda) ? o.LambdaSweep : [.. o.LambdaSweep, o.Lambda])
        {
            var w = DistillationWeights.Downstream(l, o.Temperature, o.LambdaWeighsStudent) with { Hidden = 1f };
            string name = Math.Abs(l - o.Lambda) < 1e-9 ? "student-hybrid" : $"student-hybrid_lambda_{l.ToString("0.###", CultureInfo.InvariantCulture)}";
            Student(models["hybrid"], name, sourceSamples, targetSamples, w, true, cache);
            lambdaRows[l.ToString("0.###", CultureInfo.InvariantCulture)] = students[name]!["target_dev_loss"]!.DeepClone();
        }

        // Tables 2-3: teacher-forced accuracy (and BLEU on a few sentences) per direction on the test split.
        var tables = new JsonObject();
        foreach (var name in new[] { "teacher-source_only", "student-source_only", "teacher-hybrid", "student-hybrid" })
        {
            cancel.ThrowIfCancellationRequested();
            string dir = run.PathOf("models", name);
            var m = ModelDirectory.Load(dir);
            var e = ModelEvaluator.Evaluate(m, tok, dir, testPairs.Take(Math.Max(o.BleuSentences, 1)).ToList(), null, 32, cancel: cancel);
            var row = new JsonObject { ["params"] = m.Layout.TotalLength };
            double sum = 0;
            foreach (var d in Directions.Both)
            {
                var acc = TeacherForcedAccuracy.Compute(m, tok, d, testPairs.Select(p => d == Direction.EnToZh ? (p.English, p.Chinese) : (p.Chinese, p.English)).ToList());
                row[d.Name()] = new JsonObject
                {
                    ["accuracy"] = Math.Round(acc.Accuracy, 4), ["mean_probability"] = Math.Round(acc.MeanProbability, 4),
                    ["bleu"] = o.BleuSentences > 0 ? e[d.Name()]!["bleu"]!.DeepClone() : null, ["chrf"] = o.BleuSentences > 0 ? e[d.Name()]!["chrf"]!.DeepClone() : null,
                };
                sum += acc.Accuracy;
            }
            row["average_accuracy"] = Math.Round(sum / 2, 4);
            tables[name] = row;
            log($"test    {name,-22} acc en-zh {row["en-zh"]!["accuracy"]}  zh-en {row["zh-en"]!["accuracy"]}  BLEU en-zh {row["en-zh"]!["bleu"]}  zh-en {row["zh-en"]!["bleu"]}");
        }

        var result = new JsonObject
        {
            ["corpus"] = o.CorpusDir, ["train_pairs"] = train.Count, ["dev_pairs"] = devPairs.Count, ["test_pairs"] = testPairs.Count,
            ["source_direction"] = src.Name(), ["target_direction"] = tgt.Name(), ["n_s"] = sets.Source.Count, ["n_d"] = sets.Target.Count,
            ["alpha"] = o.Alpha, ["alpha_eq11_unweighted"] = Math.Round(natural, 4), ["weighting"] = Name(o.Weighting),
            ["lambda"] = o.Lambda, ["lambda_weighs"] = o.LambdaWeighsStudent ? "student" : "teacher", ["temperature"] = o.Temperature,
            ["base_params"] = baseModel.Layout.TotalLength, ["pretrain_steps"] = o.PretrainSteps, ["finetune_steps"] = o.FineTuneSteps, ["distill_steps"] = o.DistillSteps,
            ["finetune"] = fine, ["students"] = students, ["lambda_sweep"] = lambdaRows, ["tables"] = tables,
            ["seconds"] = Math.Round(total.Elapsed.TotalSeconds, 1),
        };
        if (fine["hybrid"] is JsonNode hy && fine["source_only"] is JsonNode so) // the paper's claim, as measured here
            result["hybrid_beats_source_only"] = (double)hy["target_dev_loss"]! < (double)so["target_dev_loss"]!;
        AtomicFile.WriteAllText(run.PathOf("hybrid.json"), result.ToJsonString(new() { WriteIndented = true }) + "\n");
        BuildReport(result).Save(run.Root); // the in-memory result; --report-only builds the same report from hybrid.json
        return result;
    }

    static string Name(HybridWeighting w) => w == HybridWeighting.PerSample ? "per_sample" : "loss_share";

    static double D(JsonNode? n) => n is null ? double.NaN : n.Deserialize<double>();
    static string F(JsonNode? n, string fmt = "0.000") => n is null ? "–" : D(n).ToString(fmt, CultureInfo.InvariantCulture);

    /// <summary>The experiment's report (Markdown, HTML, JSON, SVG) from its recorded numbers only.</summary>
    public static Report BuildReport(JsonObject r)
    {
        var report = new Report("LightGlm: hybrid-data fine-tuning and downstream distillation (paper §3.3)");
        foreach (var (k, v) in r) report.Numbers[k] = v?.DeepClone();
        var fine = (JsonObject)r["finetune"]!;
        string tgt = (string)r["target_direction"]!, src = (string)r["source_direction"]!;
        report.Section("Setup").Text(
            $"{r["train_pairs"]} training pairs sampled from {r["corpus"]}; D_s = {src} × {r["n_s"]}, D_d = {tgt} × {r["n_d"]} from other English strings. " +
            $"A {F(r["base_params"], "N0")}-parameter GLM pre-trained {r["pretrain_steps"]} LM steps on monolingual text is the common start; every variant then takes " +
            $"{r["finetune_steps"]} steps with the same seed. α = {r["alpha"]} ({r["weighting"]}; Eq. 11 with w_s = w_d = 1 gives {r["alpha_eq11_unweighted"]}), " +
            $"λ = {r["lambda"]} on the {r["lambda_weighs"]}'s term, T = {r["temperature"]}. Losses are mean cross-entropy per target token on the dev split (lower is better).");

        var f5 = new[] { "source_only", "target_only", "hybrid" }.Where(fine.ContainsKey).ToArray();
        var s5 = report.Section("Figure 5: source-only vs target-only vs hybrid fine-tuning");
        if (fine["hybrid"] is JsonNode hy && fine["source_only"] is JsonNode so)
        {
            // The paper's claim, as measured here — said either way, never assumed.
            double h = D(hy["target_dev_loss"]), o = D(so["target_dev_loss"]);
            bool beats = h < o;
            s5.Text($"On this data hybrid fine-tuning {(beats ? "beats" : "does not beat")} source-only fine-tuning on the target direction " +
                    $"({tgt} dev loss {h.ToString("0.0000", CultureInfo.InvariantCulture)} vs {o.ToString("0.0000", CultureInfo.InvariantCulture)}). " +
                    "Paper: source-only is the worst of the three.");
        }
        s5
            .Table(new ReportTable($"Dev loss after {r["finetune_steps"]} steps", ["fine-tuning", $"{tgt} dev loss (target)", $"{src} dev loss (source)"],
                f5.Select(n => (IReadOnlyList<string>)[n, F(fine[n]!["target_dev_loss"]), F(fine[n]!["source_dev_loss"])]).ToArray()))
            .Figure(new ReportFigure("figure5.svg", $"Figure 5: {tgt} dev loss over fine-tuning steps",
                Chart.Line($"Figure 5: {tgt} (target) dev loss", "step", "dev loss", f5.Select(n => ReportStage.Curve(n, fine[n]!["curve"])).ToArray())));

        var f6 = new[] { "high_resource", "target_only", "hybrid" }.Where(fine.ContainsKey).ToArray();
        var sweep = fine.Where(kv => kv.Value!["alpha"] is not null && (kv.Key == "hybrid" || kv.Key.StartsWith("hybrid_alpha_", StringComparison.Ordinal)))
            .Select(kv => (A: D(kv.Value!["alpha"]), T: D(kv.Value!["target_dev_loss"]), S: D(kv.Value!["source_dev_loss"]))).OrderBy(x => x.A).ToArray();
        var s6 = report.Section("Figure 6: high-resource vs low-resource vs hybrid, and α")
            .Text($"high_resource = {tgt} over all of D_s's pairs (the data the low-resource setting lacks); target_only = D_d alone (low-resource).")
            .Figure(new ReportFigure("figure6.svg", "Figure 6: target dev loss, high- vs low-resource vs hybrid",
                Chart.Bars($"Figure 6: {tgt} dev loss", "dev loss", [$"{tgt} (target)", $"{src} (source)"],
                    f6.Select(n => new BarGroup(n, [D(fine[n]!["target_dev_loss"]), D(fine[n]!["source_dev_loss"])])).ToArray())))
            .Table(new ReportTable("High- vs low-resource vs hybrid", ["fine-tuning", $"{tgt} dev loss (target)", $"{src} dev loss (source)"],
                f6.Select(n => (IReadOnlyList<string>)[n, F(fine[n]!["target_dev_loss"]), F(fine[n]!["source_dev_loss"])]).ToArray()))
            .Table(new ReportTable($"α sweep ({r["weighting"]})", ["α", $"{tgt} dev loss", $"{src} dev loss"],
                sweep.Select(x => (IReadOnlyList<string>)[x.A.ToString("0.###", CultureInfo.InvariantCulture), x.T.ToString("0.000", CultureInfo.InvariantCulture), x.S.ToString("0.000", CultureInfo.InvariantCulture)]).ToArray()));
        if (sweep.Length > 1)
            s6.Figure(new ReportFigure("figure6-alpha.svg", "Dev loss vs α", Chart.Line("Dev loss vs α", "α", "dev loss",
                [new ChartSeries($"{tgt} (target)", sweep.Select(x => (x.A, x.T)).ToArray()), new ChartSeries($"{src} (source)", sweep.Select(x => (x.A, x.S)).ToArray())])));
        var weightings = fine.Where(kv => kv.Key == "hybrid" || kv.Key is "hybrid_per_sample" or "hybrid_loss_share").ToArray();
        if (weightings.Length > 1)
            s6.Table(new ReportTable($"α = {r["alpha"]}: which weights α sets", ["variant", $"{tgt} dev loss", $"{src} dev loss"],
                weightings.Select(kv => (IReadOnlyList<string>)[kv.Key == "hybrid" ? $"hybrid ({r["weighting"]})" : kv.Key, F(kv.Value!["target_dev_loss"]), F(kv.Value!["source_dev_loss"])]).ToArray()));

        var tables = (JsonObject)r["tables"]!;
        IReadOnlyList<string> Row(string label, string key) => tables[key] is not { } t ? [label, "–", "–", "–", "–", "–", "–"] :
            [label, F(t["params"], "N0"), F(t["en-zh"]!["accuracy"]), F(t["zh-en"]!["accuracy"]), F(t["average_accuracy"]), F(t["en-zh"]!["bleu"], "0.0"), F(t["zh-en"]!["bleu"], "0.0")];
        string[] head = ["model", "params", "acc en→zh", "acc zh→en", "acc average", "BLEU en→zh", "BLEU zh→en"];
        report.Section("Tables 2 and 3: teacher and student, without and with target data")
            .Text("Accuracy = teacher-forced next-token accuracy on the reference translation of the test split (docs/TRANSLATION.md); BLEU on the first test sentences, greedy. " +
                  "Without target data: the source-only teacher and its student (Algorithm 2 on D_s). With target data: the hybrid teacher and its student (soft labels on D_s, Eq. 13 on D_d). " +
                  "The paper (AI Challenger, ChatGLM-6B teacher; its accuracy is not defined beyond Eq. 14, so not comparable in level): Table 2, LightChatGLM/ChatGLM-6B " +
                  "English 57.2/57.6, Chinese 30.1/32.8, average 43.7/45.2; Table 3 (with target data), LightChatGLM English 57.4, Chinese 33.3.")
            .Table(new ReportTable("Table 2: without target data", head, [Row("teacher (source-only)", "teacher-source_only"), Row("student (source-only)", "student-source_only")]))
            .Table(new ReportTable("Table 3: with target data", head, [Row("teacher (hybrid)", "teacher-hybrid"), Row("student (hybrid + downstream)", "student-hybrid")]));

        var students = (JsonObject)r["students"]!;
        var lam = ((JsonObject)r["lambda_sweep"]!).Select(kv => (L: double.Parse(kv.Key, CultureInfo.InvariantCulture), V: D(kv.Value))).OrderBy(x => x.L).ToArray();
        var sl = report.Section("Downstream distillation: λ (Eq. 13)")
            .Text($"Student pruned from the hybrid teacher, distilled {r["distill_steps"]} steps; λ weighs the {r["lambda_weighs"]}'s term. λ = 0 is hard labels only on D_d.")
            .Table(new ReportTable("λ sweep", ["λ", $"student {tgt} dev loss"], lam.Select(x => (IReadOnlyList<string>)[x.L.ToString("0.###", CultureInfo.InvariantCulture), x.V.ToString("0.000", CultureInfo.InvariantCulture)]).ToArray()));
        if (lam.Length > 1) sl.Figure(new ReportFigure("lambda.svg", "Student target dev loss vs λ", Chart.Line("Student dev loss vs λ", "λ", "dev loss", [new ChartSeries($"{tgt} dev loss", lam.Select(x => (x.L, x.V)).ToArray())])));
        sl.Figure(new ReportFigure("students.svg", "Student dev loss over distillation steps",
            Chart.Line($"Students: {tgt} dev loss while distilling", "step", "dev loss", students.Select(kv => ReportStage.Curve(kv.Key, kv.Value!["curve"])).ToArray())));
        return report;
    }

    static IBatchSource DevSource(ITokenizer tok, List<(string English, string Chinese)> pairs, int seq, Direction d, SpecialTokens sp) =>
        HybridBatchSource.Plain(new TranslationBatcher(tok, pairs, seq, [d]).Examples, sp.Pad, seed: 99);

    static List<CalibrationSample> Samples(IEnumerable<TaskExample> ex) => ex.Select(e => new CalibrationSample(e.Tokens, e.Targets, e.PrefixLength)).ToList();

    /// <summary>n pairs chosen by a hash of the English (not the file order, which follows the packages).</summary>
    static List<(string English, string Chinese)> Subsample(List<(string English, string Chinese)> pairs, int n) =>
        n <= 0 || n >= pairs.Count ? pairs : pairs.OrderBy(p => HybridData.StableHash("sample\u0001" + p.English)).ThenBy(p => p.Chinese, StringComparer.Ordinal).Take(n).ToList();

    static TrainerOptions Options(HybridExperimentOptions o, int steps, double lr) => new()
    {
        Steps = steps, BatchSize = o.BatchSize, SeqLen = o.SeqLen, Seed = (ulong)o.Seed,
        Optimizer = new OptimizerOptions { Lr = lr, WeightDecay = 0.05, GradClip = 1.0 },
        Schedule = new ScheduleOptions { WarmupSteps = Math.Max(1, steps / 10) },
    };

    static GlmModel Clone(GlmModel m)
    {
        var c = GlmModel.Create(m.Config, seed: 0);
        m.Weights.AsSpan().CopyTo(c.Weights);
        return c;
    }
}
