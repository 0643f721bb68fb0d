// The trainer's gradient engine over a pipeline: the step's micro-batches become one global batch that the
// pipeline (threads or MPI ranks) cuts into D×M micro-batches; the trainer then clips and applies AdamW.
using LightGlm.Model;
using LightGlm.Pipeline.Planning;
using LightGlm.Training;

namespace LightGlm.Pipeline;

public sealed class PipelineGradientEngine : IGradientEngine
{
    readonly IPipelineTrainer _pipe;
    readonly InProcessGlmTrainer? _threads;
    readonly MpiGlmTrainer? _mpi;
    readonly GlmModel _model;
    Batch? _global;

    /// <summary>What the pipeline measured in the last step (per-stage busy, wait, in-flight caches).</summary>
    public PipelineStepResult? LastStep { get; private set; }
    /// <summary>The planner's prediction for this configuration, when profiled (logged beside the measurement).</summary>
    public ParallelPlan? Prediction { get; set; }
    public PipelineConfig Config => _pipe.Config;
    public StageSplit Split { get; }
    public string Transport => _mpi is null ? "threads" : "mpi";

    PipelineGradientEngine(GlmModel model, IPipelineTrainer pipe, StageSplit split)
    {
        _model = model; _pipe = pipe; Split = split;
        _threads = pipe as InProcessGlmTrainer;
        _mpi = pipe as MpiGlmTrainer;
    }

    /// <summary>K·D stage threads in this process; the cores (<paramref name="cores"/>, default all) are divided among them.</summary>
    public static PipelineGradientEngine Threads(GlmModel model, PipelineConfig cfg, StageSplit split, int cores = 0) =>
        new(model, new InProcessGlmTrainer(model, cfg, split, optimizer: null, cores), split);

    /// <summary>This MPI rank's stage of a K·D-rank job (rank = replica·K + stage).</summary>
    public static PipelineGradientEngine Mpi(GlmModel model, PipelineConfig cfg, StageSplit split, MpiPipelineGroups groups) =>
        new(model, new MpiGlmTrainer(model, cfg, split, optimizer: null, groups), split);

    public string Description =>
        $"pipeline {Config} split {Split} over {(_mpi is null ? $"{Config.Workers} threads" : $"MPI rank {_mpi.Groups.World.Rank} of {_mpi.Groups.World.Size} (stage {_mpi.Groups.Stage}, replica {_mpi.Groups.Replica})")}";

    public (int From, int To) Owned => _mpi is null ? (0, _model.Layout.TotalLength) : (_mpi.Stage.ParameterStart, _mpi.Stage.ParameterEnd);

    public double ComputeGradients(IReadOnlyList<Batch> micro, ILossObjective objective)
    {
        var g = Concat(micro);
        if (_threads is not null) _threads.SetObjective(objective);
        else _mpi!.Stage.Objective = objective;
        LastStep = _pipe.Step(g);
        return LastStep.Loss;
    }

    public double SumOverOwners(double x)
    {
        if (_mpi is null) return x;
        Span<double> v = [x];
        _mpi.Groups.Pipeline.AllreduceSum(v);
        return v[0];
    }

    public void WeightsChanged() => _threads?.SyncReplicas();

    public void Barrier() => _mpi?.Groups.World.Barrier();

    public bool Gather(params float[][] arenas)
    {
        if (_mpi is null) return true;
        var (from, to) = Owned;
        foreach (var a in arenas)
        {
            a.AsSpan(0, from).Clear();
            a.AsSpan(to).Clear();
            _mpi.Groups.Pipeline.AllreduceSum(a); // each stage contributes its own range: the sum is the whole state
        }
        return _mpi.Groups.World.Rank == 0;
    }

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
