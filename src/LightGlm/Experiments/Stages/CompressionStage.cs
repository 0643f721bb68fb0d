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
using LightGlm.Experiments.Recipes;
using LightGlm.IO;
using LightGlm.Kernels.Quantized;
using LightGlm.Model;
using LightGlm.Translation;
using LightGlm.Training;
using static LightGlm.Model.TensorNames;

namespace LightGlm.Experiments.Stages;

public sealed class CompressionStage : IRecipeStage
{
    public string Name => "compression";
    public string Description => "prune the teacher to smaller dense students and distil them (mixed compression, baselines, random pruning)";
    public bool IsEnabled(Recipe recipe) => recipe.Settings.Compression.Enabled;
    /// <summary>D_s and D_d come from the hybrid settings even when the hybrid stage is off; downstream.enabled decides whether
    /// the mixed student is the final one (student/) or the downstream stage's starting point (student-compressed/).</summary>
    public IReadOnlyList<string> Reads => ["compression", "hybrid", "downstream.enabled"];

    public JsonObject Run(StageContext c)
    {
        var s = c.Settings.Compression;
        var tok = RunArtifacts.Tokenizer(c);
        int seq = c.Settings.Teacher.SeqLen;
        var (ds, dd) = HybridStage.Split(c, tok, seq);
        // compression.distill_data: "hybrid" = Algorithm 2 (soft labels on D_s, hard on D_d); "all" = soft labels on every
        // training pair in both directions (plain KD of a general translator: the data the teacher itself was trained on).
        var source = s.DistillData == "all" ? Samples(new TranslationBatcher(tok, RunArtifacts.Pairs(c, "train"), seq).Examples) : Samples(ds);
        var target = s.DistillData == "all" ? [] : Samples(dd);
        var dev = Samples(new TranslationBatcher(tok, RunArtifacts.Pairs(c, "dev"), seq).Examples).Take(64).ToList();
        string mixedStudent = DownstreamStage.CompressedStudentName(c.Recipe);

        // (setting, teacher eval name, teacher dir, distillation target data): Table 3's mixed setting and Table 2's no-target one.
        var hybrid = RunArtifacts.Hybrid(c);
        var settings = new List<(string Setting, string TeacherName, string TeacherDir, List<CalibrationSample> Target)>
            { ("mixed", hybrid is null ? "teacher" : "teacher-hybrid", RunArtifacts.CurrentTeacher(c), target) };
        if (s.NoTargetTable)
            settings.Add(("no_target", hybrid?.SourceOnly is null ? "teacher" : "teacher-source_only", hybrid?.SourceOnly ?? RunArtifacts.Teacher(c), []));

        var models = new Dictionary<string, string>();
        var tables = new Dictionary<string, CompressionTable>();
        var curves = new Dictionary<string, IReadOnlyList<double[]>>();
        var sizes = new Dictionary<string, long>();
        long teacherParams = 0;
        var teacherLayers = ModelConfig.Load(Path.Combine(RunArtifacts.CurrentTeacher(c), "config.json"), arena: false).L;
        var jobs = settings.Select(x => (x, Methods: x.Setting == "mixed" ? CompressionMethods.Mixed(s, teacherLayers) : CompressionMethods.NoTarget(s))).ToList();
        int total = jobs.Sum(j => j.Methods.Count), done = 0;
        foreach (var ((setting, teacherName, teacherDir, targetData), methods) in jobs)
        {
            var teacherFiles = ModelFiles.Load(teacherDir);
            teacherParams = teacherFiles.Config.ParameterCount();
            GlmModelHolder teacher = new(() => ModelBridge.ToModel(teacherFiles));
            var rows = new Dictionary<string, string>();
            long studentParams = 0; // the mixed student's size (first method): layer_drop is cut to match it
            foreach (var method in methods)
            {
                string name = method.NameIn(setting, mixedStudent);
                string sub = $"{Name}.{name}";
                CompressedModel? result = c.Run.Result<CompressedModel>(sub);
                if (result is not null && StaleStudent(teacherFiles.Config, result) is { } why)
                {
                    c.Progress.Report(done / (double)total, $"{name}: rebuilding: {why}");
                    c.Run.LogMetric(Name, new JsonObject { ["model"] = name, ["event"] = "rebuild", ["reason"] = why });
                    c.Run.ForgetStage(sub);
                    result = null;
                }
                if (result is not null && method == CompressionMethods.LayerDrop
                    && CompressionTargets.LayerDropKeep(s, teacherFiles.Config, studentParams) is var keep && teacherFiles.Config.Resized(l: keep).ParameterCount() != result.Params)
                {
                    c.Progress.Report(done / (double)total, $"{name}: rebuilding at {keep} layers (equal size)");
                    c.Run.ForgetStage(sub);
                    result = null;
                }
                result ??= MarkDone(c, sub, Compress(c, method, name, teacherFiles, teacher, source, targetData, dev, (done, total), studentParams));
                if (method == CompressionMethods.Student) studentParams = result.Params;
                models[name] = result.Dir;
                sizes[name] = result.Params;
                if (result.Curve is { } curve) curves[name] = curve;
                if (method.TableRow) rows[method.Key] = name;
                done++;
            }
            tables[setting] = new CompressionTable(teacherName, teacherDir, rows);
        }
        return StageJson.ToJson(new CompressionResult
        {
            Teacher = RunArtifacts.CurrentTeacher(c), TeacherParams = teacherParams, Models = models, Params = sizes,
            Tables = tables, Figure4 = new Figure4Curves(curves.GetValueOrDefault(mixedStudent), curves.GetValueOrDefault("random_pruned")),
            Curves = curves, Importance = s.Importance,
            // Served with the engine's int8 kernels by the eval stage (their weights are stored dequantized from the int8 grid).
            Weights = models.Keys.Where(n => n.StartsWith("teacher-int8", StringComparison.Ordinal)).ToDictionary(n => n, _ => "int8"),
            NSource = source.Count, NTarget = target.Count,
        });
    }

