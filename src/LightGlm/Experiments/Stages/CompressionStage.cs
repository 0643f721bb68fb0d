// Stage: mixed compression (Algorithm 2) and the paper's compression baselines, in the two settings of
// Tables 2 and 3. Importance on calibration pairs → a width/depth plan → a real smaller dense student initialised
// from the teacher → distillation. Random pruning gets the same steps (Figure 4).
//   Table 3 ("mixed"):     the hybrid fine-tuned teacher; soft labels on D_s, hard labels on D_d (Algorithm 2 lines 7-14).
//   Table 2 ("no_target"): the teacher fine-tuned on D_s only (or the base teacher); distillation on D_s only.
// Each finished student leaves a sub-marker, so an interrupted stage continues with the next student.
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.IO;
using LightGlm.Kernels.Quantized;
using LightGlm.Translation;
using LightGlm.Training;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Experiments.Stages;

public sealed class CompressionStage : IRecipeStage
{
    public string Name => "compression";
    public string Description => "prune the teacher to smaller dense students and distil them (mixed compression, baselines, random pruning)";
    public bool IsEnabled(Recipes.Recipe recipe) => recipe.Get<bool>("compression.enabled");
    /// <summary>D_s and D_d come from the hybrid settings even when the hybrid stage is off; downstream.enabled decides whether
    /// the mixed student is the final one (student/) or the downstream stage's starting point (student-compressed/).</summary>
    public IReadOnlyList<string> Reads => ["compression", "hybrid", "downstream.enabled"];

    /// <summary>The baselines the paper compares with (Table 2/3 rows) and the names they go by in the report.</summary>
    public static readonly IReadOnlyDictionary<string, string> MethodLabels = new Dictionary<string, string>
    {
        ["student"] = "LightChatGLM (ours): importance pruning + KD",
        ["layer_drop"] = "mBERT_drop-style: top layers dropped + KD",
        ["distilbert"] = "DistilBERT-style: every other layer + KD",
        ["int8"] = "teacher INT8 (ChatGLM-6B's quantization)",
        ["random_pruned"] = "random pruning + KD",
        ["depth"] = "LightChatGLM, depth + width: one layer fewer, wider, equal size (importance pruning + KD)",
    };

