// The distillation loss terms on one row, each returning its value and writing its gradient: soft KL, hard CE, hidden MSE, cosine.
using System.Numerics.Tensors;

namespace LightGlm.Compression.Distillation;

public static class DistillationLoss
{
    /// <summary>
    /// Soft-label term (Hinton): τ²·KL(p_t ‖ p_s), p = softmax(z/τ). dL/dz_s = τ·(p_s − p_t). The τ² keeps its gradient's
    /// scale independent of τ. Teacher logits may be top-k only: pass the teacher's kept ids in <paramref name="teacherIds"/>
    /// (the other teacher logits are taken as −∞, i.e. p_t renormalised over the top k). Gradient is ADDED, times scale.
    /// </summary>
    public static double SoftKl(ReadOnlySpan<float> zs, ReadOnlySpan<float> zt, ReadOnlySpan<int> teacherIds, float tau, float scale, Span<float> dzs)
    {
        int V = zs.Length;
        var ps = new float[V];
        TensorPrimitives.Divide(zs, tau, ps);
        TensorPrimitives.SoftMax(ps, ps);
        var pt = new float[V];
        if (teacherIds.IsEmpty)
        {
            TensorPrimitives.Divide(zt, tau, pt);
            TensorPrimitives.SoftMax(pt, pt);
        }
        else
        {
            var top = new float[zt.Length];
            TensorPrimitives.Divide(zt, tau, top);
            TensorPrimitives.SoftMax(top, top);
            for (int i = 0; i < teacherIds.Length; i++) pt[teacherIds[i]] += top[i];
        }
        double kl = 0;
        for (int v = 0; v < V; v++)
        {
            if (pt[v] > 0) kl += pt[v] * (Math.Log(pt[v]) - Math.Log(Math.Max(ps[v], 1e-30f)));
            dzs[v] += scale * tau * (ps[v] - pt[v]);
        }
        return tau * tau * kl;
    }

    /// <summary>Hard-label CE: −log softmax(z)[y]; dL/dz = softmax(z) − onehot(y). Gradient ADDED, times scale.</summary>
    public static double HardCe(ReadOnlySpan<float> z, int y, float scale, Span<float> dz)
    {
        var p = new float[z.Length];
        TensorPrimitives.SoftMax(z, p);
        for (int v = 0; v < z.Length; v++) dz[v] += scale * p[v];
        dz[y] -= scale;
        return -Math.Log(Math.Max(p[y], 1e-30f));
    }

    /// <summary>
    /// Eq. 10 on one row: ½ Σ_i (h_t,i − (P·h_s)_i)², P (Ct, Cs) a learned projection (null = identity when Ct = Cs).
    /// dL/dh_s = −Pᵀ r, dL/dP = −r h_sᵀ with r = h_t − P h_s. Gradients ADDED, times scale.
    /// </summary>
    public static double HiddenMse(ReadOnlySpan<float> hs, ReadOnlySpan<float> ht, float[]? p, float scale, Span<float> dhs, Span<float> dp)
    {
        int cs = hs.Length, ct = ht.Length;
        var r = new float[ct];
        if (p is null)
        {
            if (cs != ct) throw new ArgumentException($"hidden widths differ (student {cs}, teacher {ct}): a projection is needed");
            TensorPrimitives.Subtract(ht, hs, r);
        }
        else
            for (int i = 0; i < ct; i++) r[i] = ht[i] - TensorPrimitives.Dot(new ReadOnlySpan<float>(p, i * cs, cs), hs);
        double loss = 0.5 * TensorPrimitives.SumOfSquares(r);
        if (p is null) TensorPrimitives.MultiplyAdd(r, -scale, dhs, dhs);
        else
            for (int i = 0; i < ct; i++)
            {
                var row = new ReadOnlySpan<float>(p, i * cs, cs);
                TensorPrimitives.MultiplyAdd(row, -scale * r[i], dhs, dhs);
                if (!dp.IsEmpty) TensorPrimitives.MultiplyAdd(hs, -scale * r[i], dp.Slice(i * cs, cs), dp.Slice(i * cs, cs));
            }
        return loss;
    }

    /// <summary>DistilBERT's cosine term: 1 − cos(h_s, h_t) (equal widths). dL/dh_s = −(h_t/(|h_s||h_t|) − cos·h_s/|h_s|²). ADDED, times scale.</summary>
    public static double Cosine(ReadOnlySpan<float> hs, ReadOnlySpan<float> ht, float scale, Span<float> dhs)
    {
        double ns = Math.Sqrt(TensorPrimitives.SumOfSquares(hs)) + 1e-12, nt = Math.Sqrt(TensorPrimitives.SumOfSquares(ht)) + 1e-12;
        double cos = TensorPrimitives.Dot(hs, ht) / (ns * nt);
        for (int i = 0; i < hs.Length; i++) dhs[i] += (float)(-scale * (ht[i] / (ns * nt) - cos * hs[i] / (ns * ns)));
        return 1 - cos;
    }
}
