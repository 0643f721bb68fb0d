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
    public ParameterLayout Layout { get; }
    public float[] M { get; }
    public float[] V { get; }
    /// <summary>Steps taken so far (bias correction uses t = StepCount after increment).</summary>
    public int StepCount { get; set; }

    public AdamW(ParameterLayout layout)
    {
        Layout = layout;
        M = new float[layout.TotalLength];
        V = new float[layout.TotalLength];
    }

    public void Step(float[] weights, float[] grads, double lr, OptimizerOptions o) => Step(weights, grads, lr, o, 0, weights.Length);

    /// <summary>Updates only the tensors that start in [<paramref name="from"/>, <paramref name="to"/>) (a pipeline
    /// stage's parameters on an MPI rank; stage ranges lie on tensor boundaries).</summary>
    public void Step(float[] weights, float[] grads, double lr, OptimizerOptions o, int from, int to)
    {
        StepCount++;
        float b1 = (float)o.Beta1, b2 = (float)o.Beta2, eps = (float)o.Eps;
        float bc1 = 1f - MathF.Pow(b1, StepCount), bc2 = 1f - MathF.Pow(b2, StepCount);
        float stepSize = (float)lr / bc1, bc2Sqrt = MathF.Sqrt(bc2);
        foreach (var t in Layout.Tensors)
        {
            if (t.Offset < from || t.Offset >= to) continue;
            float decay = t.NoDecay ? 1f : 1f - (float)(lr * o.WeightDecay);
            var w = weights.AsSpan(t.Offset, t.Length);
            var g = grads.AsSpan(t.Offset, t.Length);
            var m = M.AsSpan(t.Offset, t.Length);
            var v = V.AsSpan(t.Offset, t.Length);
            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                w[i] = w[i] * decay - stepSize * m[i] / (MathF.Sqrt(v[i]) / bc2Sqrt + eps);
            }
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
