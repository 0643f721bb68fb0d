// Runs a plan in-process on random tokens and returns the measured seconds per step (median after warm-up),
// so the planner's prediction can be printed beside what really happened: the real trainer (clipping, AdamW) through
// the real pipeline engine.
using LightGlm.Model;
using LightGlm.Training;

namespace LightGlm.Pipeline.Planning;

public static class PlanMeasurement
{
    public static double Measure(ModelConfig config, ParallelPlan plan, int batchRows, int seq, int steps)
    {
        var (trainer, _) = TimingTrainer(config, plan.Config, plan.Split, batchRows, seq, steps + 1, new RandomTokenSource(config.V));
        trainer.Step(); // warm-up: JIT, caches
        var times = new List<double>();
        for (int i = 0; i < steps; i++) times.Add(trainer.Step().Seconds);
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>A trainer of a fresh model (seed 1) whose steps of <paramref name="rows"/> × <paramref name="seq"/> run
    /// through an in-process pipeline of <paramref name="cfg"/>: what Figure 3 and `plan --measure` time.</summary>
    public static (Trainer Trainer, PipelineGradientEngine Engine) TimingTrainer(ModelConfig config, PipelineConfig cfg, StageSplit split, int rows, int seq, int steps, IBatchSource data)
    {
        var model = GlmModel.Create(config, seed: 1);
        var trainer = new Trainer(model, new TrainerOptions
        {
            Steps = steps, BatchSize = rows, SeqLen = seq, Optimizer = new OptimizerOptions { Lr = 1e-4 }, Schedule = new ScheduleOptions { WarmupSteps = 0 },
        }, data);
        var engine = PipelineGradientEngine.Threads(model, cfg, split);
        trainer.Engine = engine;
        return (trainer, engine);
    }
}
