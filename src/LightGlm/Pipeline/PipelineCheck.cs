// The equality check behind `lightglm parallel check` and the MPI tests: N training steps through a
// pipeline (threads or MPI) against N steps of one process on the same batches, on the real model
// (a small GLM-style config) or the toy MLP.
using LightGlm.Model;
using LightGlm.Pipeline.Toy;

namespace LightGlm.Pipeline;

/// <summary>Losses of every step, the last step's gradients and the final weights; on MPI only
/// [ParamFrom, ParamTo) (this rank's stage) is meaningful.</summary>
public sealed record CheckRun(double[] Losses, float[] Grads, float[] Weights, long Messages, int ParamFrom, int ParamTo);

public abstract class PipelineCheck
{
    public abstract string Name { get; }
    public abstract int Layers { get; }
    public abstract CheckRun Reference(int steps);
    public abstract CheckRun Threads(PipelineConfig cfg, int steps, Func<int, int, IPipelineStage, IPipelineStage>? wrap);
    public abstract CheckRun Mpi(PipelineConfig cfg, int steps, MpiPipelineGroups groups, Action<int>? beforeStep);

    public static PipelineCheck Create(string subject) => subject switch
    {
        "glm" => new GlmCheck(),
        "mlp" => new MlpCheck(),
        _ => throw new ArgumentException($"unknown check subject '{subject}': use glm (the real model) or mlp"),
    };

    /// <summary>max |a−b| over [from, to), relative to max(1, max |a|).</summary>
    public static double MaxRelDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int from, int to)
    {
        double scale = 0, diff = 0;
        for (int i = from; i < to; i++) { scale = Math.Max(scale, Math.Abs(a[i])); diff = Math.Max(diff, Math.Abs(a[i] - b[i])); }
        return diff / Math.Max(1, scale);
    }

    sealed class GlmCheck : PipelineCheck
    {
        const float Lr = 0.2f;
        const int B = 16, T = 8;
        public override string Name => "glm";
        public override int Layers => Config.L;

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

        public override CheckRun Reference(int steps)
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

        public override CheckRun Threads(PipelineConfig cfg, int steps, Func<int, int, IPipelineStage, IPipelineStage>? wrap)
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

        public override CheckRun Mpi(PipelineConfig cfg, int steps, MpiPipelineGroups groups, Action<int>? beforeStep)
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

    sealed class MlpCheck : PipelineCheck
    {
        const float Lr = 0.5f;
        public override string Name => "mlp";
        public override int Layers => 8;
        static ToyMlp Model() => new(ToyPipeline.Widths(8, 16, 9, 5), seed: 7);
        static ToyBatch[] Batches(int steps) => Enumerable.Range(0, steps).Select(i => ToyBatch.Random(32, 9, 5, seed: 1000 + i)).ToArray();

        static CheckRun From(ToyRunResult r, int from, int to) => new(r.Losses, r.LastGradients, r.Weights, r.Messages, from, to);

        public override CheckRun Reference(int steps)
        {
            var r = ToyPipeline.Reference(Model(), Batches(steps), Lr);
            return From(r, 0, r.Weights.Length);
        }

        public override CheckRun Threads(PipelineConfig cfg, int steps, Func<int, int, IPipelineStage, IPipelineStage>? wrap)
        {
            var r = ToyPipeline.InProcess(Model(), cfg, StageSplit.Even(8, cfg.Stages), Batches(steps), Lr, wrap);
            return From(r, 0, r.Weights.Length);
        }

        public override CheckRun Mpi(PipelineConfig cfg, int steps, MpiPipelineGroups groups, Action<int>? beforeStep)
        {
            var model = Model();
            var split = StageSplit.Even(8, cfg.Stages);
            var r = ToyPipeline.Mpi(model, cfg, split, Batches(steps), Lr, groups, beforeStep);
            var (lo, hi) = split.Range(groups.Stage);
            return From(r, model.ParameterOffset(lo), model.ParameterOffset(hi));
        }
    }
}
