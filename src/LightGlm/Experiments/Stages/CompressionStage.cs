// Stage: mixed compression (Algorithm 2). Importance on calibration pairs → a width/depth pruning plan →
// a real smaller dense student initialised from the teacher → distillation (soft labels from the teacher
// on D_s, hard labels, last-hidden MSE). Random pruning gets the same steps: Figure 4's comparison.
using System.Text.Json.Nodes;
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class CompressionStage : IRecipeStage
{
    public string Name => "compression";
    public string Description => "prune the teacher to a smaller dense student and distil it (mixed vs random pruning)";

    public JsonObject Run(StageContext c)
    {
        var r = c.Recipe;
        var tok = RunArtifacts.Tokenizer(c);
        int seq = r.Get<int>("teacher.seq_len");
        string teacherDir = RunArtifacts.CurrentTeacher(c);
        var teacherFiles = ModelFiles.Load(teacherDir);
        var teacher = ModelBridge.ToModel(teacherFiles);
        var t = teacherFiles.Shape;

        // Algorithm 2: soft labels (and the hidden-state loss) on the source data, hard labels on the target data.
        // Our reading: source = the en→zh examples, target = the zh→en examples of the training split.
        var examples = new TranslationBatcher(tok, RunArtifacts.Pairs(c, "train"), seq).Examples;
        var train = Samples(examples.Where(e => e.Direction == Direction.EnToZh));
        var trainTarget = Samples(examples.Where(e => e.Direction == Direction.ZhToEn));
        var dev = Samples(new TranslationBatcher(tok, RunArtifacts.Pairs(c, "dev"), seq).Examples).Take(64).ToList();
        int nCal = r.Get<int>("compression.calibration_pairs");
        var calibration = train.Take(nCal / 2).Concat(trainTarget.Take(nCal - nCal / 2)).ToList();
        var targets = new PruningTargets
        {
            Layers = Math.Min(t.L, r.Get<int>("compression.keep_layers")),
            HeadDim = Math.Max(2, (int)Math.Round(t.D * r.Get<double>("compression.head_dim_ratio")) & ~1),
            Ffn = Math.Max(1, (int)Math.Round(t.F * r.Get<double>("compression.ffn_ratio"))),
            Hidden = r.Get<double>("compression.hidden_ratio") < 1 ? (int)Math.Round(t.C * r.Get<double>("compression.hidden_ratio")) : null,
        };
        var weights = new DistillationWeights(Soft: (float)r.Get<double>("compression.logit_weight"), Hard: (float)r.Get<double>("compression.hard_weight"),
            Hidden: (float)r.Get<double>("compression.hidden_weight"), Cosine: 0, Temperature: (float)r.Get<double>("compression.temperature"));
        var options = new DistillOptions
        {
            Steps = r.Get<int>("compression.distill_steps"), BatchSize = r.Get<int>("teacher.batch_size"), MaxLen = seq,
            LearningRate = r.Get<double>("compression.learning_rate"), EvalEvery = Math.Max(1, r.Get<int>("compression.distill_steps") / 10),
            Weights = weights, Seed = r.Get<int>("seed"),
        };
        string importance = r.Get<string>("compression.importance");
        var methods = new (string Name, Func<ImportanceScores> Scores)[]
        {
            ("student", () => importance switch
            {
                "activation" => ActivationImportance.Compute(teacherFiles, calibration),
                "taylor" => WeightImportance.Taylor(teacherFiles, TaylorGradients.Compute(teacherFiles, calibration)),
                "magnitude" => WeightImportance.Magnitude(teacherFiles),
                "random" => WeightImportance.Random(t, r.Get<int>("seed")),
                _ => throw new InvalidDataException($"compression.importance = '{importance}': use activation, taylor, magnitude or random"),
            }),
            ("random_pruned", () => WeightImportance.Random(t, r.Get<int>("seed") + 1)),
        };
        var models = new JsonObject();
        var curves = new JsonObject();
        var sizes = new JsonObject();
        for (int i = 0; i < methods.Length; i++)
        {
            var (name, scores) = methods[i];
            c.Cancel.ThrowIfCancellationRequested();
            c.Progress.Report(i / (double)methods.Length, $"{name}: importance and plan");
            var plan = PlanBuilder.Build(t, scores(), targets);
            var pruned = StructuredPruner.Prune(teacherFiles, plan);
            var student = ModelBridge.ToModel(pruned);
            int k = i;
            var curve = Distiller.Run(teacher, student, train, trainTarget, dev, options, plan.HiddenChannels?.ToArray(),
                (step, loss, valid) =>
                {
                    c.Cancel.ThrowIfCancellationRequested();
                    c.Progress.Report((k + step / (double)options.Steps) / methods.Length, $"{name}: step {step}/{options.Steps} valid {valid:F3}");
                    c.Run.LogMetric(Name, new JsonObject { ["model"] = name, ["step"] = step, ["valid_loss"] = Math.Round(valid, 5) });
                });
            string dir = c.Run.PathOf(name == "student" ? "student" : Path.Combine("baselines", name));
            ModelBridge.FromModel(student, pruned.Shape).Save(dir, RunArtifacts.TokenizerPath(c));
            models[name] = dir;
            curves[name] = StageTraining.ToJson(curve.Select(p => (p.Step, p.ValLoss)));
            sizes[name] = pruned.Shape.ParameterCount();
        }
        return new JsonObject
        {
            ["teacher"] = teacherDir, ["teacher_params"] = t.ParameterCount(), ["models"] = models, ["params"] = sizes,
            ["figure4"] = curves, ["importance"] = importance,
            ["targets"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(targets)),
        };
    }

    static List<CalibrationSample> Samples(IEnumerable<TaskExample> examples) =>
        examples.Select(e => new CalibrationSample(e.Tokens, e.Targets, e.PrefixLength)).ToList();
}
