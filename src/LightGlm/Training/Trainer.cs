// The training loop: micro-batches with gradient accumulation, one loss normalisation, clipping, schedule, AdamW.
using System.Diagnostics;
using LightGlm.Model;
using LightGlm.Model.Lora;

namespace LightGlm.Training;

/// <summary>What one optimizer step did. <paramref name="NonFinite"/>: the loss or a gradient was NaN/Inf, so the
/// update was NOT applied and the state did not advance (the caller rolls back, see <see cref="NanGuard"/>).
/// <paramref name="Tokens"/> = B·T·micro-batches (padding included); <paramref name="RealTokens"/> = the non-padding ones.</summary>
public readonly record struct StepResult(int Step, double Loss, double GradNorm, double Lr, int Tokens, double Seconds, bool NonFinite = false,
    int RealTokens = 0);

/// <summary>
/// One optimizer step = GradAccum micro-batches. All micro-batches of the step are filled first, so the loss scale is
/// 1 / (non-ignored targets over the whole step): accumulating equals one big batch even when micro-batches hold
/// different numbers of targets. Then per micro-batch: forward (with the objective) and backward, adding into grads;
/// then clip, learning rate, AdamW. Everything is a function of (weights, optimizer state, step, micro-batch index),
/// so a run resumed from a checkpoint continues bit-identically. With an <see cref="Engine"/> (pipeline parallelism) the
/// forward/backward runs there; clipping, the NaN check and AdamW stay here, over the parameters the engine owns.
/// A non-finite loss or gradient norm is caught before the update: the weights are never touched by it.
/// An objective with weights of its own (<see cref="ITrainableObjective"/>) has them stepped by the same AdamW after the
/// model's update (unclipped: the global norm is the model's).
/// A model with LoRA adapters attached when the trainer is made (<see cref="GlmModel.AttachLora"/>) is trained through
/// them: the optimizer, clipping and checkpoints cover the adapters' arena (<see cref="TrainedTensors"/>), the base
/// weights are frozen and have neither gradients nor AdamW moments.
/// </summary>
public sealed class Trainer
{
    public GlmModel Model { get; }
    public TrainerOptions Options { get; }
    public AdamW Optimizer { get; }
    public TrainerState State { get; }
    public ILossObjective Objective { get; set; }
    public IBatchSource Data { get; set; }

    /// <summary>Runs forward/backward elsewhere (a pipeline); null = on this thread.</summary>
    public IGradientEngine? Engine { get; set; }

    /// <summary>The adapters this trainer trains (the model's, when it was made), or null: the whole model is trained.</summary>
    public LoraAdapters? Lora { get; }
    /// <summary>What the optimizer updates: the model's tensors, or the LoRA adapters' (then the base is frozen).</summary>
    public IReadOnlyList<ParameterTensor> TrainedTensors => Lora?.Tensors ?? Model.Layout.Tensors;
    public float[] TrainedWeights => Lora?.Weights ?? Model.Weights;
    public float[] TrainedGrads => Lora?.Grads ?? Model.Grads;
    /// <summary>Called after the gradients of a step are complete, before clipping (fault injection in tests and `train`).</summary>
    public Action<Trainer>? AfterBackward { get; set; }

    readonly Batch[] _micro;
    ActivationCache? _cache;
    ActivationCache Cache => _cache ??= Model.CreateCache(Options.BatchSize, Options.SeqLen, dropout: Options.Dropout ? null : false);

    public Trainer(GlmModel model, TrainerOptions options, IBatchSource data, ILossObjective? objective = null)
    {
        var p = options.Problems();
        if (p.Count > 0) throw new ArgumentException("invalid training options:\n  - " + string.Join("\n  - ", p));
        if (options.SeqLen > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"seq_len = {options.SeqLen} exceeds the model's max_position_embeddings = {model.Config.MaxPositionEmbeddings}");
        Model = model;
        Options = options;
        Data = data;
        Objective = objective ?? CrossEntropyObjective.Instance;
        Lora = model.Lora;
        Optimizer = Lora is { } l ? new AdamW(l.Tensors, l.Weights.Length) : new AdamW(model.Layout);
        State = new TrainerState { Rng = new Rng(options.Seed).State };
        _micro = Enumerable.Range(0, options.GradAccum).Select(_ => new Batch(options.BatchSize, options.SeqLen)).ToArray();
    }

    public bool Done => State.Step >= Options.Steps;

