// Softmax cross-entropy over logits (N, V) with ignore index −1: loss_n = logsumexp(z_n) − z_n[target_n].
using System.Buffers;
using System.Numerics.Tensors;

namespace LightGlm.Kernels;

/// <summary>Summed loss over counted rows (target ≠ −1) and their number; Mean = Sum / Count (0 when Count = 0).</summary>
public readonly record struct CrossEntropyResult(double Sum, int Count)
{
    public double Mean => Count == 0 ? 0.0 : Sum / Count;
}

public static unsafe class CrossEntropy
{
    /// <summary>Σ over rows with target ≠ −1 of logsumexp(z_n) − z_n[t_n] (per-row in float, summed in double in row order).</summary>
    public static CrossEntropyResult Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int N, int V)
    {
        Validate("CrossEntropy.Forward", logits, targets, N, V);
        fixed (float* z = logits)
            return Run(null, z, targets, N, V, 0f);
    }

    /// <summary>
    /// dlogits (N, V) = (softmax(z_n) − onehot(t_n))·scale for counted rows, 0 for ignored rows. dlogits is OVERWRITTEN
    /// (not accumulated) and may be the same span as logits (in place). Typical scale = 1/count for a mean loss.
    /// </summary>
    public static void Backward(Span<float> dlogits, ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int N, int V, float scale)
        => ForwardBackward(dlogits, logits, targets, N, V, scale);

    /// <summary>Forward and backward in one pass over the logits; dlogits as in <see cref="Backward"/>, may alias logits.</summary>
    public static CrossEntropyResult ForwardBackward(Span<float> dlogits, ReadOnlySpan<float> logits, ReadOnlySpan<int> targets,
        int N, int V, float scale)
    {
        const string k = "CrossEntropy.ForwardBackward";
        Validate(k, logits, targets, N, V);
        Check.Len(k, nameof(dlogits), (ReadOnlySpan<float>)dlogits, (long)N * V);
        Check.SameOrDisjoint(k, nameof(dlogits), dlogits, nameof(logits), logits, (long)N * V);
        fixed (float* z = logits) fixed (float* d = dlogits)
            return Run(d, z, targets, N, V, scale);
    }

    /// <summary>
    /// As <see cref="ForwardBackward"/> with a scale per row: dlogits_n = (softmax(z_n) − onehot(t_n))·rowScales[n]
    /// (OVERWRITTEN, may alias logits); rowLosses[n] = the unscaled CE of row n, 0 when t_n = −1 or rowScales[n] = 0
    /// (such rows get a zero gradient). Returns Σ_n rowScales[n]·rowLosses[n], summed in double in row order.
    /// Label smoothing ε (Szegedy et al. 2016; fairseq's label_smoothed_cross_entropy): the target distribution is
    /// (1−ε)·onehot(t) + ε/V, so loss_n = logsumexp(z_n) − (1−ε)·z_n[t] − ε·mean(z_n) and
    /// dlogits_n = (softmax(z_n) − (1−ε)·onehot(t) − ε/V)·rowScales[n]. ε = 0 is plain cross-entropy.
    /// </summary>
    public static double ForwardBackwardRows(Span<float> dlogits, ReadOnlySpan<float> logits, ReadOnlySpan<int> targets,
        ReadOnlySpan<float> rowScales, Span<float> rowLosses, int N, int V, float labelSmoothing = 0f)
    {
        const string k = "CrossEntropy.ForwardBackwardRows";
        Validate(k, logits, targets, N, V);
        if (!(labelSmoothing >= 0f && labelSmoothing < 1f))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, $"{k}: label smoothing {labelSmoothing} must be in [0, 1).");
        Check.Len(k, nameof(dlogits), (ReadOnlySpan<float>)dlogits, (long)N * V);
        Check.Len(k, nameof(rowScales), rowScales, N);
        Check.Len(k, nameof(rowLosses), (ReadOnlySpan<float>)rowLosses, N);
        Check.SameOrDisjoint(k, nameof(dlogits), dlogits, nameof(logits), logits, (long)N * V);
        if (N == 0) return 0;
        fixed (float* z = logits) fixed (float* d = dlogits) fixed (float* sp = rowScales) fixed (float* lp = rowLosses) fixed (int* tp = targets)
            RowsCore(d, z, tp, sp, 0f, lp, N, V, labelSmoothing);
        double total = 0;
        for (int n = 0; n < N; n++) total += (double)rowScales[n] * rowLosses[n];
        return total;
    }

    static CrossEntropyResult Run(float* dz, float* z, ReadOnlySpan<int> targets, int N, int V, float scale)
    {
        if (N == 0) return new CrossEntropyResult(0, 0);
        float[] losses = ArrayPool<float>.Shared.Rent(N);
        try
        {
            fixed (float* lp = losses) fixed (int* tp = targets)
                RowsCore(dz, z, tp, null, scale, lp, N, V, 0f);
            double total = 0;
            int count = 0;
            for (int n = 0; n < N; n++)
                if (targets[n] >= 0) { total += losses[n]; count++; }
            return new CrossEntropyResult(total, count);
        }
        finally { ArrayPool<float>.Shared.Return(losses); }
    }

    // Per row: loss into lp[n]; with dz, dz_n = (softmax − onehot)·(sp?[n] ?? scale). A row with t = −1 or a zero row
    // scale (sp given) gets loss 0 and dz 0. Rows are split over cores; each row is computed by one thread.
    static void RowsCore(float* dz, float* z, int* tp, float* sp, float scale, float* lp, int N, int V, float eps)
    {
        nint la = (nint)lp, ta = (nint)tp, za = (nint)z, da = (nint)dz, sa = (nint)sp;
        KernelParallel.For(N, Math.Max(1, 8192 / Math.Max(1, V)), (n0, n1) =>
        {
            for (int n = n0; n < n1; n++)
            {
                int t = ((int*)ta)[n];
                var zr = new ReadOnlySpan<float>((float*)za + (long)n * V, V);
                float sc = sa != 0 ? ((float*)sa)[n] : scale;
                if (t < 0 || (sa != 0 && sc == 0f))
                {
                    ((float*)la)[n] = 0f;
                    if (da != 0) new Span<float>((float*)da + (long)n * V, V).Clear();
                    continue;
                }
                float max = TensorPrimitives.Max(zr);
                // With smoothing the "target logit" is (1−ε)·z_t + ε·mean(z): loss = logsumexp(z) − that.
                float zt = eps == 0f ? zr[t] : (1f - eps) * zr[t] + eps * TensorPrimitives.Sum(zr) / V;
                if (da == 0)
                {
                    double sum = 0;
                    for (int j = 0; j < V; j++) sum += MathF.Exp(zr[j] - max);
                    ((float*)la)[n] = (float)(Math.Log(sum) + max - zt);
                    continue;
                }
                // dz = exp(z − max); loss = log Σ dz + max − z_t; dz = (dz/Σ − onehot)·scale
                var dr = new Span<float>((float*)da + (long)n * V, V);
                TensorPrimitives.Subtract(zr, max, dr);
                TensorPrimitives.Exp(dr, dr);
                float s = TensorPrimitives.Sum(dr);
                ((float*)la)[n] = MathF.Log(s) + max - zt;
                TensorPrimitives.Multiply(dr, sc / s, dr);
                if (eps != 0f) TensorPrimitives.Subtract(dr, sc * eps / V, dr);
                dr[t] -= sc * (1f - eps);
            }
        });
    }

    static void Validate(string k, ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int N, int V)
    {
        Check.Dims(k, (nameof(N), N), (nameof(V), V));
        Check.Positive(k, nameof(V), V);
        Check.Len(k, nameof(logits), logits, (long)N * V);
        Check.Len(k, nameof(targets), targets, N);
        Check.Targets(k, targets, N, V);
    }
}
