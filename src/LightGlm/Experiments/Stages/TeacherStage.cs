// Stage: the teacher — a GLM-style decoder (prefix mask over the prompt, partial interleaved rotary,
// qkv bias) trained on both translation directions of the training split, from scratch.
using System.Text.Json.Nodes;
using LightGlm.Model;
using LightGlm.Model.Checkpoints;
using LightGlm.Pipeline;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class TeacherStage : IRecipeStage
{
    public string Name => "teacher";
    public string Description => "train the teacher on both directions (GLM prefix mask, loss on the target only)";

    /// <summary>teacher.pipeline = true trains through the pipeline engine (Pipeline.PipelineTraining): the same gradients as one process.</summary>
    public static bool PipelineTrainingAvailable => true;

    /// <summary>Trains through K = teacher.pipeline_stages stages × M = teacher.micro_batches micro-batches on threads (DAPPLE 1F1B).</summary>
    static string UsePipeline(Trainer trainer, StageContext c)
    {
        // The options were checked with the recipe (RecipeSettings: teacher.pipeline's rules).
        var engine = PipelineTraining.Create(trainer.Model, c.Settings.Teacher.Pipelining, trainer.Options.BatchSize * trainer.Options.GradAccum, trainer.Options.SeqLen,
            msg => c.Run.LogMetric("teacher", new JsonObject { ["event"] = "pipeline", ["message"] = msg }));
        trainer.Engine = engine;
        return engine.Description;
    }

    /// <summary>
    /// teacher.pretrain_steps &gt; 0: language-model steps on the monolingual manual-page text of both languages (the
    /// first corpus.mono_lines / 2 paragraphs of each, as the tokenizer saw them; each paragraph then EOS) before the
    /// translation training — the paper pre-trains its GLM on unlabelled text first. The objective is next-token
    /// prediction over windows of the text (<see cref="TokenStreamSource"/>),
    /// not GLM's blank infilling. Resumable like the training after it (checkpoints/teacher-pretrain).
    /// </summary>
    static PretrainResult? Pretrain(StageContext c, GlmModel model, ITokenizer tok, SpecialTokens sp)
    {
        var t = c.Settings.Teacher;
        if (t.PretrainSteps == 0) return null;
        var files = RunArtifacts.Corpus(c).Monolingual.ToList();
        var stream = files.SelectMany(f => File.ReadLines(f).Where(l => l.Length > 0).Take(c.Settings.Corpus.MonoLines / 2))
            .SelectMany(l => (IEnumerable<int>)[.. tok.EncodeText(l), sp.Eos]).ToArray();
        if (stream.Length <= t.SeqLen + 1)
            throw new InvalidDataException($"teacher.pretrain_steps = {t.PretrainSteps}: the corpus has {stream.Length} tokens of monolingual text " +
                                           $"({(files.Count == 0 ? "no mono.en.txt / mono.zh.txt: install groff-base and build the corpus again" : string.Join(", ", files))}); " +
                                           "set teacher.pretrain_steps = 0 to train on the pairs alone");
        var trainer = new Trainer(model, RunArtifacts.TeacherOptions(c.Settings, t.PretrainSteps), new TokenStreamSource(stream, (ulong)c.Settings.Seed));
        var curve = StageTraining.Run(c, "teacher.pretrain", trainer, c.Run.PathOf("checkpoints", "teacher-pretrain"), t.CheckpointEvery,
            tokenizerJson: RunArtifacts.TokenizerPath(c));
        return new PretrainResult(t.PretrainSteps, stream.Length, curve.Train.Count > 0 ? Math.Round(curve.Train[^1].Loss, 4) : null,
            Math.Round(curve.CpuSeconds, 1));
    }

    /// <summary>
    /// teacher.curve_pairs &gt; 0: at every validation point, greedy BLEU of the model so far on the first N dev pairs (both
    /// directions) and the first N unseen-package pairs (en→zh) — the learning curve of the report and docs/QUALITY.md,
    /// against the training CPU time and non-padding tokens logged beside it. Dev, not test: nothing is tuned on test.
    /// </summary>
    static Func<JsonObject>? LearningCurveProbe(StageContext c, GlmModel model, ITokenizer tok)
    {
        int n = c.Settings.Teacher.CurvePairs;
        if (n <= 0) return null;
        var dev = RunArtifacts.Pairs(c, "dev").Take(n).ToList();
        var unseen = RunArtifacts.Unseen(c).Take(n).ToList();
        int maxNew = c.Settings.Eval.MaxNewTokens;
        return () =>
        {
            var translator = new GlmTranslator(model, tok, new TranslatorOptions { MaxBatch = 16, MaxLength = Math.Min(256, model.Config.MaxPositionEmbeddings) });
            double Bleu(IReadOnlyList<(string English, string Chinese)> pairs, Direction d)
            {
                var src = pairs.Select(p => d == Direction.EnToZh ? p.English : p.Chinese).ToList();
                var refs = pairs.Select(p => d == Direction.EnToZh ? p.Chinese : p.English).ToList();
                var hyps = translator.Translate(src, d, maxNew).Select(t => t.Text).ToList();
                return Math.Round(Evaluation.Metrics.MetricSuite.ForTarget(d.TargetLanguage()).Corpus(hyps, refs).Bleu.Score, 2);
            }
            var o = new JsonObject { ["bleu_dev_en_zh"] = Bleu(dev, Direction.EnToZh), ["bleu_dev_zh_en"] = Bleu(dev, Direction.ZhToEn) };
            if (unseen.Count > 0) o["bleu_unseen_en_zh"] = Bleu(unseen, Direction.EnToZh);
            return o;
        };
    }

    /// <summary>The probe's points (every attempt of the stage), one per validation step (the last, after a rollback).</summary>
    static List<LearningPoint> LearningCurve(TrainingCurve curve) =>
        curve.Points!.Where(m => m["bleu_dev_en_zh"] is not null).Select(m => StageJson.Read<LearningPoint>(m, "the teacher's metrics"))
            .GroupBy(p => p.Step).Select(g => g.Last()).OrderBy(p => p.Step).ToList();

    public JsonObject Run(StageContext c)
    {
        var s = c.Settings;
        var t = s.Teacher;
        var tok = RunArtifacts.Tokenizer(c);
        var sp = SpecialTokens.From(tok);
        int seq = t.SeqLen;
        var train = RunArtifacts.Pairs(c, "train");
        // teacher.fuzzy: that fraction of the examples has its best fuzzy match from train itself in the prompt (found once,
        // cached in the run directory), so the model learns to repair a similar string's translation.
        var matches = t.Fuzzy > 0 ? FuzzyTrainingMatches.Cached(c.Run.PathOf("teacher-fuzzy.tsv"), train, t.Fuzzy, t.FuzzyThreshold, (ulong)s.Seed) : null;
        var batcher = new TranslationBatcher(tok, train, seq, matches: matches);
        var examples = batcher.Examples;
        var model = GlmModel.Create(RunArtifacts.TeacherConfig(t, tok.VocabSize, sp), seed: (ulong)s.Seed);
        var pretrain = Pretrain(c, model, tok, sp);
        // teacher.pack: several short pairs per row (block-diagonal prefix mask, positions restarting per pair) instead of
        // one pair padded to seq_len — the same examples, far fewer padding tokens.
        PackingStats? packing = null;
        IBatchSource data;
        if (t.Pack)
        {
            var packed = new PackedBatchSource(examples, seq, sp.Pad, (ulong)s.Seed);
            packing = packed.FirstEpochStats();
            data = packed;
        }
        else data = HybridBatchSource.Plain(examples, sp.Pad, s.Seed);
        var trainer = new Trainer(model, RunArtifacts.TeacherOptions(s, t.TrainSteps), data, new CrossEntropyObjective((float)t.LabelSmoothing));
        string? pipeline = t.Pipeline ? UsePipeline(trainer, c) : null;
        var dev = RunArtifacts.DevSource(c, tok, seq);
        var curve = StageTraining.Run(c, Name, trainer, c.Run.PathOf("checkpoints", "teacher"), t.CheckpointEvery,
            validate: () => trainer.Evaluate(dev, RunArtifacts.DevBatches), validEvery: Math.Max(1, t.TrainSteps / 8),
            tokenizerJson: RunArtifacts.TokenizerPath(c), probe: LearningCurveProbe(c, model, tok));
        string outDir = c.Run.PathOf("teacher");
        // A model trained on fuzzy prompts says so in its directory (PromptFormat), so --memory gives it fuzzy prompts.
        var format = t.Fuzzy > 0 ? new PromptFormat(FuzzyMatches: true, t.FuzzyThreshold, t.Fuzzy, seq) : null;
        ModelDirectory.Replace(outDir, partial =>
        {
            ModelDirectory.WriteFiles(model, partial, RunArtifacts.TokenizerPath(c));
            format?.Save(partial);
        });
        return StageJson.ToJson(new TeacherResult
        {
            Model = outDir,
            Params = model.Layout.TotalLength,
            Pipeline = pipeline,
            Pretrain = pretrain,
            Examples = examples.Count,
            Fuzzy = format is null ? null : new FuzzyTrainingResult(t.Fuzzy, t.FuzzyThreshold, batcher.Stats.WithMatch, batcher.Stats.MatchesTooLong),
            Packed = packing is not null,
            PadFraction = Math.Round(packing?.PadFraction ?? 1 - curve.RealTokens / Math.Max(1.0, curve.Tokens), 4),
            ExamplesPerRow = packing is null ? 1 : Math.Round(packing.ExamplesPerRow, 2),
            RealTokens = curve.RealTokens,
            RealTokensPerS = Math.Round(curve.RealTokens / Math.Max(curve.Seconds, 1e-9)),
            CpuSeconds = Math.Round(curve.CpuSeconds, 1), // the runner writes the stage's process CPU time over it, as it always has
            TrainSeconds = Math.Round(curve.Seconds, 1),
            TokensPerS = Math.Round(curve.TokensPerSecond),
            FinalLoss = curve.Train.Count > 0 ? Math.Round(curve.Train[^1].Loss, 4) : null,
            ValidLoss = curve.Valid.Count > 0 ? Math.Round(curve.Valid[^1].Loss, 4) : null,
            Curve = LossCurve.Of(curve.Train.Where((_, i) => i % 10 == 0)),
            ValidCurve = LossCurve.Of(curve.Valid),
            LearningCurve = LearningCurve(curve),
        });
    }
}
