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
    static string UsePipeline(Trainer trainer, Recipes.Recipe r, StageContext c)
    {
        var p = new PipelineOptions { PipelineStages = r.Get<int>("teacher.pipeline_stages"), MicroBatches = r.Get<int>("teacher.micro_batches"), Predict = false };
        var problems = p.Problems(trainer.Options.BatchSize * trainer.Options.GradAccum);
        if (problems.Count > 0) throw new InvalidDataException("teacher.pipeline: " + string.Join("; ", problems).Replace("parallel.", "teacher."));
        var engine = PipelineTraining.Create(trainer.Model, p, trainer.Options.BatchSize * trainer.Options.GradAccum, trainer.Options.SeqLen,
            msg => c.Run.LogMetric("teacher", new JsonObject { ["event"] = "pipeline", ["message"] = msg }));
        trainer.Engine = engine;
        return engine.Description;
    }

    /// <summary>
    /// teacher.curve_pairs &gt; 0: at every validation point, greedy BLEU of the model so far on the first N dev pairs (both
    /// directions) and the first N unseen-package pairs (en→zh) — the learning curve of the report and docs/QUALITY.md,
    /// against the training CPU time and non-padding tokens logged beside it. Dev, not test: nothing is tuned on test.
    /// </summary>
    static Func<JsonObject>? LearningCurveProbe(StageContext c, GlmModel model, ITokenizer tok)
    {
        int n = c.Recipe.Get<int>("teacher.curve_pairs");
        if (n <= 0) return null;
        var dev = RunArtifacts.Pairs(c, "dev").Take(n).ToList();
        var unseen = c.ResultOf("corpus")["unseen"] is JsonValue u && File.Exists((string)u!) ? ParallelTsv.Read((string)u!).Take(n).ToList() : [];
        int maxNew = c.Recipe.Get<int>("eval.max_new_tokens");
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
    static JsonArray LearningCurve(TrainingCurve curve) => new(curve.Points!.Where(m => m["bleu_dev_en_zh"] is not null)
        .GroupBy(m => (int)m["step"]!).Select(g => g.Last()).OrderBy(m => (int)m["step"]!).Select(m =>
    {
        var p = new JsonObject { ["step"] = m["step"]!.DeepClone() };
        foreach (var k in new[] { "cpu_s", "real_tokens", "valid_loss", "bleu_dev_en_zh", "bleu_dev_zh_en", "bleu_unseen_en_zh" })
            if (m[k] is { } v) p[k] = v.DeepClone();
        return (JsonNode)p;
    }).ToArray());

    public JsonObject Run(StageContext c)
    {
        var r = c.Recipe;
        var tok = RunArtifacts.Tokenizer(c);
        var sp = SpecialTokens.From(tok);
        int seq = r.Get<int>("teacher.seq_len");
        var train = RunArtifacts.Pairs(c, "train");
        var examples = new TranslationBatcher(tok, train, seq).Examples;
        var config = RunArtifacts.TeacherConfig(r, tok.VocabSize, sp);
        var model = GlmModel.Create(config, seed: (ulong)r.Get<int>("seed"));
        // teacher.pack: several short pairs per row (block-diagonal prefix mask, positions restarting per pair) instead of
        // one pair padded to seq_len — the same examples, far fewer padding tokens.
        PackingStats? packing = null;
        IBatchSource data;
        if (r.Get<bool>("teacher.pack"))
        {
            var packed = new PackedBatchSource(examples, seq, sp.Pad, (ulong)r.Get<int>("seed"));
            packing = packed.FirstEpochStats();
            data = packed;
        }
        else data = HybridBatchSource.Plain(examples, sp.Pad, r.Get<int>("seed"));
        var trainer = new Trainer(model, RunArtifacts.TrainerOptions(r, "teacher", r.Get<int>("teacher.train_steps")), data,
            new CrossEntropyObjective((float)r.Get<double>("teacher.label_smoothing")));
        string? pipeline = r.Get<bool>("teacher.pipeline") ? UsePipeline(trainer, r, c) : null;
        var dev = RunArtifacts.DevSource(c, tok, seq);
        var curve = StageTraining.Run(c, Name, trainer, c.Run.PathOf("checkpoints", "teacher"), r.Get<int>("teacher.checkpoint_every"),
            validate: () => trainer.Evaluate(dev, RunArtifacts.DevBatches), validEvery: Math.Max(1, r.Get<int>("teacher.train_steps") / 8),
            tokenizerJson: RunArtifacts.TokenizerPath(c), probe: LearningCurveProbe(c, model, tok));
        string outDir = c.Run.PathOf("teacher");
        ModelDirectory.Save(model, outDir, RunArtifacts.TokenizerPath(c));
        return new JsonObject
        {
            ["model"] = outDir,
            ["params"] = model.Layout.TotalLength,
            ["pipeline"] = pipeline,
            ["examples"] = examples.Count,
            ["packed"] = packing is not null,
            ["pad_fraction"] = Math.Round(packing?.PadFraction ?? 1 - curve.RealTokens / Math.Max(1.0, curve.Tokens), 4),
            ["examples_per_row"] = packing is null ? 1 : Math.Round(packing.ExamplesPerRow, 2),
            ["real_tokens"] = curve.RealTokens,
            ["real_tokens_per_s"] = Math.Round(curve.RealTokens / Math.Max(curve.Seconds, 1e-9)),
            ["cpu_seconds"] = Math.Round(curve.CpuSeconds, 1),
            ["train_seconds"] = Math.Round(curve.Seconds, 1),
            ["tokens_per_s"] = Math.Round(curve.TokensPerSecond),
            ["final_loss"] = curve.Train.Count > 0 ? Math.Round(curve.Train[^1].Loss, 4) : null,
            ["valid_loss"] = curve.Valid.Count > 0 ? Math.Round(curve.Valid[^1].Loss, 4) : null,
            ["curve"] = RunLoop.ToJson(curve.Train.Where((_, i) => i % 10 == 0)),
            ["valid_curve"] = RunLoop.ToJson(curve.Valid),
            ["learning_curve"] = LearningCurve(curve),
        };
    }
}