    /// <summary>Why a finished student may not be resumed from (see <see cref="PlanBuilder.StaleRotary"/>), or null.</summary>
    static string? StaleStudent(ModelConfig teacher, CompressedModel result) =>
        result.Dir is { } dir && File.Exists(Path.Combine(dir, "config.json"))
            ? PlanBuilder.StaleRotary(teacher, ModelConfig.Load(Path.Combine(dir, "config.json"), arena: false))
            : null;

    static CompressedModel MarkDone(StageContext c, string sub, CompressedModel result)
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

    /// <summary>One student: int8 quantization of the teacher, or the method's plan → a smaller dense model → distillation.</summary>
    static CompressedModel Compress(StageContext c, CompressionMethod method, string name, ModelFiles teacherFiles, GlmModelHolder teacher,
        List<CalibrationSample> source, List<CalibrationSample> target, List<CalibrationSample> dev, (int Done, int Total) at, long studentParams)
    {
        var s = c.Settings.Compression;
        var t = teacherFiles.Config;
        // The mixed student: student/ (the final model), or student-compressed/ when the downstream stage continues from it.
        string dir = c.Run.PathOf(name is "student" or "student-compressed" ? name : Path.Combine("baselines", name));
        string tokenizerDir = Path.GetDirectoryName(RunArtifacts.TokenizerPath(c))!;
        c.Cancel.ThrowIfCancellationRequested();
        c.Progress.Report(at.Done / (double)at.Total, $"{name}: plan");
        if (method.Plan is null)
        {
            // Weight-only INT8 (groups of 32, as the int8 kernels store it): weights put on the int8 grid, so quality is
            // exactly the quantized model's; size is the int8 layout's bytes.
            var (q, bytes) = QuantizeLinearWeights(teacherFiles, QuantFormat.Int8);
            q.Save(dir, tokenizerDir, new Dictionary<string, string> { ["quantization"] = "int8 weight-only, group 32 (stored dequantized)" });
            return new CompressedModel { Dir = dir, Params = t.ParameterCount(), QuantizedBytes = bytes, Method = method.Key };
        }
        int nCal = s.CalibrationPairs;
        var calibration = source.Take(nCal - Math.Min(nCal / 2, target.Count)).Concat(target.Take(nCal / 2)).ToList();
        var kd = new DistillationWeights(Soft: (float)s.LogitWeight, Hard: (float)s.HardWeight, Hidden: (float)s.HiddenWeight, Cosine: 0,
            Temperature: (float)s.Temperature);
        var (plan, weights) = method.Plan(new PlanInputs(s, c.Settings.Seed, teacherFiles, calibration, kd, studentParams));
        var pruned = StructuredPruner.Prune(teacherFiles, plan);
        var student = ModelBridge.ToModel(pruned);
        int steps = s.DistillSteps;
        var options = new DistillOptions
        {
            Steps = steps, BatchSize = c.Settings.Teacher.BatchSize, MaxLen = c.Settings.Teacher.SeqLen,
            LearningRate = s.LearningRate, EvalEvery = Math.Max(1, steps / 10), Weights = weights, Seed = c.Settings.Seed,
            Schedule = s.Schedule(steps),
            // An interrupted part resumes mid-distillation; the checkpoints go once its student is saved.
            CheckpointDir = c.Run.PathOf("checkpoints", "distill-" + name), CheckpointEvery = c.Settings.Teacher.CheckpointEvery,
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var attempt = Distiller.Run(teacher.Value, student, source, target, dev, options, plan.HiddenChannels?.ToArray(),
            (step, loss, valid) =>
            {
                c.Progress.Report((at.Done + step / (double)steps) / at.Total, $"{name}: step {step}/{steps} dev loss {valid:F3}");
                c.Run.LogMetric("compression", new JsonObject { ["model"] = name, ["step"] = step, ["valid_loss"] = Math.Round(valid, 5) });
            }, cancel: c.Cancel);
        var curve = StageTraining.WithEarlier(c, "compression", m => (string?)m["model"] == name, attempt);
        AtomicDirectory.Write(dir, partial => ModelBridge.FromModel(student).WriteFiles(partial, tokenizerDir));
        Directory.Delete(options.CheckpointDir, recursive: true);
        return new CompressedModel
        {
            Dir = dir, Params = pruned.Config.ParameterCount(), Method = method.Key, Plan = plan.Note,
            TrainSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Steps = steps, Curve = LossCurve.Of(curve),
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