    public JsonObject Run(StageContext c)
    {
        var r = c.Recipe;
        var tok = RunArtifacts.Tokenizer(c);
        int seq = r.Get<int>("teacher.seq_len");
        var (ds, dd) = HybridStage.Split(c, tok, seq);
        // compression.distill_data: "hybrid" = Algorithm 2 (soft labels on D_s, hard on D_d); "all" = soft labels on every
        // training pair in both directions (plain KD of a general translator: the data the teacher itself was trained on).
        string data = r.Get<string>("compression.distill_data");
        if (data is not ("hybrid" or "all")) throw new InvalidDataException($"compression.distill_data = '{data}': use hybrid (Algorithm 2) or all (both directions, soft labels)");
        var source = data == "all" ? Samples(new TranslationBatcher(tok, RunArtifacts.Pairs(c, "train"), seq).Examples) : Samples(ds);
        var target = data == "all" ? [] : Samples(dd);
        var dev = Samples(new TranslationBatcher(tok, RunArtifacts.Pairs(c, "dev"), seq).Examples).Take(64).ToList();
        var baselines = r.Get<string[]>("compression.baselines");
        foreach (var b in baselines)
            if (b is not ("layer_drop" or "distilbert" or "int8"))
                throw new InvalidDataException($"compression.baselines: '{b}' is not a baseline; use layer_drop, distilbert, int8");

        // (setting, teacher eval name, teacher dir, distillation target data, methods)
        var settings = new List<(string Setting, string TeacherName, string TeacherDir, List<CalibrationSample> Target, List<string> Methods)>();
        var mixedMethods = new List<string> { "student" };
        if (r.Get<bool>("compression.random_baseline")) mixedMethods.Add("random_pruned");
        // compression.levels: more mixed students at other hidden ratios (Table 4 at several compression levels).
        mixedMethods.AddRange(Levels(r).Select(LevelMethod));
        // compression.depth_variant: the paper's "mixed" pruning also drops layers; at the width-only student's size, one
        // layer fewer and wider (Table 4 compares the two at equal size).
        if (r.Get<bool>("compression.depth_variant")) mixedMethods.Add("depth");
        mixedMethods.AddRange(baselines);
        var hybrid = c.Run.StageResult("hybrid");
        settings.Add(("mixed", hybrid is null ? "teacher" : "teacher-hybrid", RunArtifacts.CurrentTeacher(c), target, mixedMethods));
        if (r.Get<bool>("compression.no_target_table"))
        {
            string? sourceOnly = (string?)hybrid?["models"]?["teacher-source_only"];
            settings.Add(("no_target", sourceOnly is null ? "teacher" : "teacher-source_only", sourceOnly ?? (string)c.ResultOf("teacher")["model"]!,
                [], ["student", .. baselines]));
        }

        var models = new JsonObject();
        var tables = new JsonObject();
        var curves = new JsonObject();
        var sizes = new JsonObject();
        long teacherParams = 0;
        int total = settings.Sum(s => s.Methods.Count), done = 0;
        foreach (var (setting, teacherName, teacherDir, targetData, methods) in settings)
        {
            var teacherFiles = ModelFiles.Load(teacherDir);
            teacherParams = teacherFiles.Shape.ParameterCount();
            GlmModelHolder teacher = new(() => ModelBridge.ToModel(teacherFiles));
            var rows = new JsonObject();
            long studentParams = 0; // the mixed student's size (first method): layer_drop is cut to match it
            foreach (var method in methods)
            {
                string name = setting == "mixed"
                    ? method switch { "int8" => "teacher-int8", "student" => DownstreamStage.CompressedStudentName(r), "depth" => "student-depth", _ when Level(method) is { } l => LevelName(l), _ => method }
                    : (method == "int8" ? "teacher-int8-no-target" : method + "-no-target");
                // A width-only student of one layer has no depth to give: the depth + width variant is skipped.
                if (method == "depth" && Math.Min(teacherFiles.Shape.L, r.Get<int>("compression.keep_layers")) < 2) { done++; continue; }
                string sub = $"{Name}.{name}";
                JsonObject? result = c.Run.StageResult(sub);
                if (result is not null && StaleStudent(teacherFiles.Shape, result) is { } why)
                {
                    c.Progress.Report(done / (double)total, $"{name}: rebuilding: {why}");
                    c.Run.LogMetric("compression", new JsonObject { ["model"] = name, ["event"] = "rebuild", ["reason"] = why });
                    c.Run.ForgetStage(sub);
                    result = null;
                }
                if (result is not null && method == "layer_drop" && (long?)result["params"] is { } had
                    && LayerDropKeep(r, teacherFiles.Shape, studentParams) is var keep && teacherFiles.Shape.Resized(l: keep).ParameterCount() != had)
                {
                    c.Progress.Report(done / (double)total, $"{name}: rebuilding at {keep} layers (equal size)");
                    c.Run.ForgetStage(sub);
                    result = null;
                }
                result ??= MarkDone(c, sub, Compress(c, method, name, teacherFiles, teacher, source, targetData, dev, (done, total), studentParams));
                if (method == "student") studentParams = (long)result["params"]!;
                models[name] = result["dir"]!.DeepClone();
                sizes[name] = result["params"]!.DeepClone();
                if (result["curve"] is JsonArray curve) curves[name] = curve.DeepClone();
                if (method != "random_pruned" && Level(method) is null) rows[method] = name;
                done++;
            }
            tables[setting] = new JsonObject { ["teacher"] = teacherName, ["teacher_dir"] = teacherDir, ["rows"] = rows };
        }
        return new JsonObject
        {
            ["teacher"] = RunArtifacts.CurrentTeacher(c), ["teacher_params"] = teacherParams, ["models"] = models, ["params"] = sizes,
            ["tables"] = tables, ["figure4"] = new JsonObject
            {
                ["student"] = curves[DownstreamStage.CompressedStudentName(r)]?.DeepClone(),
                ["random_pruned"] = curves["random_pruned"]?.DeepClone(),
            },
            ["curves"] = curves, ["importance"] = r.Get<string>("compression.importance"),
            // Served with the engine's int8 kernels by the eval stage (their weights are stored dequantized from the int8 grid).
            ["weights"] = new JsonObject(models.Select(m => m.Key).Where(n => n.StartsWith("teacher-int8", StringComparison.Ordinal))
                .Select(n => KeyValuePair.Create(n, (JsonNode?)"int8"))),
            ["n_source"] = source.Count, ["n_target"] = target.Count,
        };
    }

    /// <summary>Why a finished student may not be resumed from (see <see cref="PlanBuilder.StaleRotary"/>), or null.</summary>
    static string? StaleStudent(ModelShape teacher, JsonObject result) =>
        result["dir"] is JsonValue v && v.TryGetValue<string>(out var dir) && File.Exists(Path.Combine(dir, "config.json"))
            ? PlanBuilder.StaleRotary(teacher, ModelShape.Load(Path.Combine(dir, "config.json")))
            : null;

