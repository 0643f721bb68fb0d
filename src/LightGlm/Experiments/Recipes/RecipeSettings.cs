// The recipe as typed settings: one record per section, bound from the JSON tree (presets, a user's file, --set)
// and checked completely before any stage runs — kinds, ranges, choices and the rules between settings, every
// problem reported at once. Every setting in defaults.json is read here, or binding refuses it.
using LightGlm.Training;

namespace LightGlm.Experiments.Recipes;

public sealed record RecipeSettings(
    string Name, int Seed, int Threads,
    CorpusSettings Corpus, TokenizerSettings Tokenizer, TeacherSettings Teacher, ParallelSettings Parallel,
    HybridSettings Hybrid, CompressionSettings Compression, DownstreamSettings Downstream, EvalSettings Eval)
{
    /// <summary>The learning-rate schedules a section may name (teacher.lr_schedule, compression.lr_schedule).</summary>
    public static readonly string[] Schedules = ["constant", "cosine", "linear", "inverse_sqrt"];

    /// <summary>Binds every setting; the problems (empty when the recipe can run) come with the settings.</summary>
    public static (RecipeSettings Settings, List<string> Problems) Bind(System.Text.Json.Nodes.JsonObject root)
    {
        var r = new SettingsReader(root);
        var s = new RecipeSettings(r.String("name"), r.Int("seed"), r.Int("threads", min: 0),
            CorpusSettings.Bind(r), TokenizerSettings.Bind(r), TeacherSettings.Bind(r), ParallelSettings.Bind(r),
            HybridSettings.Bind(r), CompressionSettings.Bind(r), DownstreamSettings.Bind(r), EvalSettings.Bind(r));
        r.ReportUnread();
        if (r.Problems.Count == 0) s.CheckRules(r);
        return (s, r.Problems);
    }

    /// <summary>Rules between settings, checked once every setting has a valid value of its own.</summary>
    void CheckRules(SettingsReader r)
    {
        foreach (var p in Stages.RunArtifacts.TeacherConfig(Teacher, Tokenizer.VocabSize).Problems())
            r.Problem("teacher: " + p);
        if (Teacher.Pipeline)
            foreach (var p in Teacher.Pipelining.Problems(Teacher.BatchSize))
                r.Problem(p.Replace("parallel.", "teacher.") + " (teacher.pipeline = true)");
        if (Teacher.PretrainSteps > 0 && Corpus.MonoLines == 0)
            r.Problem($"'teacher.pretrain_steps' = {Teacher.PretrainSteps} pre-trains on monolingual text, but 'corpus.mono_lines' = 0 takes none: " +
                      "set corpus.mono_lines > 0 or teacher.pretrain_steps = 0");
        if (Parallel.Enabled && Math.Min(Teacher.PipelineStages, Teacher.NumHiddenLayers) < 2)
            r.Problem($"'parallel.enabled': Figure 3 needs at least 2 pipeline stages, and 'teacher.pipeline_stages' = {Teacher.PipelineStages} " +
                      $"with 'teacher.num_hidden_layers' = {Teacher.NumHiddenLayers} gives {Math.Min(Teacher.PipelineStages, Teacher.NumHiddenLayers)}: " +
                      "raise them or set parallel.enabled = false");
        if (Parallel.Enabled && Parallel.BatchSizes.Length == 0)
            r.Problem("'parallel.batch_sizes' is empty: Figure 3 needs at least one batch size, or set parallel.enabled = false");
        if (Hybrid.SourceDirection == Hybrid.TargetDirection)
            r.Problem($"'hybrid.source_direction' and 'hybrid.target_direction' are both '{Hybrid.SourceDirection}': D_s and D_d need the two directions");
    }
}

public sealed record CorpusSettings(string PackagesFile, string[] Packages, string[] HoldoutPackages, bool AllowNewer,
    double[] Split, int MaxTrainPairs, int MaxEvalPairs, int MonoLines)
{
    internal static CorpusSettings Bind(SettingsReader r)
    {
        var s = new CorpusSettings(r.String("corpus.packages_file"), r.Strings("corpus.packages"), r.Strings("corpus.holdout_packages"),
            r.Bool("corpus.allow_newer"), r.Doubles("corpus.split"), r.Int("corpus.max_train_pairs", min: 0),
            r.Int("corpus.max_eval_pairs", min: 0), r.Int("corpus.mono_lines", min: 0));
        if (s.Split.Length != 3 || s.Split.Any(x => !(x >= 0)) || !(s.Split[0] > 0))
            r.Problem($"'corpus.split' = [{string.Join(", ", s.Split)}]: expected three ratios (train, dev, test), ≥ 0, train > 0");
        return s;
    }
}

