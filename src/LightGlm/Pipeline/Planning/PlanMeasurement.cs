// Times training steps of a plan in-process — the real trainer (clipping, AdamW) through the real pipeline engine —
// so the planner's prediction can be printed beside what really happened (`plan --measure`) and Figure 3 can be drawn
// (the recipe's parallel stage and `experiment parallel`): the one timing loop behind all three.
using LightGlm.Model;
using LightGlm.Training;

namespace LightGlm.Pipeline.Planning;

/// <summary>What <see cref="PlanMeasurement.Time"/> measured: every timed step's seconds, the median step, the busy share
/// of the stages (Σ forward+backward seconds of replica 0's stages / (K · wall): the measured counterpart of
/// M/(M+K−1)) and the peak bytes of cached activations.</summary>
public sealed record StepTiming(IReadOnlyList<double> Seconds, double Utilisation, long PeakActivationBytes)
{
    public double MedianSeconds => Seconds.Order().ElementAt(Seconds.Count / 2);
    public double TotalSeconds => Seconds.Sum();
}

public static class PlanMeasurement
{
    /// <summary>The plan's median seconds per step on random tokens.</summary>
    public static double Measure(ModelConfig config, ParallelPlan plan, int batchRows, int seq, int steps) =>
        Time(config, plan.Config, plan.Split, batchRows, seq, steps, new RandomTokenSource(config.V)).MedianSeconds;

    /// <summary>One untimed warm-up step (JIT, caches), then <paramref name="steps"/> timed optimizer steps of a fresh model
    /// (seed 1) on batches of <paramref name="rows"/> × <paramref name="seq"/> from <paramref name="data"/>, through an
    /// in-process pipeline of <paramref name="cfg"/>.</summary>
    public static StepTiming Time(ModelConfig config, PipelineConfig cfg, StageSplit split, int rows, int seq, int steps, IBatchSource data)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one timed step");
        var model = GlmModel.Create(config, seed: 1);
        var trainer = new Trainer(model, new TrainerOptions
        {
            Steps = steps + 1, BatchSize = rows, SeqLen = seq, Optimizer = new OptimizerOptions { Lr = 1e-4 }, Schedule = new ScheduleOptions { WarmupSteps = 0 },
        }, data);
        var engine = PipelineGradientEngine.Threads(model, cfg, split);
        trainer.Engine = engine;
        trainer.Step();
        var seconds = new List<double>();
        double busy = 0, wall = 0;
        long peak = 0;
        for (int i = 0; i < steps; i++)
        {
            double s = trainer.Step().Seconds;
            seconds.Add(s);
            wall += s;
            var res = engine.LastStep!;
            foreach (var st in res.Stages.Where(st => st.Replica == 0)) busy += st.ForwardSeconds + st.BackwardSeconds;
            peak = Math.Max(peak, res.PeakCacheBytes);
        }
        return new StepTiming(seconds, busy / (cfg.Stages * wall), peak);
    }

    /// <summary>Figure 3's configurations at one batch size: single-process, data-parallel (D = 2, even batches),
    /// model-parallel (K stages, no micro-batching) and pipeline-parallel (K stages, M micro-batches, when M divides the
    /// batch) for every K.</summary>
    public static IEnumerable<(string Mode, PipelineConfig Config)> Figure3Modes(int batch, IReadOnlyList<int> stages, int microBatches)
    {
        yield return ("single", new PipelineConfig(1, 1, 1, ScheduleKind.OneFOneB));
        if (batch % 2 == 0) yield return ("data-parallel", new PipelineConfig(1, 1, 2, ScheduleKind.OneFOneB));
        foreach (int k in stages)
        {
            yield return ("model-parallel", new PipelineConfig(k, 1, 1, ScheduleKind.OneFOneB));
            if (batch % microBatches == 0) yield return ("pipeline-parallel", new PipelineConfig(k, microBatches, 1, ScheduleKind.OneFOneB));
        }
    }
}
