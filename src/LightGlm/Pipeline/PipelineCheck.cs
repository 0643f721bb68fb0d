// The equality check behind `lightglm parallel check` and the MPI tests: N training steps through a
// pipeline (threads or MPI) against N steps of one process on the same batches, on the real model
// (a small GLM-style config). (The toy MLP the pipeline was first built on is a test fixture: tests/…/Pipeline/Toy.)
using LightGlm.Model;

namespace LightGlm.Pipeline;

/// <summary>Losses of every step, the last step's gradients and the final weights; on MPI only
/// [ParamFrom, ParamTo) (this rank's stage) is meaningful.</summary>
public sealed record CheckRun(double[] Losses, float[] Grads, float[] Weights, long Messages, int ParamFrom, int ParamTo);

public sealed class PipelineCheck
{

    /// <summary>max |a−b| over [from, to), relative to max(1, max |a|).</summary>
    public static double MaxRelDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int from, int to)
    {
        double scale = 0, diff = 0;
        for (int i = from; i < to; i++) { scale = Math.Max(scale, Math.Abs(a[i])); diff = Math.Max(diff, Math.Abs(a[i] - b[i])); }
        return diff / Math.Max(1, scale);
    }

    const float Lr = 0.2f;
    const int B = 16, T = 8;
    public string Name => "glm";
    public int Layers => Config.L;

    /// <summary>Plain SGD over Weights[from, to): w −= lr·g (the check compares gradients, so the simplest update).</summary>
    static void Sgd(GlmModel m, int from, int to) => System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(
        m.Grads.AsSpan(from, to - from), -Lr, m.Weights.AsSpan(from, to - from), m.Weights.AsSpan(from, to - from));

    /// <summary>GLM-style: GQA, qkv bias, half interleaved rotary, prefix LM; 8 blocks so K up to 8 fits.</summary>
    static readonly ModelConfig Config = new()
    {
        ModelType = "chatglm", VocabSize = 61, HiddenSize = 32, NumHiddenLayers = 8, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        IntermediateSize = 48, PartialRotaryFactor = 0.5, RopeInterleaved = true, AttentionBias = true, PrefixLm = true,
        MaxPositionEmbeddings = 64,
    };

    static Batch[] Batches(int steps)
    {
        var result = new Batch[steps];
        for (int i = 0; i < steps; i++)
        {
            var rng = new Rng(500 + (ulong)i);
            var b = new Batch(B, T);
            for (int k = 0; k < B * T; k++) { b.Tokens[k] = rng.NextInt(Config.V); b.Targets[k] = rng.NextInt(6) == 0 ? -1 : rng.NextInt(Config.V); }
            b.PrefixLengths = Enumerable.Range(0, B).Select(r => 1 + r % T).ToArray();
            b.NormaliseByOwnCount();
            result[i] = b;
        }
        return result;
    }

    public CheckRun Reference(int steps)
    {
        var model = GlmModel.Create(Config, seed: 3);
        var cache = model.CreateCache(B, T);
        var losses = new double[steps];
        var batches = Batches(steps);
        for (int i = 0; i < steps; i++)
        {
            model.ZeroGrads();
            losses[i] = model.ForwardLoss(cache, batches[i]);
            model.Backward(cache, batches[i]);
            Sgd(model, 0, model.Weights.Length);
        }
        return new CheckRun(losses, model.Grads, model.Weights, 0, 0, model.Weights.Length);
    }

    public CheckRun Threads(PipelineConfig cfg, int steps, Func<int, int, IPipelineStage, IPipelineStage>? wrap)
    {
        var pipe = new InProcessGlmPipeline(GlmModel.Create(Config, seed: 3), cfg, StageSplit.Even(Config.L, cfg.Stages), wrap: wrap);
        var losses = new double[steps];
        long messages = 0;
        var batches = Batches(steps);
        for (int i = 0; i < steps; i++)
        {
            losses[i] = pipe.Step(batches[i]).Loss;
            messages += pipe.LastStepMessages;
            Sgd(pipe.Model, 0, pipe.Model.Weights.Length);
            pipe.WeightsChanged();
        }
        return new CheckRun(losses, pipe.Model.Grads, pipe.Model.Weights, messages, 0, pipe.Model.Weights.Length);
    }

    public CheckRun Mpi(PipelineConfig cfg, int steps, MpiPipelineGroups groups, Action<int>? beforeStep)
    {
        var model = GlmModel.Create(Config, seed: 3);
        var pipe = new MpiGlmPipeline(model, cfg, StageSplit.Even(Config.L, cfg.Stages), groups);
        long sent0 = Kernels.Mpi.MpiComm.MessagesSent;
        var losses = new double[steps];
        var batches = Batches(steps);
        var (from, to) = pipe.Owned;
        for (int i = 0; i < steps; i++)
        {
            beforeStep?.Invoke(i);
            losses[i] = pipe.Step(batches[i]).Loss;
            Sgd(model, from, to);
        }
        return new CheckRun(losses, model.Grads, model.Weights, Kernels.Mpi.MpiComm.MessagesSent - sent0 + pipe.Reductions, from, to);
    }
}
