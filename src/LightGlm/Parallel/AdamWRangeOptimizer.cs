// AdamW over one stage's parameter range, with the kernels' AdamW (PyTorch semantics). Moments and the
// step counter are kept per (model replica, range), so replicas and stages step independently and alike.
// No weight decay on norms and biases (their tensors' NoDecay).
using LightGlm.Model;

namespace LightGlm.Pipeline;

public sealed class AdamWRangeOptimizer(double lr, double weightDecay = 0.0, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8) : IRangeOptimizer
{
    sealed class State(int n) { public readonly float[] M = new float[n], V = new float[n]; public readonly Dictionary<int, long> Steps = []; }
    readonly Dictionary<GlmModel, State> _state = new(ReferenceEqualityComparer.Instance);
    public double LearningRate { get; set; } = lr;

    public void Step(GlmModel model, int from, int to)
    {
        State s;
        long t;
        lock (_state)
        {
            if (!_state.TryGetValue(model, out s!)) _state[model] = s = new State(model.Weights.Length);
            t = s.Steps[from] = s.Steps.GetValueOrDefault(from) + 1;
        }
        foreach (var tensor in model.Layout.Tensors)
        {
            if (tensor.Offset < from || tensor.Offset >= to) continue;
            int o = tensor.Offset, n = tensor.Length;
            Kernels.AdamW.Step(model.Weights.AsSpan(o, n), model.Grads.AsSpan(o, n), s.M.AsSpan(o, n), s.V.AsSpan(o, n), n,
                LearningRate, beta1, beta2, eps, tensor.NoDecay ? 0 : weightDecay, t);
        }
    }
}
