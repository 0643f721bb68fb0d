// What stages hand each other inside a run directory, typed: the corpus files, the tokenizer, the teachers; and the
// trainer options built from the recipe's settings, and the dev-set source for validation losses.
using System.Text.Json.Nodes;
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

/// <summary>The corpus stage's files: the splits, the held-out packages' pairs, the glossary and the monolingual text.</summary>
public sealed record CorpusFiles(string Train, string Dev, string Test, string? Unseen, string? Glossary, string? MonoEnglish, string? MonoChinese)
{
    public string Split(string name) => name switch
    {
        "train" => Train, "dev" => Dev, "test" => Test,
        _ => throw new ArgumentException($"no corpus split '{name}': train, dev or test"),
    };

    /// <summary>The monolingual files that exist (runs of corpora without manual pages have none).</summary>
    public IEnumerable<string> Monolingual => new[] { MonoEnglish, MonoChinese }.Where(p => p is not null && File.Exists(p))!;

    internal static CorpusFiles Of(JsonObject r) => new((string)r["train"]!, (string)r["dev"]!, (string)r["test"]!, (string?)r["unseen"],
        (string?)r["glossary"], (string?)r["mono_en"], (string?)r["mono_zh"]);
}

/// <summary>The hybrid stage's teachers: the hybrid one (Eq. 11–12) and, with hybrid.compare, the D_s-only one.</summary>
public sealed record HybridTeachers(string Hybrid, string? SourceOnly)
{
    internal static HybridTeachers Of(JsonObject r) => new((string)r["teacher"]!, (string?)r["models"]?["teacher-source_only"]);
}

/// <summary>A model of the run and the weights it is served with (fp32, or int8 on the engine's int8 kernels).</summary>
public sealed record RunModel(string Name, string Dir, WeightFormat Weights);

public static class RunArtifacts
{
    /// <summary>Dev batches per validation: enough for a stable loss, few enough to be cheap.</summary>
    public const int DevBatches = 8;

    public static CorpusFiles Corpus(StageContext c) => CorpusFiles.Of(c.ResultOf("corpus"));

    public static string TokenizerPath(StageContext c) => (string)c.ResultOf("tokenizer")["path"]!;

    public static ITokenizer Tokenizer(StageContext c) => HfTokenizer.Create(TokenizerPath(c));

    /// <summary>The teacher stage's model directory.</summary>
    public static string Teacher(StageContext c) => (string)c.ResultOf("teacher")["model"]!;

    /// <summary>The hybrid stage's teachers, or null when that stage is off.</summary>
    public static HybridTeachers? Hybrid(StageContext c) => c.Run.StageResult("hybrid") is { } r ? HybridTeachers.Of(r) : null;

    /// <summary>The teacher to compress: the hybrid fine-tuned one when that stage ran, else the trained one.</summary>
    public static string CurrentTeacher(StageContext c) => Hybrid(c)?.Hybrid ?? Teacher(c);

    /// <summary>The compression stage's mixed student (Table 3's LightChatGLM row): its name in the run and its directory.</summary>
    public static (string Name, string Dir) CompressedStudent(StageContext c)
    {
        var compression = c.ResultOf("compression");
        string name = (string?)compression["tables"]?["mixed"]?["rows"]?["student"]
                      ?? throw new InvalidOperationException("the compression stage made no mixed student; run it with compression.enabled = true");
        return (name, (string)compression["models"]![name]!);
    }

    /// <summary>
    /// Every model the run made, for the eval stage: the teachers, then each model a finished stage recorded under "models"
    /// (hybrid, compression, downstream), served in fp32 or in int8 where the stage says so under "weights" (the teacher-int8
    /// rows: their quality and speed are the quantized model's); with the int8 baseline on, the final student in int8 too
    /// (student-int8: pruned + quantized, stacked).
    /// </summary>
    public static List<RunModel> Models(StageContext c)
    {
        var models = new List<RunModel> { new("teacher", Teacher(c), WeightFormat.Fp32) };
        if (Hybrid(c) is { } hybrid) models.Add(new("teacher-hybrid", hybrid.Hybrid, WeightFormat.Fp32));
        foreach (var stage in new[] { "hybrid", "compression", "downstream", "baselines" })
            if (c.Run.StageResult(stage) is { } sr && sr["models"] is JsonObject ms)
                foreach (var (name, dir) in ms)
                    if (models.All(m => m.Name != name))
                        models.Add(new(name, (string)dir!, Served(sr, name)));
        if (c.Settings.Compression.BaselineMethods.Contains("int8") && models.FirstOrDefault(m => m.Name == "student") is { } student)
            models.Add(new("student-int8", student.Dir, WeightFormat.Int8));
        return models;
    }

