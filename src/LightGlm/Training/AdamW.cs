// AdamW with decoupled weight decay (PyTorch's update order), its moment arenas, and global-norm gradient clipping.
using LightGlm.Model;

namespace LightGlm.Training;

/// <summary>
/// First and second moments m, v are arenas with the model's layout. Per step t (from 1), as torch.optim.AdamW:
///   w ← w·(1 − lr·wd)   (skipped for tensors marked NoDecay: norm weights and biases)
///   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
///   w ← w − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)
/// </summary>
public sealed class AdamW
{
    readonly IReadOnlyList<ParameterTensor> _tensors;
    public float[] M { get; }
    public float[] V { get; }
    /// <summary>Steps taken so far (bias correction uses t = StepCount after increment).</summary>
    public int StepCount { get; set; }

    /// <summary>The moments of a model's arena.</summary>
    public AdamW(ParameterLayout layout) : this(layout.Tensors, layout.TotalLength) { }

    /// <summary>The moments of <paramref name="length"/> floats holding <paramref name="tensors"/> (an objective's own tensor).</summary>
    public AdamW(IReadOnlyList<ParameterTensor> tensors, int length)
    {
        _tensors = tensors;
        M = new float[length];
        V = new float[length];
    }

    /// <summary>One AdamW step over every tensor (the kernels' vectorised AdamW, split over cores per tensor).</summary>
    public void Step(float[] weights, float[] grads, double lr, OptimizerOptions o) => Step(weights, grads, lr, o, 0, weights.Length);

    /// <summary>Updates only the tensors that start in [<paramref name="from"/>, <paramref name="to"/>) (a pipeline
    /// stage's parameters on an MPI rank; stage ranges lie on tensor boundaries).</summary>
    public void Step(float[] weights, float[] grads, double lr, OptimizerOptions o, int from, int to)
    {
        using var _ = StepProfiler.Time("adamw");
        StepCount++;
        foreach (var t in _tensors)
        {
            if (t.Offset < from || t.Offset >= to) continue;
            Kernels.AdamW.Step(weights.AsSpan(t.Offset, t.Length), grads.AsSpan(t.Offset, t.Length), M.AsSpan(t.Offset, t.Length),
                V.AsSpan(t.Offset, t.Length), t.Length, lr, o.Beta1, o.Beta2, o.Eps, t.NoDecay ? 0 : o.WeightDecay, StepCount);
        }
    }

    /// <summary>‖g‖₂ over the whole arena (double accumulation); scales g by clip/(‖g‖ + 1e-6) when above clip. Returns ‖g‖.</summary>
    public static double ClipGlobalNorm(float[] grads, double clip) => ClipGlobalNorm(grads, clip, 0, grads.Length, null);

    /// <summary>As above over g[from, to); <paramref name="sumOverOwners"/> adds the other ranges' Σg² (MPI stages)
    /// so every rank clips by the same global norm. NaN/Inf gives a NaN/Inf norm and leaves g unscaled.</summary>
    public static double ClipGlobalNorm(float[] grads, double clip, int from, int to, Func<double, double>? sumOverOwners)
    {
        double ss = 0;
        foreach (float x in grads.AsSpan(from, to - from)) ss += (double)x * x;
        if (sumOverOwners is not null) ss = sumOverOwners(ss);
        double norm = Math.Sqrt(ss);
        if (clip > 0 && norm > clip && double.IsFinite(norm))
        {
            var g = grads.AsSpan(from, to - from);
            System.Numerics.Tensors.TensorPrimitives.Multiply(g, (float)(clip / (norm + 1e-6)), g);
        }
        return norm;
    }
}
