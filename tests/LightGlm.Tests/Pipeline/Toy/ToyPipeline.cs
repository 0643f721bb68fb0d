// Trains the toy MLP (a test fixture) through the in-process pipeline and through the single-process
// reference, so the tests can compare loss, gradients and weights.

using LightGlm.Pipeline;

namespace LightGlm.Tests.Pipeline.Toy;

/// <summary>The outcome of N steps: per-step loss, the last step's reduced gradients (whole-model layout,
/// replica 0) and the final weights (replica 0), plus messages exchanged.</summary>
public sealed record ToyRunResult(double[] Losses, float[] LastGradients, float[] Weights, long Messages, int PeakInFlight, long PeakCacheBytes);

public static class ToyPipeline
{
    public static int[] Widths(int layers, int width, int features, int classes)
    {
        var w = new int[layers + 1];
        w[0] = features; w[^1] = classes;
        for (int i = 1; i < layers; i++) w[i] = width;
        return w;
    }

    /// <summary>N SGD steps of the whole batch in one process, no pipeline: the reference.</summary>
    public static ToyRunResult Reference(ToyMlp model, IReadOnlyList<ToyBatch> steps, float lr)
    {
        var grads = new float[model.Parameters.Length];
        var losses = new double[steps.Count];
        for (int i = 0; i < steps.Count; i++)
        {
            losses[i] = model.LossAndGradients(steps[i], grads);
            model.Sgd(grads, lr, 0, grads.Length);
        }
        return new ToyRunResult(losses, grads, (float[])model.Parameters.Clone(), 0, 0, 0);
    }

    /// <summary>N steps through an in-process pipeline of K·D threads. Each replica has its own copy of the weights.</summary>
    public static ToyRunResult InProcess(ToyMlp model, PipelineConfig cfg, StageSplit split, IReadOnlyList<ToyBatch> steps, float lr,
        Func<int, int, IPipelineStage, IPipelineStage>? wrap = null)
    {
        var replicas = Enumerable.Range(0, cfg.Replicas).Select(_ => model.Clone()).ToArray();
        var toy = new ToyStage[cfg.Replicas, cfg.Stages];
        var stages = new IPipelineStage[cfg.Replicas, cfg.Stages];
        for (int d = 0; d < cfg.Replicas; d++)
            for (int s = 0; s < cfg.Stages; s++)
            {
                toy[d, s] = new ToyStage(replicas[d], split.Range(s).First, split.Range(s).End);
                stages[d, s] = wrap?.Invoke(d, s, toy[d, s]) ?? toy[d, s];
            }
        var pipe = new InProcessPipeline(cfg.Stages, cfg.Replicas);
        var losses = new double[steps.Count];
        var grads = new float[model.Parameters.Length];
        long messages = 0; int peak = 0; long peakBytes = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            var batch = steps[i];
            for (int d = 0; d < cfg.Replicas; d++)
            {
                var (start, count) = BatchSplit.Part(batch.Rows, cfg.Replicas, d);
                for (int s = 0; s < cfg.Stages; s++) toy[d, s].SetStep(batch, start, count, cfg.MicroBatches, batch.Rows);
            }
            var stats = pipe.Step(stages, cfg.Schedule, (d, s) => toy[d, s].Sgd(lr));
            messages += pipe.LastStepMessages;
            double loss = 0;
            for (int d = 0; d < cfg.Replicas; d++) loss += stats[d, cfg.Stages - 1].Loss;
            losses[i] = loss;
            foreach (var st in stats) { peak = Math.Max(peak, st.PeakInFlight); peakBytes = Math.Max(peakBytes, st.PeakCacheBytes); }
        }
        for (int s = 0; s < cfg.Stages; s++) toy[0, s].Gradients.Span.CopyTo(grads.AsSpan(toy[0, s].ParameterStart));
        return new ToyRunResult(losses, grads, (float[])replicas[0].Parameters.Clone(), messages, peak, peakBytes);
    }
}
