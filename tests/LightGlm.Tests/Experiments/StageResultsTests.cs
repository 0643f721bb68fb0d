using System.Text.Json.Nodes;
using LightGlm.Experiments;
using LightGlm.Experiments.Stages;

namespace LightGlm.Tests.Experiments;

/// <summary>The typed stage results write the names the stage markers have always had (old run directories resume and
/// report), read markers written before a field existed, and say which file is bad when one does not read.</summary>
public class StageResultsTests
{
    static string[] Keys<T>(T value) => [.. StageJson.ToJson(value).Select(kv => kv.Key).Order(StringComparer.Ordinal)];
    static string[] Sorted(params string[] keys) => [.. keys.Order(StringComparer.Ordinal)];
    static readonly double[][] Curve = [[0, 5], [10, 4]];

    [Fact]
    public void TeacherResultWritesTheMarkersNames()
    {
        var t = new TeacherResult
        {
            Model = "m", Params = 1, Pipeline = "p", Pretrain = new PretrainResult(1, 2, 3, 4), Examples = 5,
            Fuzzy = new FuzzyTrainingResult(0.5, 0.6, 7, 8), Packed = true, PadFraction = 0.1, ExamplesPerRow = 2, RealTokens = 9, RealTokensPerS = 10,
            CpuSeconds = 11, TrainSeconds = 12, TokensPerS = 13, FinalLoss = 1, ValidLoss = 2, Curve = Curve, ValidCurve = Curve,
            LearningCurve = [new LearningPoint { Step = 1, CpuS = 2, RealTokens = 3, ValidLoss = 4, BleuDevEnZh = 5, BleuDevZhEn = 6, BleuUnseenEnZh = 7 }],
        };
        Assert.Equal(Sorted("model", "params", "pipeline", "pretrain", "examples", "fuzzy", "packed", "pad_fraction", "examples_per_row", "real_tokens",
            "real_tokens_per_s", "cpu_seconds", "train_seconds", "tokens_per_s", "final_loss", "valid_loss", "curve", "valid_curve", "learning_curve"), Keys(t));
        var json = StageJson.ToJson(t);
        Assert.Equal(Sorted("steps", "tokens", "final_loss", "cpu_seconds"), Sorted([.. json["pretrain"]!.AsObject().Select(kv => kv.Key)]));
        Assert.Equal(Sorted("fraction", "threshold", "with_match", "matches_too_long"), Sorted([.. json["fuzzy"]!.AsObject().Select(kv => kv.Key)]));
        Assert.Equal(Sorted("step", "cpu_s", "real_tokens", "valid_loss", "bleu_dev_en_zh", "bleu_dev_zh_en", "bleu_unseen_en_zh"),
            Sorted([.. json["learning_curve"]![0]!.AsObject().Select(kv => kv.Key)]));
        Assert.Equal("[[0,5],[10,4]]", json["curve"]!.ToJsonString());
    }

    [Fact]
    public void CompressionResultsWriteTheMarkersNames()
    {
        var c = new CompressionResult
        {
            Teacher = "t", TeacherParams = 1, Models = new() { ["student"] = "d" }, Params = new() { ["student"] = 2 },
            Tables = new() { ["mixed"] = new CompressionTable("teacher-hybrid", "dir", new() { ["student"] = "student" }) },
            Figure4 = new Figure4Curves(Curve, null), Curves = new() { ["student"] = Curve }, Importance = "activation",
            Weights = new() { ["teacher-int8"] = "int8" }, NSource = 3, NTarget = 4,
        };
        Assert.Equal(Sorted("teacher", "teacher_params", "models", "params", "tables", "figure4", "curves", "importance", "weights", "n_source", "n_target"), Keys(c));
        var json = StageJson.ToJson(c);
        Assert.Equal("""{"teacher":"teacher-hybrid","teacher_dir":"dir","rows":{"student":"student"}}""", json["tables"]!["mixed"]!.ToJsonString());
        Assert.Equal("""{"student":[[0,5],[10,4]],"random_pruned":null}""", json["figure4"]!.ToJsonString());
        Assert.Equal("student", StageJson.Read<CompressionResult>(json, "test").MixedStudent);

        // A quantized baseline and a distilled student, as their part markers (compression.NAME) have them.
        Assert.Equal(Sorted("dir", "params", "quantized_bytes", "method"),
            Keys(new CompressedModel { Dir = "d", Params = 1, QuantizedBytes = 2, Method = "int8" }));
        Assert.Equal(Sorted("dir", "params", "method", "plan", "train_seconds", "steps", "curve"),
            Keys(new CompressedModel { Dir = "d", Params = 1, Method = "student", Plan = "p", TrainSeconds = 3, Steps = 4, Curve = Curve }));
    }

