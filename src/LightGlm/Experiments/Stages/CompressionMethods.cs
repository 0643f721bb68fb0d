// The compression methods of Tables 2-4 and Figure 4, one entry each: how a method turns the teacher into a student
// (a pruning plan and the distillation loss's weights, or int8 quantization), its name in the run and its label in the
// report. The compression stage walks a list of these; nothing is dispatched or parsed back by string.
using LightGlm.Model;
using LightGlm.Compression;
using LightGlm.Compression.Distillation;
using LightGlm.Compression.Importance;
using LightGlm.Compression.Pruning;
using LightGlm.Experiments.Recipes;

namespace LightGlm.Experiments.Stages;

/// <summary>What a method needs to plan a student: the settings, the teacher, the calibration samples, the distillation
/// weights of compression.*_weight, and the mixed student's size (layer_drop is cut to match it; 0 before it exists).</summary>
public sealed record PlanInputs(CompressionSettings Settings, int Seed, ModelFiles Teacher, List<CalibrationSample> Calibration,
    DistillationWeights Kd, long StudentParams);

/// <param name="Key">The method's name in compression.baselines and in the stage's tables ("student", "layer_drop", …).</param>
/// <param name="Plan">The student's structure and its distillation weights; null = int8 quantization of the teacher.</param>
/// <param name="HiddenRatio">A compression.levels student: the student's recipe at this hidden ratio.</param>
public sealed record CompressionMethod(string Key, string Label, Func<PlanInputs, (PruningPlan Plan, DistillationWeights Weights)>? Plan,
    double? HiddenRatio = null)
{
    /// <summary>A row of Tables 2/3 (a level student is a Table 4 row, random pruning is Figure 4's baseline).</summary>
    public bool TableRow => HiddenRatio is null && Key != "random_pruned";

    /// <summary>The model's name in the run (eval, report): the mixed student is <paramref name="mixedStudent"/>
    /// (student or student-compressed); the no-target setting's models end in -no-target.</summary>
    public string NameIn(string setting, string mixedStudent) => setting == "mixed"
        ? HiddenRatio is { } h ? CompressionMethods.LevelName(h)
            : Key switch { "int8" => "teacher-int8", "student" => mixedStudent, "depth" => "student-depth", _ => Key }
        : Key == "int8" ? "teacher-int8-no-target" : Key + "-no-target";
}

public static class CompressionMethods
{
    public static readonly CompressionMethod Student = new("student", "LightChatGLM (ours): importance pruning + KD",
        x => (Pruned(x, CompressionTargets.Width(x.Settings, x.Teacher.Config)), x.Kd));

    /// <summary>The paper's "mixed" pruning also drops layers: one layer fewer and wider, at the width-only student's size.</summary>
    public static readonly CompressionMethod Depth = new("depth", "LightChatGLM, depth + width: one layer fewer, wider, equal size (importance pruning + KD)",
        x => (Pruned(x, CompressionTargets.Depth(x.Settings, x.Teacher.Config)), x.Kd));

    public static readonly CompressionMethod RandomPruned = new("random_pruned", "random pruning + KD",
        x => (PlanBuilder.Build(x.Teacher.Config, WeightImportance.Random(x.Teacher.Config, x.Seed + 1), CompressionTargets.Width(x.Settings, x.Teacher.Config)), x.Kd));

    public static readonly CompressionMethod LayerDrop = new("layer_drop", "mBERT_drop-style: top layers dropped + KD",
        x => (PlanBuilder.TopLayerDrop(x.Teacher.Config, CompressionTargets.LayerDropKeep(x.Settings, x.Teacher.Config, x.StudentParams)), x.Kd));

    /// <summary>DistilBERT: every other layer; soft + hard labels and a cosine loss on the hidden states, no projection (same width).</summary>
    public static readonly CompressionMethod DistilBert = new("distilbert", "DistilBERT-style: every other layer + KD",
        x => (PlanBuilder.AlternateLayers(x.Teacher.Config), x.Kd with { Hidden = 0, Cosine = 1 }));

    /// <summary>Weight-only INT8 of the teacher (ChatGLM-6B's quantization): no plan, no distillation.</summary>
    public static readonly CompressionMethod Int8 = new("int8", "teacher INT8 (ChatGLM-6B's quantization)", null);

    /// <summary>A compression.levels student: the student's recipe with hidden = ratio·C (Table 4 at several levels).</summary>
    public static CompressionMethod Level(double hiddenRatio) => new("level", $"{Student.Label}, hidden ratio {hiddenRatio}",
        x => (Pruned(x, CompressionTargets.Width(x.Settings, x.Teacher.Config, hiddenRatio)), x.Kd), hiddenRatio);

    /// <summary>The baselines by their compression.baselines name (<see cref="CompressionSettings.Baselines"/>).</summary>
    public static readonly IReadOnlyDictionary<string, CompressionMethod> Baselines =
        new[] { LayerDrop, DistilBert, Int8 }.ToDictionary(m => m.Key);

    /// <summary>Every method's label by key, for the report.</summary>
    public static readonly IReadOnlyDictionary<string, string> Labels =
        new[] { Student, Depth, RandomPruned, LayerDrop, DistilBert, Int8 }.ToDictionary(m => m.Key, m => m.Label);