public sealed record TokenizerSettings(int VocabSize)
{
    internal static TokenizerSettings Bind(SettingsReader r) =>
        new(r.Int("tokenizer.vocab_size", min: Text.Tokenizers.SpecialTokens.All.Length + 256));
}

public sealed record TeacherSettings
{
    public int HiddenSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    public int IntermediateSize { get; init; }
    public double PartialRotaryFactor { get; init; }
    public bool RopeInterleaved { get; init; }
    public bool AttentionBias { get; init; }
    public int SeqLen { get; init; }
    public int BatchSize { get; init; }
    /// <summary>Language-model steps on the monolingual (manual page) text before translation training; 0 = none.</summary>
    public int PretrainSteps { get; init; }
    public int TrainSteps { get; init; }
    public double LearningRate { get; init; }
    public double WarmupFraction { get; init; }
    public string LrSchedule { get; init; } = "";
    public double LabelSmoothing { get; init; }
    public bool Pack { get; init; }
    public int CurvePairs { get; init; }
    public double WeightDecay { get; init; }
    public double Dropout { get; init; }
    public double GradClip { get; init; }
    public bool Pipeline { get; init; }
    public int PipelineStages { get; init; }
    public int MicroBatches { get; init; }
    public int CheckpointEvery { get; init; }
    /// <summary>Fraction of training examples given their best fuzzy match from train.tsv in the prompt (neural fuzzy repair); 0 = none.</summary>
    public double Fuzzy { get; init; }
    /// <summary>Lowest fuzzy score (1 − token edit distance / max length) a training match needs; the model keeps it for inference.</summary>
    public double FuzzyThreshold { get; init; }

    internal static TeacherSettings Bind(SettingsReader r) => new()
    {
        HiddenSize = r.Int("teacher.hidden_size", min: 1),
        NumHiddenLayers = r.Int("teacher.num_hidden_layers", min: 1),
        NumAttentionHeads = r.Int("teacher.num_attention_heads", min: 1),
        NumKeyValueHeads = r.Int("teacher.num_key_value_heads", min: 1),
        IntermediateSize = r.Int("teacher.intermediate_size", min: 1),
        PartialRotaryFactor = r.Double("teacher.partial_rotary_factor", atLeast: 0, atMost: 1),
        RopeInterleaved = r.Bool("teacher.rope_interleaved"),
        AttentionBias = r.Bool("teacher.attention_bias"),
        SeqLen = r.Int("teacher.seq_len", min: 4),
        BatchSize = r.Int("teacher.batch_size", min: 1),
        PretrainSteps = r.Int("teacher.pretrain_steps", min: 0),
        TrainSteps = r.Int("teacher.train_steps", min: 1),
        LearningRate = r.Double("teacher.learning_rate", above: 0),
        WarmupFraction = r.Double("teacher.warmup_fraction", atLeast: 0, below: 1),
        LrSchedule = r.Choice("teacher.lr_schedule", RecipeSettings.Schedules),
        LabelSmoothing = r.Double("teacher.label_smoothing", atLeast: 0, below: 1),
        Pack = r.Bool("teacher.pack"),
        CurvePairs = r.Int("teacher.curve_pairs", min: 0),
        WeightDecay = r.Double("teacher.weight_decay", atLeast: 0),
        Dropout = r.Double("teacher.dropout", atLeast: 0, below: 1),
        GradClip = r.Double("teacher.grad_clip", atLeast: 0),
        Pipeline = r.Bool("teacher.pipeline"),
        PipelineStages = r.Int("teacher.pipeline_stages", min: 1),
        MicroBatches = r.Int("teacher.micro_batches", min: 1),
        CheckpointEvery = r.Int("teacher.checkpoint_every", min: 0),
        Fuzzy = r.Double("teacher.fuzzy", atLeast: 0, atMost: 1),
        FuzzyThreshold = r.Double("teacher.fuzzy_threshold", above: 0, atMost: 1),
    };

    /// <summary>K = pipeline_stages stages × M = micro_batches micro-batches on threads (1F1B), for teacher.pipeline.</summary>
    public PipelineOptions Pipelining => new() { PipelineStages = PipelineStages, MicroBatches = MicroBatches, Predict = false };