    static JsonObject MarkDone(StageContext c, string sub, JsonObject result)
    {
        c.Run.MarkStageDone(sub, result);
        return result;
    }

    /// <summary>The teacher as a trainable model, built once per setting and only when a method distils.</summary>
    sealed class GlmModelHolder(Func<Model.GlmModel> make)
    {
        Model.GlmModel? _model;
        public Model.GlmModel Value => _model ??= make();
    }

    JsonObject Compress(StageContext c, string method, string name, ModelFiles teacherFiles, GlmModelHolder teacher,
        List<CalibrationSample> source, List<CalibrationSample> target, List<CalibrationSample> dev, (int Done, int Total) at, long studentParams)
    {
        var r = c.Recipe;
        var t = teacherFiles.Shape;
        // The mixed student: student/ (the final model), or student-compressed/ when the downstream stage continues from it.
        string dir = c.Run.PathOf(name is "student" or "student-compressed" ? name : Path.Combine("baselines", name));
        c.Cancel.ThrowIfCancellationRequested();
        c.Progress.Report(at.Done / (double)at.Total, $"{name}: plan");
        if (method == "int8")
        {
            // Weight-only INT8 (groups of 32, as the int8 kernels store it): weights put on the int8 grid, so quality is
            // exactly the quantized model's; size is the int8 layout's bytes.
            var (q, bytes) = QuantizeLinearWeights(teacherFiles, QuantFormat.Int8);
            q.Save(dir, Path.GetDirectoryName(RunArtifacts.TokenizerPath(c)), new Dictionary<string, string> { ["quantization"] = "int8 weight-only, group 32 (stored dequantized)" });
            return new JsonObject { ["dir"] = dir, ["params"] = t.ParameterCount(), ["quantized_bytes"] = bytes, ["method"] = method };
        }
        int nCal = r.Get<int>("compression.calibration_pairs");
        var calibration = source.Take(nCal - Math.Min(nCal / 2, target.Count)).Concat(target.Take(nCal / 2)).ToList();
        var kd = new DistillationWeights(Soft: (float)r.Get<double>("compression.logit_weight"), Hard: (float)r.Get<double>("compression.hard_weight"),
            Hidden: (float)r.Get<double>("compression.hidden_weight"), Cosine: 0, Temperature: (float)r.Get<double>("compression.temperature"));
        var targets = method == "depth" ? DepthTargets(r, t) : Targets(r, t, Level(method));
        var (plan, weights) = method switch
        {
            _ when method is "student" or "depth" || Level(method) is not null => (PlanBuilder.Build(t, WithLayerChoice(r, Importance(r, teacherFiles, calibration), teacherFiles, calibration, targets), targets), kd),
            "random_pruned" => (PlanBuilder.Build(t, WeightImportance.Random(t, r.Get<int>("seed") + 1), targets), kd),
            "layer_drop" => (PlanBuilder.TopLayerDrop(t, LayerDropKeep(r, t, studentParams)), kd),
            // DistilBERT: soft + hard labels and a cosine loss on the hidden states, no projection (same width).
            "distilbert" => (PlanBuilder.AlternateLayers(t), kd with { Hidden = 0, Cosine = 1 }),
            _ => throw new InvalidDataException($"unknown compression method '{method}'"),
        };
        var pruned = StructuredPruner.Prune(teacherFiles, plan);
        var student = ModelBridge.ToModel(pruned);
        int steps = r.Get<int>("compression.distill_steps");
        var options = new DistillOptions
        {
            Steps = steps, BatchSize = r.Get<int>("teacher.batch_size"), MaxLen = r.Get<int>("teacher.seq_len"),
            LearningRate = r.Get<double>("compression.learning_rate"), EvalEvery = Math.Max(1, steps / 10), Weights = weights, Seed = r.Get<int>("seed"),
            Schedule = Schedule(r, "compression", steps),
            // An interrupted part resumes mid-distillation; the checkpoints go once its student is saved.
            CheckpointDir = c.Run.PathOf("checkpoints", "distill-" + name), CheckpointEvery = r.Get<int>("teacher.checkpoint_every"),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var attempt = Distiller.Run(teacher.Value, student, source, target, dev, options, plan.HiddenChannels?.ToArray(),
            (step, loss, valid) =>
            {
                c.Cancel.ThrowIfCancellationRequested();
                c.Progress.Report((at.Done + step / (double)steps) / at.Total, $"{name}: step {step}/{steps} dev loss {valid:F3}");
                c.Run.LogMetric("compression", new JsonObject { ["model"] = name, ["step"] = step, ["valid_loss"] = Math.Round(valid, 5) });
            }, cancel: c.Cancel);
        var curve = StageTraining.WithEarlier(c, "compression", m => (string?)m["model"] == name, attempt);
        AtomicDirectory.Write(dir, partial => ModelBridge.FromModel(student, pruned.Shape).Save(partial, Path.GetDirectoryName(RunArtifacts.TokenizerPath(c)))); // (takes the folder of tokenizer.json)
        Directory.Delete(options.CheckpointDir, recursive: true);
        return new JsonObject
        {
            ["dir"] = dir, ["params"] = pruned.Shape.ParameterCount(), ["method"] = method, ["plan"] = plan.Note,
            ["train_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1), ["steps"] = steps,
            ["curve"] = RunLoop.ToJson(curve),
        };
    }

    /// <summary>compression.levels, checked (hidden ratios in (0, 1]) and without repeats.</summary>
    public static IReadOnlyList<double> Levels(Recipes.Recipe r)
    {
        var levels = new List<double>();
        foreach (double level in r.Get<double[]>("compression.levels"))
        {
            if (!(level is > 0 and <= 1)) throw new InvalidDataException($"compression.levels: {level} is not a hidden ratio; use values in (0, 1], e.g. [0.5, 0.35]");
            if (!levels.Contains(level)) levels.Add(level);
        }
        return levels;
    }

    static string Ratio(double hiddenRatio) => hiddenRatio.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
    static string LevelMethod(double hiddenRatio) => "level:" + Ratio(hiddenRatio);
    static double? Level(string method) =>
        method.StartsWith("level:", StringComparison.Ordinal) ? double.Parse(method.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture) : null;
    /// <summary>The eval name of the mixed student at hidden ratio <paramref name="hiddenRatio"/>: student-h0.5.</summary>
    public static string LevelName(double hiddenRatio) => "student-h" + Ratio(hiddenRatio);

    /// <summary>How many bottom layers the top-layer-drop baseline keeps: compression.layer_drop_size = "equal" (the default)
    /// picks the depth whose full-width parameter count is nearest the mixed student's, so the two are compared at equal
    /// size as the paper's rows are; "keep_layers" keeps compression.keep_layers (the student's depth, at full width —
    /// a larger model).</summary>
    public static int LayerDropKeep(Recipes.Recipe r, ModelShape t, long studentParams)
    {
        string size = r.Get<string>("compression.layer_drop_size");
        if (size == "keep_layers" || studentParams <= 0) return Math.Min(t.L, r.Get<int>("compression.keep_layers"));
        if (size != "equal")
            throw new InvalidDataException($"compression.layer_drop_size = '{size}': use equal (as many layers as fit the student's size) or keep_layers");
        return Enumerable.Range(1, t.L).MinBy(k => Math.Abs(t.Resized(l: k).ParameterCount() - studentParams));
    }

    /// <summary>{section}.lr_schedule: "constant" (null), or "cosine"/"linear"/"inverse_sqrt" with {section}.warmup_fraction
    /// of the steps warming up and decay to 10% of the peak (inverse_sqrt: Lr·√(warmup/step), floored there).</summary>
    public static Training.ScheduleOptions? Schedule(Recipes.Recipe r, string section, int steps)
    {
        string kind = r.Get<string>($"{section}.lr_schedule");
        double warm = r.Get<double>($"{section}.warmup_fraction");
        if (!(warm is >= 0 and < 1)) throw new InvalidDataException($"{section}.warmup_fraction = {warm}: use a fraction in [0, 1)");
        return kind switch
        {
            "constant" => null,
            "cosine" or "linear" or "inverse_sqrt" => new Training.ScheduleOptions
            {
                WarmupSteps = Math.Max(1, (int)Math.Round(steps * warm)), MinLrRatio = 0.1,
                Decay = kind switch { "cosine" => Training.DecayKind.Cosine, "linear" => Training.DecayKind.Linear, _ => Training.DecayKind.InverseSqrt },
            },
            _ => throw new InvalidDataException($"{section}.lr_schedule = '{kind}': use constant, cosine, linear or inverse_sqrt"),
        };
    }

    /// <param name="hiddenRatio">Instead of compression.hidden_ratio (a compression.levels student).</param>
    public static PruningTargets Targets(Recipes.Recipe r, ModelShape t, double? hiddenRatio = null) => new()
    {
        Layers = Math.Min(t.L, r.Get<int>("compression.keep_layers")),
        HeadDim = Math.Max(2, (int)Math.Round(t.D * r.Get<double>("compression.head_dim_ratio")) & ~1),
        Ffn = Math.Max(1, (int)Math.Round(t.F * r.Get<double>("compression.ffn_ratio"))),
        Hidden = (hiddenRatio ?? r.Get<double>("compression.hidden_ratio")) is var h && h < 1 ? (int)Math.Round(t.C * h) : null,
    };

    /// <summary>
    /// The depth + width student: one layer fewer than the width-only student (compression.keep_layers, at most the
    /// teacher's), the same head and FFN widths, and the hidden width (a multiple of 8, up to the teacher's) whose
    /// parameter count is nearest the width-only student's — the two at equal size.
    /// </summary>
    public static PruningTargets DepthTargets(Recipes.Recipe r, ModelShape t)
    {
        var w = Targets(r, t);
        int layers = Math.Min(t.L, w.Layers ?? t.L);
        if (layers < 2) throw new InvalidDataException($"compression.depth_variant needs a width-only student of at least 2 layers (it has {layers})");
        int d = w.HeadDim ?? t.D, f = w.Ffn ?? t.F;
        long size = t.Resized(l: layers, c: w.Hidden ?? t.C, d: d, f: f).ParameterCount();
        int best = Enumerable.Range(1, t.C / 8).Select(k => 8 * k)
            .MinBy(c => Math.Abs(t.Resized(l: layers - 1, c: c, d: d, f: f).ParameterCount() - size));
        return w with { Layers = layers - 1, Hidden = best < t.C ? best : null };
    }

    /// <summary>compression.layer_importance: "block_influence" keeps the importance method's layer scores (ShortGPT's 1 − cos
    /// for activation); "loss" chooses the kept layers by the calibration loss without them (greedy backward elimination,
    /// <see cref="ActivationImportance.LayerSubsetByLoss"/>). Only matters when layers are dropped.</summary>
    static ImportanceScores WithLayerChoice(Recipes.Recipe r, ImportanceScores s, ModelFiles teacher, List<CalibrationSample> calibration, PruningTargets targets)
    {
        string how = r.Get<string>("compression.layer_importance");
        if (how is not ("block_influence" or "loss"))
            throw new InvalidDataException($"compression.layer_importance = '{how}': use block_influence or loss");
        if (how == "block_influence" || targets.Layers is not int keep || keep >= teacher.Shape.L) return s;
        ActivationImportance.LayerSubsetByLoss(teacher, calibration, keep).CopyTo(s.Layers, 0);
        return s;
    }

    static ImportanceScores Importance(Recipes.Recipe r, ModelFiles teacher, List<CalibrationSample> calibration)
    {
        string importance = r.Get<string>("compression.importance");
        return importance switch
        {
            "activation" => ActivationImportance.Compute(teacher, calibration),
            "taylor" => WeightImportance.Taylor(teacher, TaylorGradients.Compute(teacher, calibration)),
            "magnitude" => WeightImportance.Magnitude(teacher),
            "random" => WeightImportance.Random(teacher.Shape, r.Get<int>("seed")),
            _ => throw new InvalidDataException($"compression.importance = '{importance}': use activation, taylor, magnitude or random"),
        };
    }

    /// <summary>A copy whose linear weights (attention, FFN, LM head) are quantized and dequantized; also the int8 layout's bytes
    /// of the whole model (linear maps quantized, embeddings and norms fp32).</summary>
    public static (ModelFiles Model, long Bytes) QuantizeLinearWeights(ModelFiles m, QuantFormat format, int groupSize = 32)
    {
        var copy = m with { Weights = m.Weights.Clone() };
        long bytes = 0;
        foreach (var tensor in copy.Weights.All)
        {
            bool linear = tensor.Shape.Length == 2 && tensor.Name != Embed;
            if (!linear) { bytes += tensor.Data.LongLength * 4; continue; }
            var q = QuantizedMatrix.Quantize(tensor.Data, tensor.Rows, tensor.Cols, format, groupSize);
            q.Dequantize().AsSpan(0, tensor.Data.Length).CopyTo(tensor.Data);
            bytes += q.ByteSize;
        }
        return (copy, bytes);
    }

    static List<CalibrationSample> Samples(IEnumerable<TaskExample> examples) =>
        examples.Select(e => new CalibrationSample(e.Tokens, e.Targets, e.PrefixLength)).ToList();
}
