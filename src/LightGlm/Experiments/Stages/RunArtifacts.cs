// What stages hand each other inside a run directory: the tokenizer, the corpus splits, the model
// configs and trainer options built from the recipe, and the dev-set source for validation losses.
using LightGlm.Model;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public static class RunArtifacts
{
    /// <summary>Dev batches per validation: enough for a stable loss, few enough to be cheap.</summary>
    public const int DevBatches = 8;

    /// <summary>The teacher to compress: the hybrid fine-tuned one when that stage ran, else the trained one.</summary>
    public static string CurrentTeacher(StageContext c) =>
        (string?)c.Run.StageResult("hybrid")?["teacher"] ?? (string)c.ResultOf("teacher")["model"]!;

    public static string TokenizerPath(StageContext c) => (string)c.ResultOf("tokenizer")["path"]!;

    public static ITokenizer Tokenizer(StageContext c) => HfTokenizer.Create(TokenizerPath(c));

    /// <summary>The pairs of a corpus split ("train", "dev", "test"), capped by the recipe where it says so.</summary>
    public static List<(string English, string Chinese)> Pairs(StageContext c, string split)
    {
        var pairs = ParallelTsv.Read((string)c.ResultOf("corpus")[split]!);
        int cap = split == "train" ? c.Recipe.Get<int>("corpus.max_train_pairs") : c.Recipe.Get<int>("corpus.max_eval_pairs");
        return cap > 0 && pairs.Count > cap ? pairs.GetRange(0, cap) : pairs;
    }

    public static ModelConfig TeacherConfig(Recipes.Recipe r, int vocab, LightGlm.Text.Tokenizers.SpecialTokens sp) => new()
    {
        ModelType = "chatglm",
        VocabSize = vocab,
        HiddenSize = r.Get<int>("teacher.hidden_size"),
        NumHiddenLayers = r.Get<int>("teacher.num_hidden_layers"),
        NumAttentionHeads = r.Get<int>("teacher.num_attention_heads"),
        NumKeyValueHeads = r.Get<int>("teacher.num_key_value_heads"),
        IntermediateSize = r.Get<int>("teacher.intermediate_size"),
        PartialRotaryFactor = r.Get<double>("teacher.partial_rotary_factor"),
        RopeInterleaved = r.Get<bool>("teacher.rope_interleaved"),
        AttentionBias = r.Get<bool>("teacher.attention_bias"),
        PrefixLm = true,
        HiddenDropout = r.Get<double>("teacher.dropout"),
        MaxPositionEmbeddings = Math.Max(256, r.Get<int>("teacher.seq_len")),
        BosTokenId = sp.Bos, EosTokenId = sp.Eos, PadTokenId = sp.Pad,
    };

    /// <summary>Trainer options of a recipe section (teacher, hybrid, compression, downstream).</summary>
    public static TrainerOptions TrainerOptions(Recipes.Recipe r, string section, int steps, double? lr = null) => new()
    {
        Steps = steps,
        BatchSize = r.Get<int>("teacher.batch_size"),
        SeqLen = r.Get<int>("teacher.seq_len"),
        Seed = (ulong)r.Get<int>("seed"),
        Optimizer = new OptimizerOptions
        {
            Lr = lr ?? r.Get<double>(section + ".learning_rate"),
            WeightDecay = r.Get<double>("teacher.weight_decay"),
            GradClip = r.Get<double>("teacher.grad_clip"),
        },
        // The teacher's schedule is a setting (teacher.lr_schedule); the other sections keep warm-up + cosine.
        Schedule = section == "teacher"
            ? CompressionStage.Schedule(r, "teacher", steps) ?? new ScheduleOptions { WarmupSteps = 0, Decay = DecayKind.Constant }
            : new ScheduleOptions { WarmupSteps = Math.Max(1, (int)(steps * r.Get<double>("teacher.warmup_fraction"))) },
    };

    public static IBatchSource DevSource(StageContext c, ITokenizer tok, int seq)
    {
        var sp = LightGlm.Text.Tokenizers.SpecialTokens.From(tok);
        return HybridBatchSource.Plain(new TranslationBatcher(tok, Pairs(c, "dev"), seq).Examples, sp.Pad, seed: 99);
    }
}
