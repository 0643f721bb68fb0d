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
        if (K < 2) throw new InvalidDataException($"teacher.pipeline_stages = {K}: Figure 3 needs at least 2 stages (and the model has {config.L} layers)");
        var modes = new (string Mode, Func<int, PipelineConfig?> Cfg)[]
        {
            ("single", _ => new PipelineConfig(1, 1, 1, ScheduleKind.OneFOneB)),
            ("data-parallel", b => b % 2 == 0 ? new PipelineConfig(1, 1, 2, ScheduleKind.OneFOneB) : null),
            ("model-parallel", _ => new PipelineConfig(K, 1, 1, ScheduleKind.OneFOneB)),
            ("pipeline-parallel", b => b % M == 0 ? new PipelineConfig(K, M, 1, ScheduleKind.OneFOneB) : null),
        };
        var source = HybridBatchSource.Plain(examples, sp.Pad, s.Seed);
        var rows = new JsonArray();
        int total = batches.Length * modes.Length, done = 0;
        foreach (int B in batches)
            foreach (var (mode, cfgFor) in modes)
            {
                c.Cancel.ThrowIfCancellationRequested();
                c.Progress.Report(done++ / (double)total, $"{mode} batch {B}");
                if (cfgFor(B) is not { } cfg) continue;
                double stepSeconds = StepSeconds(config, cfg, source, B, seq, steps);
                long stepsPerEpoch = (examples.Count + B - 1) / B;
                rows.Add(new JsonObject
                {
                    ["mode"] = mode, ["batch"] = B, ["stages"] = cfg.Stages, ["micro_batches"] = cfg.MicroBatches, ["replicas"] = cfg.Replicas,
                    ["step_seconds"] = Math.Round(stepSeconds, 4), ["epoch_seconds"] = Math.Round(stepSeconds * stepsPerEpoch, 2),
                    ["tokens_per_s"] = Math.Round(B * seq / stepSeconds),
                });
                c.Run.LogMetric(Name, (JsonObject)rows[^1]!.DeepClone());
            }
        c.Progress.Report(1, "done");
        return new JsonObject
        {
            ["rows"] = rows, ["epoch_examples"] = examples.Count, ["seq_len"] = seq, ["cores"] = Environment.ProcessorCount,
            ["timed_steps"] = steps, ["pipeline_stages"] = K, ["micro_batches"] = M,
        };
    }

    /// <summary>Median seconds of <paramref name="steps"/> optimizer steps of the trainer through the pipeline engine on
    /// real batches, after one untimed warm-up step.</summary>
    static double StepSeconds(ModelConfig config, PipelineConfig cfg, IBatchSource source, int B, int T, int steps)
    {
        var (trainer, _) = PlanMeasurement.TimingTrainer(config, cfg, StageSplit.Even(config.L, cfg.Stages), B, T, steps + 1, source);
        var times = new List<double>();
        for (int i = 0; i <= steps; i++)
        {
            var r = trainer.Step();
            if (i > 0) times.Add(r.Seconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