    [Fact]
    public void HybridDownstreamAndParallelResultsWriteTheMarkersNames()
    {
        Assert.Equal(Sorted("teacher", "models", "alpha", "weighting", "n_s", "n_d", "source_direction", "target_direction", "lora_rank", "figure5"),
            Keys(new HybridResult
            {
                Teacher = "t", Models = [], Alpha = 0.5, Weighting = "w", NSource = 1, NTarget = 2, SourceDirection = "en-zh", TargetDirection = "zh-en",
                LoraRank = 0, Figure5 = new() { ["hybrid"] = new FineTuning { TargetDevLoss = 3, Curve = Curve } },
            }));
        var down = new DownstreamResult
        {
            Models = new() { ["student"] = "s" }, Student = "s", From = "f", FromDir = "fd", Teacher = "t", Params = 1, Lambda = 0.5, LambdaWeighs = "teacher",
            SoftWeight = 0.5, HardWeight = 0.5, Temperature = 1, TopK = 64, Steps = 2, LearningRate = 1e-3, TargetDirection = "zh-en", NTarget = 3, Replay = 0.1,
            NReplay = 4, TargetDevLossBefore = 1, TargetDevLossAfter = 2, DevLossBefore = 3, DevLossAfter = 4, Curve = Curve, TrainSeconds = 5, DistillSeconds = 6,
            TeacherCache = new TeacherCacheUse("p", 7, true, 8),
        };
        Assert.Equal(Sorted("models", "student", "from", "from_dir", "teacher", "params", "lambda", "lambda_weighs", "soft_weight", "hard_weight", "temperature",
            "top_k", "steps", "learning_rate", "target_direction", "n_target", "replay", "n_replay", "target_dev_loss_before", "target_dev_loss_after",
            "dev_loss_before", "dev_loss_after", "curve", "train_seconds", "distill_seconds", "teacher_cache"), Keys(down));
        Assert.Equal("""{"path":"p","bytes":7,"built":true,"seconds":8}""", StageJson.ToJson(down)["teacher_cache"]!.ToJsonString(new()));
        Assert.Equal(Sorted("mode", "batch", "stages", "micro_batches", "replicas", "step_seconds", "epoch_seconds", "tokens_per_s", "utilisation",
            "ideal_efficiency", "peak_activation_bytes"), Keys(new ParallelTiming
            {
                Mode = "single", Batch = 1, Stages = 1, MicroBatches = 1, Replicas = 1, StepSeconds = 1, EpochSeconds = 1, TokensPerS = 1, Utilisation = 1,
                IdealEfficiency = 1, PeakActivationBytes = 1,
            }));
    }

    [Fact]
    public void ModelScoresWriteTheEvaluatorsNames()
    {
        var d = new DirectionScores
        {
            Bleu = 1, Chrf = 2, Chrf2pp = 3, Ter = 4, TermAccuracy = 0.5, TranslationAccuracy = 0.6, MeanTargetProbability = 0.7, Sentences = 8, MemoryHits = 1,
            FuzzyHits = 2, LatencyP50Ms = 3, LatencyP95Ms = 4, Batch = 1, ThroughputSentencesPerS = 5, BleuSignature = "sig", Samples = [new("s", "r", "o")],
        };
        var m = new ModelScores
        {
            Params = 1, CheckpointBytes = 2, Beam = 1, Weights = "fp32", ProjectionBytes = 3, WeightBytes = 4, EnZh = d, ZhEn = d, MsPerGeneratedToken = 1,
            PrefillMs = 2, DecodeMsPerToken = 3, DecodeCpuMsPerToken = 4, PeakRssMb = 5,
        };
        Assert.Equal(Sorted("params", "checkpoint_bytes", "beam", "weights", "projection_bytes", "weight_bytes", "en-zh", "zh-en", "ms_per_generated_token",
            "prefill_ms", "decode_ms_per_token", "decode_cpu_ms_per_token", "peak_rss_mb"), Keys(m));
        Assert.Equal(Sorted("bleu", "chrf", "chrf2pp", "ter", "term_accuracy", "translation_accuracy", "mean_target_probability", "sentences", "memory_hits",
            "fuzzy_hits", "latency_p50_ms", "latency_p95_ms", "batch", "throughput_sentences_per_s", "bleu_signature", "samples"), Keys(d));
        Assert.Equal("""{"source":"s","reference":"r","output":"o"}""", StageJson.ToJson(d)["samples"]![0]!.ToJsonString());
        // One direction evaluated (lightglm eval --direction): the other is absent, as before.
        Assert.DoesNotContain("zh-en", Keys(m with { ZhEn = null }));
        Assert.Equal(Sorted("sentences", "models"), Keys(new EvalResult { Sentences = 1, Models = new() { ["teacher"] = m } }));
        Assert.Equal(Sorted("model", "dev_pairs", "en-zh", "zh-en", "dev_accuracy"),
            Keys(new SweepScore { Model = "m", DevPairs = 1, EnZh = 0.5, ZhEn = 0.5, DevAccuracy = 0.5 }));
        Assert.Equal(Sorted("dir", "train", "dev", "test", "unseen", "glossary", "mono_en", "mono_zh", "train_pairs", "dev_pairs", "test_pairs", "unseen_pairs"),
            Keys(new CorpusResult
            {
                Dir = "d", Train = "t", Dev = "d", Test = "t", Unseen = "u", Glossary = "g", MonoEn = "e", MonoZh = "z", TrainPairs = 1, DevPairs = 1,
                TestPairs = 1, UnseenPairs = 1,
            }));
        Assert.Equal(Sorted("path", "vocab_size", "train_seconds", "texts", "tokens_per_pair"),
            Keys(new TokenizerResult { Path = "p", VocabSize = 1, TrainSeconds = 1, Texts = 1, TokensPerPair = 1 }));
    }

