// The two carriers of PipelineGradientEngine: K stages × D replicas as threads of this process, or this MPI rank's
// (replica, stage). Forward, backward and the gradient all-reduce only: the optimizer step is the trainer's.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Ops;

namespace LightGlm.Pipeline;

/// <summary>One pipelined step: global loss, wall time and what every worker measured.</summary>
public sealed record PipelineStepResult(double Loss, double Seconds, IReadOnlyList<StageStepStats> Stages)
{
    public long PeakCacheBytes => Stages.Count == 0 ? 0 : Stages.Max(s => s.PeakCacheBytes);
}

/// <summary>K·D threads of this process; replica d runs its own copy of the weights, which the trainer's update of
/// replica 0 is copied to (<see cref="WeightsChanged"/>).</summary>
public sealed class InProcessGlmPipeline : PipelineGradientEngine
{
    readonly GlmModel[] _replicas;
    readonly GlmStage[,] _stages;
    readonly InProcessPipeline _pipe;
    readonly int _threadsPerStage;
    readonly Func<int, int, IPipelineStage, IPipelineStage>? _wrap;

    public override PipelineConfig Config { get; }
    public override StageSplit Split { get; }
    /// <summary>Replica 0's model (shares weights with the model passed in).</summary>
    public GlmModel Model => _replicas[0];
    public GlmStage Stage(int replica, int stage) => _stages[replica, stage];
    /// <summary>Hand-offs and all-reduces of the last step.</summary>
    public long LastStepMessages { get; private set; }

    /// <param name="cores">Cores to divide among the K·D workers (compute threads per stage = max(1, cores/(K·D))).</param>
    /// <param name="wrap">Optional decorator of each worker's stage (d, s) — tests inject failures with it.</param>
    public InProcessGlmPipeline(GlmModel model, PipelineConfig cfg, StageSplit split, int cores = 0, Func<int, int, IPipelineStage, IPipelineStage>? wrap = null)
    {
        _wrap = wrap;
        Config = cfg; Split = split;
        _replicas = new GlmModel[cfg.Replicas];
        _replicas[0] = model;
        for (int d = 1; d < cfg.Replicas; d++)
        {
            _replicas[d] = new GlmModel(model.Config);
            model.Weights.CopyTo(_replicas[d].Weights, 0);
        }
        _stages = new GlmStage[cfg.Replicas, cfg.Stages];
        for (int d = 0; d < cfg.Replicas; d++)
            for (int s = 0; s < cfg.Stages; s++) _stages[d, s] = new GlmStage(_replicas[d], split, s);
        _pipe = new InProcessPipeline(cfg.Stages, cfg.Replicas);
        _threadsPerStage = Math.Max(1, (cores > 0 ? cores : Environment.ProcessorCount) / cfg.Workers);
    }

    public override PipelineStepResult Step(Batch global)
    {
        var watch = Stopwatch.StartNew();
        for (int d = 0; d < Config.Replicas; d++)
        {
            var micro = MicroBatches.Split(global, Config.Replicas, d, Config.MicroBatches);
            for (int s = 0; s < Config.Stages; s++) _stages[d, s].SetMicroBatches(micro);
        }
        int saved = Parallelism.MaxThreads;
        Parallelism.MaxThreads = _threadsPerStage; // the cores are divided among the stage threads
        StageStepStats[,] stats;
        try { stats = _pipe.Step(Stage2D(), Config.Schedule); }
        finally { Parallelism.MaxThreads = saved; }
        double loss = 0;
        for (int d = 0; d < Config.Replicas; d++) loss += stats[d, Config.Stages - 1].Loss;
        LastStepMessages = _pipe.LastStepMessages;
        return new PipelineStepResult(loss, watch.Elapsed.TotalSeconds, stats.Cast<StageStepStats>().ToList());
    }

    public override void SetObjective(ILossObjective objective)
    {
        for (int d = 0; d < Config.Replicas; d++) _stages[d, Config.Stages - 1].Objective = objective;
    }

    public override (int From, int To) Owned => (0, Model.Layout.TotalLength);
    public override double SumOverOwners(double x) => x;
    public override void WeightsChanged()
    {
        for (int d = 1; d < Config.Replicas; d++) _replicas[0].Weights.CopyTo(_replicas[d].Weights, 0);
    }
    public override bool Gather(params float[][] arenas) => true;
    public override void Barrier() { }
    public override string Transport => "threads";
    public override string Description => $"pipeline {Config} split {Split} over {Config.Workers} threads";

    IPipelineStage[,] Stage2D()
    {
        var a = new IPipelineStage[Config.Replicas, Config.Stages];
        for (int d = 0; d < Config.Replicas; d++) for (int s = 0; s < Config.Stages; s++) a[d, s] = _wrap?.Invoke(d, s, _stages[d, s]) ?? _stages[d, s];
        return a;
    }
}

/// <summary>This rank is one (replica, stage) of an MPI job; every rank holds the whole model but computes, receives
/// gradients for and updates only its stage's range. Loss is summed over the job.</summary>
public sealed class MpiGlmPipeline : PipelineGradientEngine
{
    readonly MpiPipelineGroups _groups;
    readonly GlmStage _stage;
    readonly MpiStageTransport _transport;
    readonly MpiGradientReducer _reducer;
    readonly StageBuffers _buffers = new();

    public override PipelineConfig Config { get; }
    public override StageSplit Split { get; }
    public GlmStage Stage => _stage;
    public MpiPipelineGroups Groups => _groups;
    public long Reductions => _reducer.Reductions;

    public MpiGlmPipeline(GlmModel model, PipelineConfig cfg, StageSplit split, MpiPipelineGroups groups)
    {
        Config = cfg; Split = split; _groups = groups;
        _stage = new GlmStage(model, split, groups.Stage);
        _transport = new MpiStageTransport(groups.Pipeline);
        _reducer = new MpiGradientReducer(groups.Data);
    }

    public override PipelineStepResult Step(Batch global)
    {
        var watch = Stopwatch.StartNew();
        _stage.SetMicroBatches(MicroBatches.Split(global, Config.Replicas, _groups.Replica, Config.MicroBatches));
        var st = PipelineExecutor.RunStep(_stage, _groups.Stage, Config.Stages, _groups.Replica, Config.Schedule,
            _transport, Config.Replicas > 1 ? _reducer : null, _buffers);
        var loss = new[] { st.Loss };
        _groups.World.AllreduceSum(loss);
        return new PipelineStepResult(loss[0], watch.Elapsed.TotalSeconds, [st]);
    }

    public override void SetObjective(ILossObjective objective) => _stage.Objective = objective;
    public override (int From, int To) Owned => (_stage.ParameterStart, _stage.ParameterEnd);

    public override double SumOverOwners(double x)
    {
        Span<double> v = [x];
        _groups.Pipeline.AllreduceSum(v);
        return v[0];
    }

    public override void WeightsChanged() { }

    public override bool Gather(params float[][] arenas)
    {
        var (from, to) = Owned;
        foreach (var a in arenas)
        {
            a.AsSpan(0, from).Clear();
            a.AsSpan(to).Clear();
            _groups.Pipeline.AllreduceSum(a); // each stage contributes its own range: the sum is the whole state
        }
        return _groups.World.Rank == 0;
    }

    public override void Barrier() => _groups.World.Barrier();
    public override string Transport => "mpi";
    public override string Description =>
        $"pipeline {Config} split {Split} over MPI rank {_groups.World.Rank} of {_groups.World.Size} (stage {_groups.Stage}, replica {_groups.Replica})";
}
