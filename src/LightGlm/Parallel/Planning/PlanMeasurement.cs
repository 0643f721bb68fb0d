// Runs a plan in-process on random tokens and returns the measured seconds per step (median after warm-up),
// so the planner's prediction can be printed beside what really happened.
using LightGlm.Model;

namespace LightGlm.Pipeline.Planning;

public static class PlanMeasurement
{
    public static double Measure(ModelConfig config, ParallelPlan plan, int batchRows, int seq, int steps)
    {
        var model = GlmModel.Create(config, seed: 1);
        var trainer = new InProcessGlmTrainer(model, plan.Config, plan.Split, new AdamWRangeOptimizer(1e-4));
        var batch = RandomBatch(config, batchRows, seq, 5);
        trainer.Step(batch); // warm-up: JIT, caches
        var times = new List<double>();
        for (int i = 0; i < steps; i++) times.Add(trainer.Step(batch).Seconds);
        times.Sort();
        return times[times.Count / 2];
    }

    public static Batch RandomBatch(ModelConfig c, int rows, int seq, ulong seed)
    {
        var rng = new Rng(seed);
        var b = new Batch(rows, seq);
        for (int k = 0; k < rows * seq; k++) { b.Tokens[k] = rng.NextInt(c.V); b.Targets[k] = rng.NextInt(c.V); }
        b.NormaliseByOwnCount();
        return b;
    }
}