    [Fact]
    public void AblationFileKeepsItsNamesAndReadsBack()
    {
        var table = new AblationTable([new AblationRow("baseline", false, false, false, "teacher", 0.4567, 1000, 4, 1.5, 100.04, "measured")], "note");
        var json = StageJson.ToJson(table.ToFile());
        Assert.Equal(Sorted("note", "rows"), Keys(table.ToFile()));
        Assert.Equal(Sorted("row", "parallel", "compression", "hybrid", "model", "accuracy", "params", "megabytes", "ms_per_token", "train_seconds", "time_source"),
            Sorted([.. json["rows"]![0]!.AsObject().Select(kv => kv.Key)]));
        Assert.Equal(45.67, (double)json["rows"]![0]!["accuracy"]!, 6); // in %, as printed
        var back = AblationTable.FromFile(StageJson.Read<AblationFile>(json, "ablation.json"), "from the file");
        Assert.Equal(0.4567, back.Rows[0].Accuracy, 6);
        Assert.Equal(100.0, back.Rows[0].TrainSeconds, 6);
        Assert.Equal("from the file", back.Note);
    }

    [Fact]
    public void MarkersWrittenBeforeAFieldExistedReadItAsNullAndTheRunnersFieldsAreKept()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"results-old-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            // A teacher marker from before pretraining, fuzzy prompts, packing and the learning curve; an eval from before
            // int8 serving and the CPU-time probe.
            run.MarkStageDone("teacher", JsonNode.Parse("""
                {"model":"/x/teacher","params":1000,"examples":5,"train_seconds":12.5,"tokens_per_s":300,"final_loss":2.5,"valid_loss":2.75,
                 "curve":[[0,5.0],[10,4.0]],"valid_curve":[],"wall_seconds":14,"cpu_seconds":20,"shared_from":"/other"}
                """)!.AsObject());
            run.MarkStageDone("eval", JsonNode.Parse("""
                {"sentences":2,"models":{"teacher":{"params":1000,"checkpoint_bytes":4000,"en-zh":{"bleu":12.5,"translation_accuracy":0.4,"sentences":2},
                 "ms_per_generated_token":1.5,"decode_ms_per_token":2}}}
                """)!.AsObject());
            var teacher = run.Result<TeacherResult>()!;
            Assert.Equal("/x/teacher", teacher.Model);
            Assert.Null(teacher.Pretrain);
            Assert.Null(teacher.Fuzzy);
            Assert.Null(teacher.LearningCurve);
            Assert.Equal(14, teacher.WallSeconds);
            Assert.Equal("/other", teacher.SharedFrom);
            Assert.Equal(20, run.Result<StageResult>("teacher")!.CpuSeconds);
            var m = run.Result<EvalResult>()!.Models["teacher"];
            Assert.Null(m.Weights);
            Assert.Null(m.DecodeCpuMsPerToken);
            Assert.Null(m.ZhEn);
            Assert.Null(m.EnZh!.Chrf);
            Assert.Equal(0.4, m.EnZh.TranslationAccuracy);
            Assert.True(double.IsNaN(m.MeanAccuracy)); // one direction: no mean, as the report has always shown it ("–")
            Assert.Null(run.Result<HybridResult>()); // not finished
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AMarkerThatDoesNotReadNamesItsFileAndTheWayOut()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"results-bad-{Guid.NewGuid():N}");
        try
        {
            var run = new RunDirectory(dir);
            run.MarkStageDone("teacher", JsonNode.Parse("""{"model":"/x","params":"many"}""")!.AsObject());
            var e = Assert.Throws<InvalidDataException>(() => run.Result<TeacherResult>());
            Assert.Contains(Path.Combine("stages", "teacher.done.json"), e.Message);
            Assert.Contains(nameof(TeacherResult), e.Message);
            Assert.Contains("--redo", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