    /// <summary>lr_schedule: "constant" (null), or cosine/linear/inverse_sqrt with warmup_fraction of the steps warming up and
    /// decay to 10% of the peak (inverse_sqrt: Lr·√(warmup/step), floored there).</summary>
    public ScheduleOptions? Schedule(int steps) => ScheduleOf(this.LrSchedule, WarmupFraction, steps); // ("this.": RecipeSettingsTests finds reads as ".Field")

    internal static ScheduleOptions? ScheduleOf(string kind, double warmupFraction, int steps) => kind switch
    {
        "constant" => null,
        _ => new ScheduleOptions
        {
            WarmupSteps = Math.Max(1, (int)Math.Round(steps * warmupFraction)), MinLrRatio = 0.1,
            Decay = kind switch { "cosine" => DecayKind.Cosine, "linear" => DecayKind.Linear, _ => DecayKind.InverseSqrt },
        },
    };
}

/// <summary>Figure 3: s/step of single, data-, model- and pipeline-parallel training at each batch size.</summary>
public sealed record ParallelSettings(bool Enabled, int[] BatchSizes, int Steps)
{
    internal static ParallelSettings Bind(SettingsReader r) =>
        new(r.Bool("parallel.enabled"), r.Ints("parallel.batch_sizes", min: 1), r.Int("parallel.steps", min: 1));
}

public sealed record HybridSettings
{
    public bool Enabled { get; init; }
    public string SourceDirection { get; init; } = "";
    public string TargetDirection { get; init; } = "";
    public double TargetFraction { get; init; }
    /// <summary>null: α from the set sizes and weights (Eq. 11); a number sets it by hand (the paper: 0.65).</summary>
    public double? Alpha { get; init; }
    public string Weighting { get; init; } = "";
    public double Ws { get; init; }
    public double Wd { get; init; }
    public int Steps { get; init; }
    public double LearningRate { get; init; }
    public bool Compare { get; init; }
    /// <summary>LoRA adapters of this rank over the frozen teacher (0 = fine-tune every weight); merged into the saved teacher.</summary>
    public int LoraRank { get; init; }
    /// <summary>null: α = rank (scale 1, PEFT's default pair r = 8, α = 8).</summary>
    public double? LoraAlpha { get; init; }
    public string[] LoraTargets { get; init; } = [];

    internal static HybridSettings Bind(SettingsReader r)
    {
        var s = Read(r);
        if (s.LoraAlpha is <= 0) r.Problem($"'hybrid.lora_alpha' = {s.LoraAlpha}: expected null (= hybrid.lora_rank) or a number > 0");
        if (s.LoraTargets.Length == 0) r.Problem("'hybrid.lora_targets' is empty: name at least one of attention, mlp");
        return s;
    }

    static HybridSettings Read(SettingsReader r) => new()
    {
        Enabled = r.Bool("hybrid.enabled"),
        SourceDirection = r.Choice("hybrid.source_direction", "en-zh", "zh-en"),
        TargetDirection = r.Choice("hybrid.target_direction", "zh-en", "en-zh"),
        TargetFraction = r.Double("hybrid.target_fraction", above: 0, below: 1),
        Alpha = r.NullableDouble("hybrid.alpha", atLeast: 0, atMost: 1),
        Weighting = r.Choice("hybrid.weighting", "per_sample", "loss_share"),
        Ws = r.Double("hybrid.w_s", above: 0),
        Wd = r.Double("hybrid.w_d", above: 0),
        Steps = r.Int("hybrid.steps", min: 1),
        LearningRate = r.Double("hybrid.learning_rate", above: 0),
        Compare = r.Bool("hybrid.compare"),
        LoraRank = r.Int("hybrid.lora_rank", min: 0),
        LoraAlpha = r.NullableDouble("hybrid.lora_alpha"),
        LoraTargets = r.Strings("hybrid.lora_targets", Model.Lora.LoraOptions.TargetNames),
    };
}

public sealed record CompressionSettings
{
    public static readonly string[] Baselines = ["layer_drop", "distilbert", "int8"];

    public bool Enabled { get; init; }
    public string Importance { get; init; } = "";
    public string LayerImportance { get; init; } = "";
    public int CalibrationPairs { get; init; }
    public int KeepLayers { get; init; }
    public double HeadDimRatio { get; init; }
    public double FfnRatio { get; init; }
    public double HiddenRatio { get; init; }
    /// <summary>Hidden ratios in (0, 1] of more mixed students (Table 4 at several levels), without repeats.</summary>
    public double[] Levels { get; init; } = [];
    public bool DepthVariant { get; init; }
    public int DistillSteps { get; init; }
    public string DistillData { get; init; } = "";
    public double LearningRate { get; init; }
    public string LrSchedule { get; init; } = "";
    public double WarmupFraction { get; init; }
    public double Temperature { get; init; }
    public double HiddenWeight { get; init; }
    public double LogitWeight { get; init; }
    public double HardWeight { get; init; }
    public string[] BaselineMethods { get; init; } = [];
    public string LayerDropSize { get; init; } = "";
    public bool RandomBaseline { get; init; }
    public bool NoTargetTable { get; init; }

