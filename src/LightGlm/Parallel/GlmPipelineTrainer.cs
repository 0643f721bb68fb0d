// Trains the real model through a pipeline: K stages × D replicas over threads (InProcess) or
// MPI ranks (Mpi). A step takes one global batch; the result equals one-process training on it.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Ops;

namespace LightGlm.Pipeline;

/// <summary>Updates the parameters Weights[from, to) of a model from Grads[from, to) (one stage's slice).</summary>
public interface IRangeOptimizer
{
    void Step(GlmModel model, int from, int to);
}

/// <summary>Plain SGD: w −= lr·g (used by the equality tests; training passes the trainer's AdamW).</summary>
public sealed class SgdRangeOptimizer(float lr) : IRangeOptimizer
{
    public void Step(GlmModel model, int from, int to) =>
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(model.Grads.AsSpan(from, to - from), -lr,
            model.Weights.AsSpan(from, to - from), model.Weights.AsSpan(from, to - from));
}

/// <summary>One pipelined step: global loss, wall time and what every worker measured.</summary>
public sealed record PipelineStepResult(double Loss, double Seconds, IReadOnlyList<StageStepStats> Stages)
{
    public long PeakCacheBytes => Stages.Count == 0 ? 0 : Stages.Max(s => s.PeakCacheBytes);
}

public interface IPipelineTrainer
{
    PipelineConfig Config { get; }
    PipelineStepResult Step(Batch global);
}

/// <summary>K·D threads of this process; replica d trains its own copy of the weights (kept equal by the all-reduce).</summary>
public sealed class InProcessGlmTrainer : IPipelineTrainer
{
    readonly GlmModel[] _replicas;
    readonly GlmStage[,] _stages;
    readonly InProcessPipeline _pipe;
    readonly IRangeOptimizer? _optimizer;
    readonly int _threadsPerStage;
    readonly Func<int, int, IPipelineStage, IPipelineStage>? _wrap;

    public PipelineConfig Config { get; }
    public StageSplit Split { get; }
    /// <summary>Replica 0's model (shares weights with the model passed in).</summary>
    public GlmModel Model => _replicas[0];
    public GlmStage Stage(int replica, int stage) => _stages[replica, stage];
    /// <summary>Hand-offs and all-reduces of the last step.</summary>
    public long LastStepMessages { get; private set; }

    /// <param name="cores">Cores to divide among the K·D workers (compute threads per stage = max(1, cores/(K·D))).</param>
    /// <param name="wrap">Optional decorator of each worker's stage (d, s) — tests inject failures with it.</param>
    public InProcessGlmTrainer(GlmModel model, PipelineConfig cfg, StageSplit split, IRangeOptimizer? optimizer, int cores = 0,
        Func<int, int, IPipelineStage, IPipelineStage>? wrap = null)
    {
        _wrap = wrap;
        Config = cfg; Split = split; _optimizer = optimizer;
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

    public PipelineStepResult Step(Batch global)
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
        try
        {
            stats = _pipe.Step(Stage2D(), Config.Schedule, (d, s) =>
                _optimizer?.Step(_replicas[d], _stages[d, s].ParameterStart, _stages[d, s].ParameterEnd));
        }
        finally { Parallelism.MaxThreads = saved; }
        double loss = 0;
        for (int d = 0; d < Config.Replicas; d++) loss += stats[d, Config.Stages - 1].Loss;
        LastStepMessages = _pipe.LastStepMessages;
        return new PipelineStepResult(loss, watch.Elapsed.TotalSeconds, stats.Cast<StageStepStats>().ToList());
    }

    /// <summary>Sets the loss of every replica's last stage.</summary>
    public void SetObjective(ILossObjective objective)
    {
        for (int d = 0; d < Config.Replicas; d++) _stages[d, Config.Stages - 1].Objective = objective;
    }

    /// <summary>Copies replica 0's weights to the other replicas (after an update applied to replica 0 alone).</summary>
    public void SyncReplicas()
    {
        for (int d = 1; d < Config.Replicas; d++) _replicas[0].Weights.CopyTo(_replicas[d].Weights, 0);
    }

    IPipelineStage[,] Stage2D()
    {
        var a = new IPipelineStage[Config.Replicas, Config.Stages];
        for (int d = 0; d < Config.Replicas; d++) for (int s = 0; s < Config.Stages; s++) a[d, s] = _wrap?.Invoke(d, s, _stages[d, s]) ?? _stages[d, s];
        return a;
    }
}

/// <summary>This rank is one (replica, stage) of an MPI job; every rank holds the whole model but computes,
/// receives gradients for and updates only its stage's range. Loss is summed over the job.</summary>
public sealed class MpiGlmTrainer : IPipelineTrainer
{
    readonly MpiPipelineGroups _groups;
    readonly GlmStage _stage;
    readonly MpiStageTransport _transport;
    readonly MpiGradientReducer _reducer;
    readonly StageBuffers _buffers = new();
    readonly IRangeOptimizer? _optimizer;

    public PipelineConfig Config { get; }
    public GlmStage Stage => _stage;
    public MpiPipelineGroups Groups => _groups;
    public long Reductions => _reducer.Reductions;

    public MpiGlmTrainer(GlmModel model, PipelineConfig cfg, StageSplit split, IRangeOptimizer? optimizer, MpiPipelineGroups groups)
    {
        Config = cfg; _groups = groups; _optimizer = optimizer;
        _stage = new GlmStage(model, split, groups.Stage);
        _transport = new MpiStageTransport(groups.Pipeline);
        _reducer = new MpiGradientReducer(groups.Data);
    }

    public PipelineStepResult Step(Batch global)
    {
        var watch = Stopwatch.StartNew();
        _stage.SetMicroBatches(MicroBatches.Split(global, Config.Replicas, _groups.Replica, Config.MicroBatches));
        var st = PipelineExecutor.RunStep(_stage, _groups.Stage, Config.Stages, _groups.Replica, Config.Schedule,
            _transport, Config.Replicas > 1 ? _reducer : null, _buffers);
        _optimizer?.Step(_stage.Model, _stage.ParameterStart, _stage.ParameterEnd);
        var loss = new[] { st.Loss };
        _groups.World.AllreduceSum(loss);
        return new PipelineStepResult(loss[0], watch.Elapsed.TotalSeconds, [st]);
    }
}