    /// <summary>int8 when the stage's result lists the model under "weights" as int8 (or, for runs recorded before that key,
    /// a teacher-int8 row of the compression stage); fp32 otherwise.</summary>
    static WeightFormat Served(JsonObject stageResult, string name) =>
        stageResult["weights"]?[name] is JsonValue v ? InferenceWeights.ParseFormat(v.GetValue<string>())
        : name.StartsWith("teacher-int8", StringComparison.Ordinal) ? WeightFormat.Int8 : WeightFormat.Fp32;

    /// <summary>The pairs of a corpus split ("train", "dev", "test"), capped by the recipe where it says so.</summary>
    public static List<(string English, string Chinese)> Pairs(StageContext c, string split)
    {
        var pairs = ParallelTsv.Read(Corpus(c).Split(split));
        int cap = split == "train" ? c.Settings.Corpus.MaxTrainPairs : c.Settings.Corpus.MaxEvalPairs;
        return cap > 0 && pairs.Count > cap ? pairs.GetRange(0, cap) : pairs;
    }

    /// <summary>The held-out packages' pairs (corpus.holdout_packages); none in runs made before unseen.tsv existed.</summary>
    public static List<(string English, string Chinese)> Unseen(StageContext c) =>
        Corpus(c).Unseen is { } u && File.Exists(u) ? ParallelTsv.Read(u) : [];

    /// <summary>The teacher's model: a GLM decoder (prefix LM) of the recipe's sizes over a vocabulary of <paramref name="vocab"/>.</summary>
    public static ModelConfig TeacherConfig(Recipes.TeacherSettings t, int vocab, SpecialTokens? sp = null) => new()
    {
        ModelType = "chatglm", VocabSize = vocab,
        HiddenSize = t.HiddenSize, NumHiddenLayers = t.NumHiddenLayers, NumAttentionHeads = t.NumAttentionHeads,
        NumKeyValueHeads = t.NumKeyValueHeads, IntermediateSize = t.IntermediateSize, PartialRotaryFactor = t.PartialRotaryFactor,
        RopeInterleaved = t.RopeInterleaved, AttentionBias = t.AttentionBias, PrefixLm = true, HiddenDropout = t.Dropout,
        MaxPositionEmbeddings = Math.Max(256, t.SeqLen), BosTokenId = sp?.Bos, EosTokenId = sp?.Eos, PadTokenId = sp?.Pad,
    };

    /// <summary>Trainer options of a training stage: its steps and learning rate; batch, sequence, decay and clipping are the teacher's.</summary>
    public static TrainerOptions TrainerOptions(Recipes.RecipeSettings s, int steps, double lr, ScheduleOptions schedule) => new()
    {
        Steps = steps,
        BatchSize = s.Teacher.BatchSize,
        SeqLen = s.Teacher.SeqLen,
        Seed = (ulong)s.Seed,
        Optimizer = new OptimizerOptions { Lr = lr, WeightDecay = s.Teacher.WeightDecay, GradClip = s.Teacher.GradClip },
        Schedule = schedule,
    };

    /// <summary>The teacher's schedule is a setting (teacher.lr_schedule).</summary>
    public static TrainerOptions TeacherOptions(Recipes.RecipeSettings s, int steps) =>
        TrainerOptions(s, steps, s.Teacher.LearningRate, s.Teacher.Schedule(steps) ?? new ScheduleOptions { WarmupSteps = 0, Decay = DecayKind.Constant });

    /// <summary>Fine-tuning (hybrid): warm-up over teacher.warmup_fraction of the steps, then cosine.</summary>
    public static TrainerOptions FineTuneOptions(Recipes.RecipeSettings s, int steps, double lr) =>
        TrainerOptions(s, steps, lr, new ScheduleOptions { WarmupSteps = Math.Max(1, (int)(steps * s.Teacher.WarmupFraction)) });

    public static IBatchSource DevSource(StageContext c, ITokenizer tok, int seq)
    {
        var sp = LightGlm.Text.Tokenizers.SpecialTokens.From(tok);
        return HybridBatchSource.Plain(new TranslationBatcher(tok, Pairs(c, "dev"), seq).Examples, sp.Pad, seed: 99);
    }
}