    internal static CompressionSettings Bind(SettingsReader r)
    {
        var levels = r.Doubles("compression.levels");
        foreach (double level in levels)
            if (!(level is > 0 and <= 1))
                r.Problem($"'compression.levels': {level} is not a hidden ratio; use values in (0, 1], e.g. [0.5, 0.35]");
        return new()
        {
            Enabled = r.Bool("compression.enabled"),
            Importance = r.Choice("compression.importance", "taylor", "activation", "magnitude", "random"),
            LayerImportance = r.Choice("compression.layer_importance", "loss", "block_influence"),
            CalibrationPairs = r.Int("compression.calibration_pairs", min: 1),
            KeepLayers = r.Int("compression.keep_layers", min: 1),
            HeadDimRatio = r.Double("compression.head_dim_ratio", above: 0, atMost: 1),
            FfnRatio = r.Double("compression.ffn_ratio", above: 0, atMost: 1),
            HiddenRatio = r.Double("compression.hidden_ratio", above: 0, atMost: 1),
            Levels = levels.Distinct().ToArray(),
            DepthVariant = r.Bool("compression.depth_variant"),
            DistillSteps = r.Int("compression.distill_steps", min: 1),
            // "hybrid" = Algorithm 2 (soft labels on D_s, hard on D_d); "all" = soft labels on every training pair, both directions.
            DistillData = r.Choice("compression.distill_data", "hybrid", "all"),
            LearningRate = r.Double("compression.learning_rate", above: 0),
            LrSchedule = r.Choice("compression.lr_schedule", RecipeSettings.Schedules),
            WarmupFraction = r.Double("compression.warmup_fraction", atLeast: 0, below: 1),
            Temperature = r.Double("compression.temperature", above: 0),
            HiddenWeight = r.Double("compression.hidden_weight", atLeast: 0),
            LogitWeight = r.Double("compression.logit_weight", atLeast: 0),
            HardWeight = r.Double("compression.hard_weight", atLeast: 0),
            BaselineMethods = r.Strings("compression.baselines", Baselines),
            LayerDropSize = r.Choice("compression.layer_drop_size", "equal", "keep_layers"),
            RandomBaseline = r.Bool("compression.random_baseline"),
            NoTargetTable = r.Bool("compression.no_target_table"),
        };
    }

    public ScheduleOptions? Schedule(int steps) => TeacherSettings.ScheduleOf(this.LrSchedule, WarmupFraction, steps);
}

/// <summary>Eq. 13: the mixed student distilled on D_d with the hybrid teacher's soft labels (λ) and hard labels (1 − λ).</summary>
/// <param name="Replay">Share of the stage's training sequences taken from the source direction D_s (distilled with the
/// same loss), so the student keeps the direction Eq. 13 does not train; 0 = the paper's stage (D_d only).</param>
public sealed record DownstreamSettings(bool Enabled, double Lambda, string LambdaWeighs, double Temperature, int Steps, double LearningRate, int TopK,
    double Replay)
{
    internal static DownstreamSettings Bind(SettingsReader r) => new(
        r.Bool("downstream.enabled"), r.Double("downstream.lambda", atLeast: 0, atMost: 1), r.Choice("downstream.lambda_weighs", "teacher", "student"),
        r.Double("downstream.temperature", above: 0), r.Int("downstream.steps", min: 1), r.Double("downstream.learning_rate", above: 0),
        r.Int("downstream.top_k", min: 1), r.Double("downstream.replay", atLeast: 0, below: 1));
}

/// <param name="Batch">Sentences translated together: 1 reports per-sentence latencies; more scores a long test set
/// several times faster (same greedy outputs), without latencies.</param>
public sealed record EvalSettings(int MaxSentences, string[] UnseenModels, int Beam, int MaxNewTokens, int Batch)
{
    internal static EvalSettings Bind(SettingsReader r) => new(
        r.Int("eval.max_sentences", min: 0), r.Strings("eval.unseen_models"), r.Int("eval.beam", min: 1),
        r.Int("eval.max_new_tokens", min: 1), r.Int("eval.batch", min: 1, max: 64));
}
