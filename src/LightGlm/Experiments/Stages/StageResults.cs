// What each stage records in stages/NAME.done.json, typed: written and read through StageJson (snake_case names, the
// files' names since the first runs), so a key misspelt in a stage or in the report is a compile error, not a blank cell.
// Members a newer build adds are nullable: files written before them read them as null.
using System.Text.Json.Serialization;
using LightGlm.Charts;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

/// <summary>A loss curve as the files store it: [[step, loss], …], losses to 5 decimals.</summary>
public static class LossCurve
{
    public static double[][] Of(IEnumerable<(int Step, double Loss)> curve) => curve.Select(p => new double[] { p.Step, Math.Round(p.Loss, 5) }).ToArray();

    public static ChartSeries Series(string name, IReadOnlyList<double[]>? curve) => new(name, (curve ?? []).Select(p => (p[0], p[1])).ToArray());
}

public sealed record CorpusResult : StageResult, IStageResult
{
    public static string Stage => "corpus";
    public required string Dir { get; init; }
    public required string Train { get; init; }
    public required string Dev { get; init; }
    public required string Test { get; init; }
    public required string? Unseen { get; init; }
    public required string? Glossary { get; init; }
    public required string? MonoEn { get; init; }
    public required string? MonoZh { get; init; }
    public required int TrainPairs { get; init; }
    public required int DevPairs { get; init; }
    public required int TestPairs { get; init; }
    public required int? UnseenPairs { get; init; }

    public string Split(string name) => name switch
    {
        "train" => Train, "dev" => Dev, "test" => Test,
        _ => throw new ArgumentException($"no corpus split '{name}': train, dev or test"),
    };

    /// <summary>The monolingual files that exist (runs of corpora without manual pages have none).</summary>
    [JsonIgnore] public IEnumerable<string> Monolingual => new[] { MonoEn, MonoZh }.Where(p => p is not null && File.Exists(p))!;
}

public sealed record TokenizerResult : StageResult, IStageResult
{
    public static string Stage => "tokenizer";
    public required string Path { get; init; }
    public required int VocabSize { get; init; }
    public required double TrainSeconds { get; init; }
    public required int Texts { get; init; }
    public required double TokensPerPair { get; init; }
}

public sealed record TeacherResult : StageResult, IStageResult
{
    public static string Stage => "teacher";
    public required string Model { get; init; }
    public required long Params { get; init; }
    public required string? Pipeline { get; init; }
    public required PretrainResult? Pretrain { get; init; }
    public required int Examples { get; init; }
    public required FuzzyTrainingResult? Fuzzy { get; init; }
    public required bool Packed { get; init; }
    public required double PadFraction { get; init; }
    public required double ExamplesPerRow { get; init; }
    public required long RealTokens { get; init; }
    public required double RealTokensPerS { get; init; }
    public required double TrainSeconds { get; init; }
    public required double TokensPerS { get; init; }
    public required double? FinalLoss { get; init; }
    public required double? ValidLoss { get; init; }
    public required IReadOnlyList<double[]>? Curve { get; init; }
    public required IReadOnlyList<double[]>? ValidCurve { get; init; }
    public required IReadOnlyList<LearningPoint>? LearningCurve { get; init; }
}

public sealed record PretrainResult(int Steps, int Tokens, double? FinalLoss, double CpuSeconds);

public sealed record FuzzyTrainingResult(double Fraction, double Threshold, int WithMatch, int MatchesTooLong);

