// Stage: Figure 3 on the teacher's own configuration and data — seconds per training step of single-process,
// data-parallel (D=2), model-parallel (K stages, no micro-batching) and pipeline-parallel (K stages, M micro-batches)
// training at several batch (sample-block) sizes, and the epoch time that follows for this run's training split.
using System.Text.Json.Nodes;
using LightGlm.Model;
using LightGlm.Pipeline;
using LightGlm.Pipeline.Planning;
using LightGlm.Text.Tokenizers;
using LightGlm.Training;
using LightGlm.Training.Hybrid;
using LightGlm.Translation;

namespace LightGlm.Experiments.Stages;

public sealed class ParallelStage : IRecipeStage
{
    public string Name => "parallel";
    public string Description => "time single, data-, model- and pipeline-parallel training steps at several batch sizes (Figure 3)";
    public bool IsEnabled(Recipes.Recipe recipe) => recipe.Settings.Parallel.Enabled;

    public JsonObject Run(StageContext c)
    {
        var s = c.Settings;
        var tok = RunArtifacts.Tokenizer(c);
        var sp = SpecialTokens.From(tok);
        int seq = s.Teacher.SeqLen;
        var examples = new TranslationBatcher(tok, RunArtifacts.Pairs(c, "train"), seq).Examples;
        var config = RunArtifacts.TeacherConfig(s.Teacher, tok.VocabSize, sp); // as the teacher trains, dropout included
        int K = Math.Min(s.Teacher.PipelineStages, config.L), M = s.Teacher.MicroBatches;
        int steps = s.Parallel.Steps;
        var batches = s.Parallel.BatchSizes;
        var source = HybridBatchSource.Plain(examples, sp.Pad, s.Seed);
        var rows = new List<ParallelTiming>();
        var runs = batches.SelectMany(b => PlanMeasurement.Figure3Modes(b, [K], M).Select(m => (Batch: b, m.Mode, m.Config))).ToList();
        int done = 0;
        foreach (var (B, mode, cfg) in runs)
        {
            c.Cancel.ThrowIfCancellationRequested();
            c.Progress.Report(done++ / (double)runs.Count, $"{mode} batch {B}");
            var timing = PlanMeasurement.Time(config, cfg, StageSplit.Even(config.L, cfg.Stages), B, seq, steps, source);
            double stepSeconds = timing.MedianSeconds;
            long stepsPerEpoch = (examples.Count + B - 1) / B;
            rows.Add(new ParallelTiming
            {
                Mode = mode, Batch = B, Stages = cfg.Stages, MicroBatches = cfg.MicroBatches, Replicas = cfg.Replicas,
                StepSeconds = Math.Round(stepSeconds, 4), EpochSeconds = Math.Round(stepSeconds * stepsPerEpoch, 2),
                TokensPerS = Math.Round(B * seq / stepSeconds), Utilisation = Math.Round(timing.Utilisation, 4),
                IdealEfficiency = Math.Round(PipelineSchedule.IdealEfficiency(cfg.Stages, cfg.MicroBatches), 4),
                PeakActivationBytes = timing.PeakActivationBytes,
            });
            c.Run.LogMetric(Name, StageJson.ToJson(rows[^1]));
        }
        c.Progress.Report(1, "done");
        return StageJson.ToJson(new ParallelResult
        {
            Rows = rows, EpochExamples = examples.Count, SeqLen = seq, Cores = Environment.ProcessorCount,
            TimedSteps = steps, PipelineStages = K, MicroBatches = M,
        });
    }
}
