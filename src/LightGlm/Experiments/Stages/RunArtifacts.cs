// What stages hand each other inside a run directory, typed: the corpus files, the tokenizer, the teachers; and the
// trainer options built from the recipe's settings, and the dev-set source for validation losses.
using LightGlm.Model;
using LightGlm.Model.Inference;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

/// <summary>A model of the run and the weights it is served with (fp32, or int8 on the engine's int8 kernels).</summary>
public sealed record RunModel(string Name, string Dir, WeightFormat Weights);

public static class RunArtifacts
{
    /// <summary>Dev batches per validation: enough for a stable loss, few enough to be cheap.</summary>
    public const int DevBatches = 8;

    /// <summary>The corpus stage's files: the splits, the held-out packages' pairs, the glossary and the monolingual text.</summary>
    public static CorpusResult Corpus(StageContext c) => c.ResultOf<CorpusResult>();

    public static string TokenizerPath(StageContext c) => c.ResultOf<TokenizerResult>().Path;

    public static ITokenizer Tokenizer(StageContext c) => HfTokenizer.Create(TokenizerPath(c));

    /// <summary>The teacher stage's model directory.</summary>
    public static string Teacher(StageContext c) => c.ResultOf<TeacherResult>().Model;

    /// <summary>The hybrid stage's teachers (the hybrid one, Eq. 11–12, and with hybrid.compare the D_s-only one), or null when that stage is off.</summary>
    public static HybridResult? Hybrid(StageContext c) => c.Run.Result<HybridResult>();

    /// <summary>The teacher to compress: the hybrid fine-tuned one when that stage ran, else the trained one.</summary>
    public static string CurrentTeacher(StageContext c) => Hybrid(c)?.Teacher ?? Teacher(c);

    /// <summary>The compression stage's mixed student (Table 3's LightChatGLM row): its name in the run and its directory.</summary>
    public static (string Name, string Dir) CompressedStudent(StageContext c)
    {
        var compression = c.ResultOf<CompressionResult>();
        string name = compression.MixedStudent
                      ?? throw new InvalidOperationException("the compression stage made no mixed student; run it with compression.enabled = true");
        return (name, compression.Models[name]);
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
        var hybrid = Hybrid(c);
        if (hybrid is not null) models.Add(new("teacher-hybrid", hybrid.Teacher, WeightFormat.Fp32));
        var compression = c.Run.Result<CompressionResult>();
        var made = new[] { hybrid?.Models, compression?.Models, c.Run.Result<DownstreamResult>()?.Models };
        foreach (var stageModels in made)
            foreach (var (name, dir) in stageModels ?? [])
                if (models.All(m => m.Name != name))
                    models.Add(new(name, dir, Served(compression?.Weights, name)));
        if (c.Settings.Compression.BaselineMethods.Contains("int8") && models.FirstOrDefault(m => m.Name == "student") is { } student)
            models.Add(new("student-int8", student.Dir, WeightFormat.Int8));
        return models;
    }

    /// <summary>int8 when the compression stage lists the model under "weights" as int8 (or, for runs recorded before that key,
    /// a teacher-int8 row); fp32 otherwise.</summary>
    static WeightFormat Served(Dictionary<string, string>? weights, string name) =>
        weights?.GetValueOrDefault(name) is { } w ? InferenceWeights.ParseFormat(w)
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
