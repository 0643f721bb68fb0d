// An objective with weights of its own (distillation's projection P, Eq. 10): the trainer steps them with the one
// AdamW after the model's update, and checkpoints and rolls them back with the model's state.
using LightGlm.Model;

namespace LightGlm.Training;

public interface ITrainableObjective : ILossObjective
{
    /// <summary>The objective's tensor this run, or null when it has none (e.g. no width change, no projection).</summary>
    ObjectiveTensor? Trainable { get; }
}

/// <summary>One tensor owned by an objective: its weights, the gradient the objective adds into, and its AdamW moments
/// (never decayed: <see cref="ParameterTensor.NoDecay"/>).</summary>
public sealed class ObjectiveTensor
{
    public ParameterTensor Tensor { get; }
    public float[] Weights { get; }
    public float[] Grads { get; }
    public AdamW Optimizer { get; }

    public ObjectiveTensor(string name, int[] shape, float[] weights)
    {
        Tensor = new ParameterTensor(name, 0, shape, Layer: -1, NoDecay: true);
        if (weights.Length != Tensor.Length) throw new ArgumentException($"{name}: {weights.Length} weights for shape {Tensor.ShapeText}");
        Weights = weights;
        Grads = new float[weights.Length];
        Optimizer = new AdamW([Tensor], weights.Length);
    }

    /// <summary>One AdamW step on the accumulated gradient, which is then cleared for the next step.</summary>
    public void Step(double lr, OptimizerOptions o)
    {
        Optimizer.Step(Weights, Grads, lr, o);
        Array.Clear(Grads);
    }
}
