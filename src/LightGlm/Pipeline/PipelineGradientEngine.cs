// The trainer's gradient engine over a pipeline: the step's micro-batches become one global batch that the
// pipeline (threads or MPI ranks, GlmPipeline.cs) cuts into D×M micro-batches; the trainer then clips and applies AdamW.
using LightGlm.Model;
using LightGlm.Pipeline.Planning;
using LightGlm.Training;

namespace LightGlm.Pipeline;

/// <summary>
/// The real model's forward and backward through a pipeline, as the trainer's engine. A step takes one global batch
/// and leaves its gradients (all-reduced over replicas) in the model's Grads arena, equal to one-process backward of
/// the same batch; there is no optimizer here (the trainer's AdamW is the one state). Carried by threads
/// (<see cref="InProcessGlmPipeline"/>) or MPI ranks (<see cref="MpiGlmPipeline"/>).
/// </summary>
public abstract class PipelineGradientEngine : IGradientEngine
{
    Batch? _global;

    /// <summary>What the pipeline measured in the last step (per-stage busy, wait, in-flight caches).</summary>
    public PipelineStepResult? LastStep { get; private set; }
    /// <summary>The planner's prediction for this configuration, when profiled (logged beside the measurement).</summary>
    public ParallelPlan? Prediction { get; set; }
    public abstract PipelineConfig Config { get; }
    public abstract StageSplit Split { get; }
    /// <summary>"threads" or "mpi".</summary>
    public abstract string Transport { get; }

    /// <summary>K·D stage threads in this process; the cores (<paramref name="cores"/>, default all) are divided among them.</summary>
    public static PipelineGradientEngine Threads(GlmModel model, PipelineConfig cfg, StageSplit split, int cores = 0) =>
        new InProcessGlmPipeline(model, cfg, split, cores);

    /// <summary>This MPI rank's stage of a K·D-rank job (rank = replica·K + stage).</summary>
    public static PipelineGradientEngine Mpi(GlmModel model, PipelineConfig cfg, StageSplit split, MpiPipelineGroups groups) =>
        new MpiGlmPipeline(model, cfg, split, groups);

    /// <summary>The loss of every replica's last stage.</summary>
    public abstract void SetObjective(ILossObjective objective);
    /// <summary>Forward and backward of <paramref name="global"/>, cut into D × M micro-batches; gradients into Grads.</summary>
    public abstract PipelineStepResult Step(Batch global);

    public double ComputeGradients(IReadOnlyList<Batch> micro, ILossObjective objective)
    {
        SetObjective(objective);
        LastStep = Step(Concat(micro));
        return LastStep.Loss;
    }

    public abstract string Description { get; }
    public abstract (int From, int To) Owned { get; }
    public abstract double SumOverOwners(double x);
    public abstract void WeightsChanged();
    public abstract bool Gather(params float[][] arenas);
    public abstract void Barrier();

    /// <summary>Fraction of the step the stages sat idle: 1 − Σ_s busy_s / (K·D · wall). The ideal is the bubble (K−1)/(M+K−1).</summary>
    public double MeasuredIdle()
    {
        if (LastStep is not { } r || r.Stages.Count == 0) return double.NaN;
        double wall = r.Stages.Max(s => s.Seconds);
        return 1 - r.Stages.Sum(s => s.ForwardSeconds + s.BackwardSeconds) / (r.Stages.Count * Math.Max(wall, 1e-12));
    }

    /// <summary>The step's micro-batches as one global batch (rows in order), reused across steps of the same shape.</summary>
    Batch Concat(IReadOnlyList<Batch> micro)
    {
        int T = micro[0].T, B = micro.Sum(m => m.B);
        if (micro.Any(m => m.T != T)) throw new ArgumentException("all micro-batches of a step must have the same sequence length");
        if (_global is null || _global.B != B || _global.T != T) _global = new Batch(B, T);
        var g = _global;
        bool prefix = micro.Any(m => m.PrefixLengths is not null), weights = micro.Any(m => m.SampleWeights is not null);
        g.PrefixLengths = prefix ? new int[B] : null;
        g.SampleWeights = weights ? new float[B] : null;
        bool packed = micro.Any(m => m.SegmentStarts is not null);
        g.SegmentStarts = packed ? new int[B * T] : null;
        g.SegmentPrefixEnds = packed ? new int[B * T] : null;
        int row = 0;
        foreach (var m in micro)
        {
            if (m.LossScale != micro[0].LossScale) throw new ArgumentException("micro-batches of a step must share the step's loss scale");
            m.Tokens.CopyTo(g.Tokens, row * T);
            m.Targets.CopyTo(g.Targets, row * T);
            if (prefix) { if (m.PrefixLengths is { } p) p.CopyTo(g.PrefixLengths!, row); }
            if (weights) { if (m.SampleWeights is { } w) w.CopyTo(g.SampleWeights!, row); else g.SampleWeights.AsSpan(row, m.B).Fill(1f); }
            if (packed)
            {
                if (m.SegmentStarts is { } ss) { ss.CopyTo(g.SegmentStarts!, row * T); m.SegmentPrefixEnds!.CopyTo(g.SegmentPrefixEnds!, row * T); }
                else
                    for (int r = 0; r < m.B; r++)
                        for (int t = 0; t < T; t++)
                        {   // an unpacked row is one example starting at 0 with its prefix length
                            g.SegmentStarts![(row + r) * T + t] = 0;
                            g.SegmentPrefixEnds![(row + r) * T + t] = m.PrefixLengths?[r] ?? 0;
                        }
            }
            row += m.B;
        }
        g.LossScale = micro[0].LossScale;
        g.Training = micro[0].Training;
        g.DropoutSeed = micro[0].DropoutSeed;
        return g;
    }
}