    /// <summary>Table 3's students (mixed: the hybrid teacher, Algorithm 2): ours, random pruning (Figure 4), the levels
    /// (Table 4), the depth + width variant (a width-only student of one layer has no depth to give), the baselines.</summary>
    public static IReadOnlyList<CompressionMethod> Mixed(CompressionSettings s, int teacherLayers)
    {
        var methods = new List<CompressionMethod> { Student };
        if (s.RandomBaseline) methods.Add(RandomPruned);
        methods.AddRange(s.Levels.Select(Level));
        if (s.DepthVariant && Math.Min(teacherLayers, s.KeepLayers) >= 2) methods.Add(Depth);
        methods.AddRange(s.BaselineMethods.Select(b => Baselines[b]));
        return methods;
    }

    /// <summary>Table 2's students (no target data): ours and the baselines.</summary>
    public static IReadOnlyList<CompressionMethod> NoTarget(CompressionSettings s) => [Student, .. s.BaselineMethods.Select(b => Baselines[b])];

    /// <summary>The eval name of the mixed student at hidden ratio <paramref name="hiddenRatio"/>: student-h0.5.</summary>
    public static string LevelName(double hiddenRatio) => "student-h" + hiddenRatio.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Importance on the calibration samples → which channels, heads and layers the student keeps.</summary>
    static PruningPlan Pruned(PlanInputs x, PruningTargets targets) =>
        PlanBuilder.Build(x.Teacher.Config, WithLayerChoice(x, Importance(x), targets), targets);

    static ImportanceScores Importance(PlanInputs x) => x.Settings.Importance switch
    {
        "activation" => ActivationImportance.Compute(x.Teacher, x.Calibration),
        "taylor" => WeightImportance.Taylor(x.Teacher, TaylorGradients.Compute(x.Teacher, x.Calibration)),
        "magnitude" => WeightImportance.Magnitude(x.Teacher),
        _ => WeightImportance.Random(x.Teacher.Config, x.Seed),
    };

    /// <summary>compression.layer_importance: "block_influence" keeps the importance method's layer scores (ShortGPT's 1 − cos
    /// for activation); "loss" chooses the kept layers by the calibration loss without them (greedy backward elimination,
    /// <see cref="ActivationImportance.LayerSubsetByLoss"/>). Only matters when layers are dropped.</summary>
    static ImportanceScores WithLayerChoice(PlanInputs x, ImportanceScores s, PruningTargets targets)
    {
        if (x.Settings.LayerImportance == "block_influence" || targets.Layers is not int keep || keep >= x.Teacher.Config.L) return s;
        ActivationImportance.LayerSubsetByLoss(x.Teacher, x.Calibration, keep).CopyTo(s.Layers, 0);
        return s;
    }
}

/// <summary>The students' sizes from compression.* and the teacher's shape.</summary>
public static class CompressionTargets
{
    /// <param name="hiddenRatio">Instead of compression.hidden_ratio (a compression.levels student).</param>
    public static PruningTargets Width(CompressionSettings s, ModelConfig t, double? hiddenRatio = null) => new()
    {
        Layers = Math.Min(t.L, s.KeepLayers),
        HeadDim = Math.Max(2, (int)Math.Round(t.D * s.HeadDimRatio) & ~1),
        Ffn = Math.Max(1, (int)Math.Round(t.F * s.FfnRatio)),
        Hidden = (hiddenRatio ?? s.HiddenRatio) is var h && h < 1 ? (int)Math.Round(t.C * h) : null,
    };

    /// <summary>
    /// The depth + width student: one layer fewer than the width-only student (compression.keep_layers, at most the
    /// teacher's), the same head and FFN widths, and the hidden width (a multiple of 8, up to the teacher's) whose
    /// parameter count is nearest the width-only student's — the two at equal size.
    /// </summary>
    public static PruningTargets Depth(CompressionSettings s, ModelConfig t)
    {
        var w = Width(s, t);
        int layers = Math.Min(t.L, w.Layers ?? t.L);
        if (layers < 2) throw new InvalidDataException($"compression.depth_variant needs a width-only student of at least 2 layers (it has {layers})");
        int d = w.HeadDim ?? t.D, f = w.Ffn ?? t.F;
        long size = t.Resized(l: layers, c: w.Hidden ?? t.C, d: d, f: f).ParameterCount();
        int best = Enumerable.Range(1, t.C / 8).Select(k => 8 * k)
            .MinBy(c => Math.Abs(t.Resized(l: layers - 1, c: c, d: d, f: f).ParameterCount() - size));
        return w with { Layers = layers - 1, Hidden = best < t.C ? best : null };
    }

    /// <summary>How many bottom layers the top-layer-drop baseline keeps: compression.layer_drop_size = "equal" picks the depth
    /// whose full-width parameter count is nearest the mixed student's, so the two are compared at equal size as the paper's
    /// rows are; "keep_layers" keeps compression.keep_layers (the student's depth, at full width — a larger model).</summary>
    public static int LayerDropKeep(CompressionSettings s, ModelConfig t, long studentParams) =>
        s.LayerDropSize == "keep_layers" || studentParams <= 0
            ? Math.Min(t.L, s.KeepLayers)
            : Enumerable.Range(1, t.L).MinBy(k => Math.Abs(t.Resized(l: k).ParameterCount() - studentParams));
}