/// <summary>A validation point of the teacher's learning curve: the probe's BLEU beside the training CPU time and tokens.</summary>
public sealed record LearningPoint
{
    public required int Step { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? CpuS { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? RealTokens { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? ValidLoss { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BleuDevEnZh { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BleuDevZhEn { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BleuUnseenEnZh { get; init; }
}

public sealed record ParallelResult : StageResult, IStageResult
{
    public static string Stage => "parallel";
    public required IReadOnlyList<ParallelTiming> Rows { get; init; }
    public required int EpochExamples { get; init; }
    public required int SeqLen { get; init; }
    public required int Cores { get; init; }
    public required int TimedSteps { get; init; }
    public required int PipelineStages { get; init; }
    public required int MicroBatches { get; init; }
}

/// <summary>One (mode, batch) timing of Figure 3.</summary>
public sealed record ParallelTiming
{
    public required string Mode { get; init; }
    public required int Batch { get; init; }
    public required int Stages { get; init; }
    public required int MicroBatches { get; init; }
    public required int Replicas { get; init; }
    public required double StepSeconds { get; init; }
    public required double EpochSeconds { get; init; }
    public required double TokensPerS { get; init; }
    public required double? Utilisation { get; init; }
    public required double? IdealEfficiency { get; init; }
    public required long? PeakActivationBytes { get; init; }
}

public sealed record HybridResult : StageResult, IStageResult
{
    public static string Stage => "hybrid";
    /// <summary>The hybrid fine-tuned teacher's directory.</summary>
    public required string Teacher { get; init; }
    /// <summary>The comparison teachers (hybrid.compare): "teacher-source_only", "teacher-target_only" → directory.</summary>
    public required Dictionary<string, string> Models { get; init; }
    public required double Alpha { get; init; }
    public required string? Weighting { get; init; }
    [JsonPropertyName("n_s")] public required int NSource { get; init; }
    [JsonPropertyName("n_d")] public required int NTarget { get; init; }
    public required string SourceDirection { get; init; }
    public required string TargetDirection { get; init; }
    public required int LoraRank { get; init; }
    /// <summary>Per variant ("hybrid", "source_only", "target_only"): its target-direction dev loss and curve.</summary>
    public required Dictionary<string, FineTuning> Figure5 { get; init; }
    /// <summary>Not written by this build; read where a run has it (the ablation's training time).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TrainSeconds { get; init; }

    /// <summary>The teacher fine-tuned on D_s only (hybrid.compare), or null.</summary>
    [JsonIgnore] public string? SourceOnly => Models?.GetValueOrDefault("teacher-source_only");
}

public sealed record FineTuning
{
    public required double TargetDevLoss { get; init; }
    public required IReadOnlyList<double[]>? Curve { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TrainSeconds { get; init; }
}

public sealed record CompressionResult : StageResult, IStageResult
{
    public static string Stage => "compression";
    public required string Teacher { get; init; }
    public required long TeacherParams { get; init; }
    /// <summary>Every student and baseline: name → directory.</summary>
    public required Dictionary<string, string> Models { get; init; }
    public required Dictionary<string, long> Params { get; init; }
    /// <summary>"mixed" (Table 3) and "no_target" (Table 2).</summary>
    public required Dictionary<string, CompressionTable> Tables { get; init; }
    public required Figure4Curves? Figure4 { get; init; }
    public required Dictionary<string, IReadOnlyList<double[]>> Curves { get; init; }
    public required string Importance { get; init; }
    /// <summary>Models the eval stage serves on other weights than fp32 (the teacher-int8 rows: "int8").</summary>
    public required Dictionary<string, string>? Weights { get; init; }
    [JsonPropertyName("n_source")] public required int NSource { get; init; }
    [JsonPropertyName("n_target")] public required int NTarget { get; init; }

    /// <summary>The mixed setting's student (Table 3's LightChatGLM row: "student", or "student-compressed" before downstream distillation).</summary>
    [JsonIgnore] public string? MixedStudent => Tables?.GetValueOrDefault("mixed")?.Rows?.GetValueOrDefault("student");
    [JsonIgnore] public string? NoTargetStudent => Tables?.GetValueOrDefault("no_target")?.Rows?.GetValueOrDefault("student");
}

/// <summary>A table's teacher and its rows: method key ("student", "layer_drop", …) → model name.</summary>
public sealed record CompressionTable(string Teacher, string? TeacherDir, Dictionary<string, string> Rows);

public sealed record Figure4Curves(IReadOnlyList<double[]>? Student, IReadOnlyList<double[]>? RandomPruned);

/// <summary>One student or baseline of the compression stage (marker compression.NAME): quantized, or pruned and distilled.</summary>
public sealed record CompressedModel
{
    public required string Dir { get; init; }
    public required long Params { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? QuantizedBytes { get; init; }
    public required string? Method { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Plan { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TrainSeconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Steps { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<double[]>? Curve { get; init; }
}

public sealed record DownstreamResult : StageResult, IStageResult
{
    public static string Stage => "downstream";
    public required Dictionary<string, string> Models { get; init; }
    public required string Student { get; init; }
    public required string From { get; init; }
    public required string FromDir { get; init; }
    public required string Teacher { get; init; }
    public required long Params { get; init; }
    public required double Lambda { get; init; }
    public required string? LambdaWeighs { get; init; }
    public required double SoftWeight { get; init; }
    public required double HardWeight { get; init; }
    public required double Temperature { get; init; }
    public required int TopK { get; init; }
    public required int Steps { get; init; }
    public required double LearningRate { get; init; }
    public required string? TargetDirection { get; init; }
    [JsonPropertyName("n_target")] public required int NTarget { get; init; }
    public required double Replay { get; init; }
    [JsonPropertyName("n_replay")] public required int NReplay { get; init; }
    public required double? TargetDevLossBefore { get; init; }
    public required double? TargetDevLossAfter { get; init; }
    public required double? DevLossBefore { get; init; }
    public required double? DevLossAfter { get; init; }
    public required IReadOnlyList<double[]>? Curve { get; init; }
    /// <summary>The teacher's forward passes (into the cache) + the distillation steps.</summary>
    public required double? TrainSeconds { get; init; }
    public required double? DistillSeconds { get; init; }
    public required TeacherCacheUse? TeacherCache { get; init; }
}

public sealed record TeacherCacheUse(string? Path, long Bytes, bool Built, double Seconds);

public sealed record EvalResult : StageResult, IStageResult
{
    public static string Stage => "eval";
    public required int Sentences { get; init; }
    public required Dictionary<string, ModelScores> Models { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public UnseenEval? Unseen { get; init; }
}

/// <summary>The models of eval.unseen_models on the held-out packages.</summary>
public sealed record UnseenEval(int Sentences, IReadOnlyList<string> Packages, Dictionary<string, ModelScores> Models);

/// <summary>One model on a test split (<see cref="ModelEvaluator"/>; also the marker eval.NAME): size, speed, and scores per direction.</summary>
public sealed record ModelScores
{
    public required long Params { get; init; }
    public required long CheckpointBytes { get; init; }
    public required int Beam { get; init; }
    /// <summary>The weights it was run with: fp32, int8 or int4.</summary>
    public required string? Weights { get; init; }
    public required long? ProjectionBytes { get; init; }
    /// <summary>The weights inference holds: fp32 parameters with the projections (and LM head) in the translator's format.</summary>
    public required long? WeightBytes { get; init; }
    [JsonPropertyName("en-zh"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DirectionScores? EnZh { get; init; }
    [JsonPropertyName("zh-en"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DirectionScores? ZhEn { get; init; }
    public required double? MsPerGeneratedToken { get; init; }
    public required double? PrefillMs { get; init; }
    public required double? DecodeMsPerToken { get; init; }
    public required double? DecodeCpuMsPerToken { get; init; }
    public required double? PeakRssMb { get; init; }

    public DirectionScores? In(Direction d) => d == Direction.EnToZh ? EnZh : ZhEn;

    /// <summary>Teacher-forced translation accuracy, mean of both directions (NaN when one is missing).</summary>
    [JsonIgnore] public double MeanAccuracy => ((EnZh?.TranslationAccuracy ?? double.NaN) + (ZhEn?.TranslationAccuracy ?? double.NaN)) / 2;
    [JsonIgnore] public double MeanBleu => ((EnZh?.Bleu ?? double.NaN) + (ZhEn?.Bleu ?? double.NaN)) / 2;
}

public sealed record DirectionScores
{
    public required double? Bleu { get; init; }
    public required double? Chrf { get; init; }
    public required double? Chrf2pp { get; init; }
    public required double? Ter { get; init; }
    public required double? TermAccuracy { get; init; }
    public required double? TranslationAccuracy { get; init; }
    public required double? MeanTargetProbability { get; init; }
    public required int Sentences { get; init; }
    public required int? MemoryHits { get; init; }
    public required int? FuzzyHits { get; init; }
    public required double? LatencyP50Ms { get; init; }
    public required double? LatencyP95Ms { get; init; }
    public required int Batch { get; init; }
    public required double ThroughputSentencesPerS { get; init; }
    public required string? BleuSignature { get; init; }
    public required IReadOnlyList<TranslationSample>? Samples { get; init; }
}

public sealed record TranslationSample(string Source, string Reference, string Output);

public sealed record ReportResult(string Html, string Markdown, string Json) : StageResult, IStageResult
{
    public static string Stage => "report";
}

/// <summary>A sweep trial's score (marker "score"): teacher-forced accuracy on the dev split of the model it made.</summary>
public sealed record SweepScore : StageResult, IStageResult
{
    public static string Stage => "score";
    public required string Model { get; init; }
    public required int DevPairs { get; init; }
    [JsonPropertyName("en-zh")] public required double EnZh { get; init; }
    [JsonPropertyName("zh-en")] public required double ZhEn { get; init; }
    public required double DevAccuracy { get; init; }
}