    public StepResult Step()
    {
        var sw = Stopwatch.StartNew();
        var o = Options;
        if (!ReferenceEquals(Model.Lora, Lora))
            throw new InvalidOperationException("the model's LoRA adapters changed after this trainer was made (attached or merged): make a new trainer");
        if (Lora is not null && Engine is not null)
            throw new InvalidOperationException("LoRA fine-tuning runs on one process: a pipeline engine steps the whole model's arena");
        int total = 0, real = 0;
        for (int i = 0; i < _micro.Length; i++)
        {
            var b = _micro[i];
            long index = State.MicroBatches + i;
            b.PrefixLengths = null;
            b.SampleWeights = null;
            b.RealTokens = 0;
            b.SegmentStarts = null;
            b.SegmentPrefixEnds = null;
            Data.Fill(b, index);
            real += b.RealTokens > 0 ? b.RealTokens : b.B * b.T;
            b.Training = o.Dropout;
            b.DropoutSeed = o.Seed ^ (ulong)index * 0x9E3779B97F4A7C15UL;
            total += b.TargetCount();
        }
        foreach (var b in _micro) b.LossScale = 1f / Math.Max(1, total);
        double loss = 0;
        if (Engine is { } engine) loss = engine.ComputeGradients(_micro, Objective);
        else
        {
            if (Lora is null) Model.ZeroGrads(); else Array.Clear(Lora.Grads);
            foreach (var b in _micro)
            {
                loss += Model.Forward(Cache, b, Objective);
                Model.Backward(Cache, b);
            }
        }
        AfterBackward?.Invoke(this);
        var (from, to) = Engine?.Owned ?? (0, TrainedWeights.Length);
        double norm = AdamW.ClipGlobalNorm(TrainedGrads, o.Optimizer.GradClip, from, to, Engine is { } e ? e.SumOverOwners : null);
        double lr = LrSchedule.At(State.Step, o.Steps, o.Optimizer, o.Schedule) * State.LrScale;
        int tokens = _micro.Length * o.BatchSize * o.SeqLen;
        if (!double.IsFinite(loss) || !double.IsFinite(norm))
            return new StepResult(State.Step + 1, loss, norm, lr, tokens, sw.Elapsed.TotalSeconds, NonFinite: true, RealTokens: real);
        Optimizer.Step(TrainedWeights, TrainedGrads, lr, o.Optimizer, from, to);
        if ((Objective as ITrainableObjective)?.Trainable is { } own) own.Step(lr, o.Optimizer);
        Engine?.WeightsChanged();
        State.Step++;
        State.MicroBatches += _micro.Length;
        State.TokensSeen += (long)_micro.Length * o.BatchSize * o.SeqLen;
        State.LastLoss = loss;
        State.RealTokensSeen += real;
        return new StepResult(State.Step, loss, norm, lr, tokens, sw.Elapsed.TotalSeconds, RealTokens: real);
    }

    /// <summary>Mean loss (per target) over <paramref name="batches"/> micro-batches of <paramref name="source"/>, no training.</summary>
    public double Evaluate(IBatchSource source, int batches, long firstIndex = 0)
    {
        var b = _micro[0];
        double sum = 0;
        long count = 0;
        for (int i = 0; i < batches; i++)
        {
            b.PrefixLengths = null; b.SampleWeights = null;
            b.SegmentStarts = null; b.SegmentPrefixEnds = null;
            source.Fill(b, firstIndex + i);
            b.Training = false;
            b.LossScale = 1f;
            int n = b.TargetCount();
            sum += Model.Forward(Cache, b, CrossEntropyObjective.Instance);
            count += n;
        }
        return sum / Math.Max(1, count);
    }
}

/// <summary>Where a run is: saved as trainer_state.json in every checkpoint.</summary>
public sealed class TrainerState
{
    public int Step { get; set; }
    /// <summary>Micro-batches consumed = the data position (sources are indexed by it).</summary>
    public long MicroBatches { get; set; }
    public long TokensSeen { get; set; }
    /// <summary>Non-padding tokens trained on so far (what the learning curves count).</summary>
    public long RealTokensSeen { get; set; }
    public double LastLoss { get; set; } = double.NaN;
    /// <summary>The trainer RNG's state (xoshiro256**), for objectives that sample.</summary>
    public ulong[] Rng { get; set; } = new ulong[4];
    public int AdamStep { get; set; }
    /// <summary>Multiplies the scheduled learning rate; each NaN/Inf rollback multiplies it by nan_guard.lr_factor.</summary>
    public double LrScale { get; set; } = 1.0;
    /// <summary>NaN/Inf rollbacks so far in this run.</summary>
    public int Rollbacks { get; set; }
}
